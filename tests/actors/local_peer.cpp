#include "p2p0mq/actors/local_peer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/connector.hpp"
#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "support/log_capture.hpp"
#include "support/loopback.hpp"
#include "support/settings.hpp"
#include "support/sqlite.hpp"
#include "support/wait.hpp"

using namespace p2p0mq;
using namespace std::chrono_literals;
using p2p0mq::testing::test_settings;
using p2p0mq::testing::wait_until;

namespace {

using loopback = p2p0mq::testing::loopback;

/// The bound on every wait for a connection or an answer: generous, for a
/// loaded machine and the sanitizers' slowness. It bounds a wait and is no
/// speed target (the benchmarks measure speed); each wait ends as soon as
/// its condition holds.
constexpr auto connect_limit = std::chrono::milliseconds{60000};

/// Owner of test requests: forwards drops to `listener`.
owner_actor::behavior_type owner_impl(owner_actor::pointer,
                                      caf::actor listener) {
  return {
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [listener](dropped_atom, const message& msg, const caf::error& err) {
        caf::anon_send(listener, dropped_atom::value, msg, err);
      },
  };
}

/// A concern that answers like echo but throws on a request whose payload
/// has the key "explode"; replies go to `listener`.
concern_actor::behavior_type flaky_impl(concern_actor::pointer self,
                                        concern_context ctx,
                                        caf::actor listener) {
  return {
      [self, ctx, listener](incoming_atom, const std::vector<message>& msgs) {
        for (auto& msg : msgs) {
          if (msg.is_reply()) {
            caf::anon_send(listener, incoming_atom::value, msg);
            continue;
          }
          if (msg.payload.contains("explode"))
            throw std::runtime_error("flaky concern exploded on purpose");
          self->send(ctx.sender, outgoing_atom::value,
                     ctx.make_reply(msg, msg.payload, self->clock().now()),
                     priority::fast, owner_actor{self});
        }
      },
      [](tick_atom) {},
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
      [](changed_atom, const std::vector<peer_change>&) {},
      [](due_atom, due_kind, const std::vector<peer>&) {},
      [](wanted_atom, const std::vector<wanted_route>&) {},
      [](stats_atom) { return concern_counters{}; },
  };
}

concern_factory flaky(caf::actor listener) {
  return [listener](caf::local_actor* parent, concern_context ctx) {
    return parent->spawn(flaky_impl, std::move(ctx), listener);
  };
}

/// Sends a request for `command` from `from` to `to` and waits for its reply
/// at `self` (the listener of `from`'s concern), at most `limit`. Returns
/// whether it came; the ids of other replies that came meanwhile go to
/// `others`.
bool round_trip(caf::scoped_actor& self, local_peer& from, const local_peer& to,
                const std::string& command, const owner_actor& owner,
                payload body = payload{},
                std::chrono::milliseconds limit = connect_limit,
                std::set<std::uint64_t>* others = nullptr) {
  auto msg = from.context().make_request(to.uuid(), command, std::move(body),
                                         std::chrono::steady_clock::now());
  auto id = msg.id;
  from.send(std::move(msg), priority::fast, owner);
  bool answered = false;
  bool done = false;
  while (!done) {
    self->receive(
        [&](incoming_atom, const message& reply) {
          if (reply.id == id && reply.source == to.uuid()) {
            answered = true;
            done = true;
          } else if (others) {
            others->insert(reply.id);
          }
        },
        [&](dropped_atom, const message&, const caf::error&) { done = true; },
        caf::after(limit) >> [&] { done = true; });
  }
  return answered;
}

} // namespace

TEST_CASE("two local peers reach CONNECTED on both sides, each at the "
          "other's address",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  REQUIRE(a->port() != 0);
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(net.connected_both_ways(*a, *b, connect_limit));
  auto seen_by_b = b->find_peer(a->uuid());
  REQUIRE(seen_by_b);
  CHECK(seen_by_b->host == "127.0.0.1");
  CHECK(seen_by_b->port == a->port());
}

TEST_CASE("a local peer that stops and starts again on its port is "
          "reconnected",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  // b has a ZeroMQ context of its own, like a peer in its own process: its
  // port is free as soon as it stopped.
  auto b = std::make_unique<local_peer>(net.sys, test_settings("peer-b-0002"));
  REQUIRE(!b->start());
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  auto port = b->port();
  b->stop();
  CHECK(!b->running());
  b.reset();
  auto settings = test_settings("peer-b-0002");
  settings.port = port;
  auto b2 = std::make_unique<local_peer>(net.sys, settings);
  REQUIRE(!b2->start());
  REQUIRE(!b2->add_peer(a->uuid(), "127.0.0.1", a->port()));
  CHECK(net.connected_both_ways(*a, *b2, connect_limit));
  // Traffic flows both ways again.
  caf::scoped_actor self{net.sys};
  auto owner = net.sys.spawn(owner_impl, caf::actor_cast<caf::actor>(self));
  REQUIRE(!a->add_concern("echo", echo(caf::actor_cast<caf::actor>(self))));
  REQUIRE(!b2->add_concern("echo", echo(caf::actor_cast<caf::actor>(self))));
  CHECK(round_trip(self, *a, *b2, "echo", owner));
  CHECK(round_trip(self, *b2, *a, "echo", owner));
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("a local peer that restarts with its uuid on another port is "
          "reconnected",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  // b has a context of its own, like a peer in its own process.
  auto b = std::make_unique<local_peer>(net.sys, test_settings("peer-b-0002"));
  REQUIRE(!b->start());
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  auto old_port = b->port();
  b->stop();
  b.reset();
  auto b2 = std::make_unique<local_peer>(net.sys, test_settings("peer-b-0002"));
  REQUIRE(!b2->start());
  REQUIRE(b2->port() != old_port);
  REQUIRE(!b2->add_peer(a->uuid(), "127.0.0.1", a->port()));
  CHECK(net.connected_both_ways(*a, *b2, connect_limit));
  auto seen = a->find_peer(b2->uuid());
  REQUIRE(seen);
  CHECK(seen->port == b2->port());
}

TEST_CASE("20 local peers in one process, each seeded with one other, reach "
          "CONNECTED with their seeds",
          "[local_peer][loopback]") {
  loopback net;
  std::vector<std::unique_ptr<local_peer>> peers;
  for (int i = 0; i < 20; ++i)
    peers.emplace_back(net.start("peer-" + std::to_string(100 + i)));
  for (std::size_t i = 0; i < peers.size(); ++i) {
    // Peer i is seeded with peer i+7 (mod 20): a ring of strides.
    auto& seed = *peers[(i + 7) % peers.size()];
    REQUIRE(!peers[i]->add_peer(seed.uuid(), "127.0.0.1", seed.port()));
  }
  auto all_connected = [&] {
    for (std::size_t i = 0; i < peers.size(); ++i) {
      auto& seed = *peers[(i + 7) % peers.size()];
      if (!loopback::sees(*peers[i], seed, peer_state::connected) ||
          !loopback::sees(seed, *peers[i], peer_state::connected))
        return false;
    }
    return true;
  };
  CHECK(wait_until(net.sys, all_connected, connect_limit));
}

TEST_CASE("four local peers in a line, each told only the next: A's echo "
          "request reaches D through B and C, and D's reply comes back",
          "[local_peer][loopback][routing]") {
  loopback net;
  std::vector<std::unique_ptr<local_peer>> line;
  for (auto& uuid :
       {"line-a-0001", "line-b-0002", "line-c-0003", "line-d-0004"})
    line.emplace_back(net.start(uuid));
  auto& a = *line[0];
  auto& b = *line[1];
  auto& c = *line[2];
  auto& d = *line[3];
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    REQUIRE(!line[i]->add_peer(line[i + 1]->uuid(), "127.0.0.1",
                               line[i + 1]->port()));
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    REQUIRE(net.connected_both_ways(*line[i], *line[i + 1], connect_limit));
  caf::scoped_actor self{net.sys};
  auto listener = caf::actor_cast<caf::actor>(self);
  auto owner = net.sys.spawn(owner_impl, listener);
  REQUIRE(!a.add_concern("echo", echo(listener)));
  REQUIRE(!d.add_concern("echo", echo(listener)));
  CHECK(round_trip(self, a, d, "echo", owner));
  // The hints that took it there, and the reverse paths.
  auto via = [](local_peer& x, const local_peer& y) {
    auto p = x.find_peer(y.uuid());
    return p && p->state == peer_state::routed ? p->via : std::string{};
  };
  CHECK(via(a, d) == b.uuid());
  CHECK(via(b, d) == c.uuid());
  CHECK(via(c, a) == b.uuid());
  CHECK(via(d, a) == c.uuid());
  // D reaches A by the reverse path; both relays forwarded both ways.
  CHECK(round_trip(self, d, a, "echo", owner));
  for (auto* relay : {&b, &c}) {
    caf::scoped_actor asker{net.sys};
    router_stats st;
    auto ask = [&] {
      asker->request(relay->router(), connect_limit, stats_atom::value)
          .receive([&](router_stats& x) { st = x; },
                   [&](caf::error& err) { FAIL(render(err)); });
    };
    // The relay's sender tells its router of each message after sending
    // it, so the last reply may reach its end before the router hears it
    // went. Heart-beats between A and D may be on their way through it too.
    CHECK(wait_until(
        net.sys,
        [&] {
          ask();
          return st.sent >= 4;
        },
        connect_limit));
    CHECK(st.sent <= st.received);
    CHECK(st.dropped == 0);
    // The same counters in its metrics.
    auto m = relay->metrics();
    REQUIRE(m);
    CHECK(m->router.sent >= st.sent);
  }
  // A asked around for D and learned its route from B's answer; B passed
  // A's question on to C, which answered.
  auto ma = a.metrics();
  auto mb = b.metrics();
  auto mc = c.metrics();
  REQUIRE(ma);
  REQUIRE(mb);
  REQUIRE(mc);
  CHECK(ma->ask_around.searches >= 1);
  CHECK(ma->ask_around.questions >= 1);
  CHECK(ma->ask_around.routes_found >= 1);
  CHECK(mb->ask_around.passed_on >= 1);
  CHECK(mc->ask_around.answered >= 1);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("metrics hold each peer's heart-beat round trips and the traffic "
          "by peer and by concern, counted alike on both sides",
          "[local_peer][loopback][metrics]") {
  auto started = std::chrono::steady_clock::now();
  loopback net;
  auto fast = [&](const std::string& uuid) {
    auto settings = test_settings(uuid);
    settings.heart_beat_interval = 50ms;
    return net.start(settings);
  };
  auto a = fast("peer-a-0001");
  auto b = fast("peer-b-0002");
  caf::scoped_actor self{net.sys};
  auto listener = caf::actor_cast<caf::actor>(self);
  auto owner = net.sys.spawn(owner_impl, listener);
  REQUIRE(!a->add_concern("flaky", flaky(listener)));
  REQUIRE(!b->add_concern("flaky", flaky(listener)));
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  auto of = [](const local_peer_metrics& m, const std::string& uuid) {
    for (auto& p : m.peers)
      if (p.uuid == uuid)
        return p;
    FAIL("no peer " << uuid);
    return peer_metrics{};
  };
  auto concern = [](const local_peer_metrics& m, const std::string& command) {
    for (auto& c : m.concerns)
      if (c.command == command)
        return c;
    FAIL("no concern " << command);
    return concern_metrics{};
  };
  // Three answered heart-beats or more.
  CHECK(wait_until(
      net.sys,
      [&] {
        auto m = a->metrics();
        return m && of(*m, b->uuid()).round_trips.count >= 3;
      },
      connect_limit));
  CHECK(round_trip(self, *a, *b, "flaky", owner));
  auto ma = a->metrics();
  auto mb = b->metrics();
  REQUIRE(ma);
  REQUIRE(mb);
  auto pb = of(*ma, b->uuid());
  auto rtt = pb.round_trips;
  CHECK(rtt.last() > 0s);
  CHECK(rtt.min() <= rtt.mean());
  CHECK(rtt.mean() <= rtt.max());
  // No round trip took longer than the pair has existed.
  CHECK(rtt.max() < std::chrono::steady_clock::now() - started);
  CHECK(pb.in.messages >= 3);
  CHECK(pb.in.bytes > pb.in.messages);
  CHECK(pb.out.messages >= 3);
  CHECK(pb.out.dropped == 0);
  // One request and its reply, seen from both ends.
  auto fa = concern(*ma, "flaky");
  auto fb = concern(*mb, "flaky");
  CHECK(fa.out.messages == 1);
  CHECK(fa.in.messages == 1);
  CHECK(fb.in.messages == 1);
  CHECK(fb.out.messages == 1);
  CHECK(fa.out.bytes == fb.in.bytes);
  CHECK(fb.out.bytes == fa.in.bytes);
  auto hb = concern(*ma, "hb");
  CHECK(hb.out.messages >= 3);
  CHECK(hb.in.messages >= 3);
  CHECK(concern(*ma, "hello").out.messages >= 1);
  CHECK(concern(*ma, "r").out.messages == 0);
  // The totals are the sums.
  std::uint64_t sent = 0;
  for (auto& c : ma->concerns)
    sent += c.out.messages;
  CHECK(sent == ma->sender.sent);
  // In JSON and in Prometheus text.
  auto json = to_json(*ma);
  CHECK(json.find("\"peer-b-0002\": {\"state\": \"CONNECTED\"") !=
        std::string::npos);
  // The last round trip in seconds, to the microsecond. A JSON number: under
  // 100 us it reads as, say, 9.5e-05.
  std::string last_key = "\"rtt\": {\"last\": ";
  auto last_at = json.find(last_key);
  REQUIRE(last_at != std::string::npos);
  auto last = std::strtod(json.c_str() + last_at + last_key.size(), nullptr);
  CHECK(last ==
        Approx(std::chrono::duration<double>(rtt.last()).count()).margin(1e-6));
  CHECK(json.find("\"flaky\": {\"in\": {\"messages\": 1, \"bytes\": " +
                  std::to_string(fa.in.bytes) + "}") != std::string::npos);
  auto text = to_prometheus(*ma);
  CHECK(text.find("\np2p0mq_peer_rtt_seconds{local=\"peer-a-0001\","
                  "peer=\"peer-b-0002\"} 0.") != std::string::npos);
  CHECK(text.find("\np2p0mq_concern_sent_messages_total{local=\"peer-a-0001\","
                  "command=\"flaky\"} 1\n") != std::string::npos);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("a concern that throws is restarted and traffic continues",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  caf::scoped_actor self{net.sys};
  auto listener = caf::actor_cast<caf::actor>(self);
  auto owner = net.sys.spawn(owner_impl, listener);
  REQUIRE(!a->add_concern("flaky", flaky(listener)));
  REQUIRE(!b->add_concern("flaky", flaky(listener)));
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  CHECK(round_trip(self, *a, *b, "flaky", owner));
  // This request makes b's concern throw.
  auto boom = a->context().make_request(
      b->uuid(), "flaky", payload_builder{}.add_integer("explode", 1).build(),
      std::chrono::steady_clock::now());
  auto boom_id = boom.id;
  a->send(std::move(boom), priority::fast, owner);
  // The supervisor restarted it: a later request is answered (a request that
  // reached the concern while it was down may go unanswered: each attempt
  // waits 5 s). The one that made it throw is never answered: its reply
  // would have come before the later one's.
  std::set<std::uint64_t> others;
  CHECK(wait_until(
      net.sys,
      [&] {
        return round_trip(self, *a, *b, "flaky", owner, payload{}, 5s, &others);
      },
      connect_limit));
  CHECK(others.count(boom_id) == 0);
  auto commands = b->remove_concern("flaky");
  REQUIRE(commands);
  CHECK(*commands);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("malformed frames from a raw ZeroMQ client do not disturb a "
          "running peer",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  // A raw client connects to b's receiver like a peer would, with a
  // certificate b trusts.
  REQUIRE(b->certificates());
  auto& store = *b->certificates();
  auto keys = store.load_or_create_own("raw-client");
  REQUIRE(keys);
  REQUIRE(!b->reload_certificates());
  zmq::socket_t raw{*net.zmq_context, zmq::socket_type::dealer};
  raw.set(zmq::sockopt::routing_id, zmq::str_buffer("raw-client"));
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::curve_publickey, keys->public_key);
  raw.set(zmq::sockopt::curve_secretkey, keys->secret_key);
  raw.set(zmq::sockopt::curve_serverkey, *store.public_key(b->uuid()));
  raw.connect("tcp://127.0.0.1:" + std::to_string(b->port()));
  auto send_parts = [&](std::vector<std::string> parts) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      raw.send(zmq::buffer(parts[i]), i + 1 < parts.size()
                                          ? zmq::send_flags::sndmore
                                          : zmq::send_flags::none);
  };
  auto hello = payload_builder{}.add_string("host", "x").build().bytes();
  // The receiver sees the routing id as frame 0, so a DEALER sends 6 parts
  // for a well-formed 7-frame message.
  send_parts({"", "", "\x01", "hello", "\x01"});                 // 6 frames
  send_parts({"", "", "\x01", "hello", "\xc1", hello});          // bad id
  send_parts({"", "", "\x01", "", "\x01", hello});               // no command
  send_parts({"", "", "\x07", "hello", "\x01", hello});          // bad kind
  send_parts({"", "", "\x01", "hello", "\x01", "\x92\x01\x02"}); // not a map
  send_parts({"", "", "\x01", "nosuchcmd", "\x01", "\x80"});     // unknown
  CHECK(wait_until(
      net.sys, [&] { return b->receiver().malformed() == 5; }, connect_limit));
  CHECK(b->running());
  // The pair still works.
  caf::scoped_actor self{net.sys};
  auto owner = net.sys.spawn(owner_impl, caf::actor_cast<caf::actor>(self));
  REQUIRE(!a->add_concern("echo", echo(caf::actor_cast<caf::actor>(self))));
  REQUIRE(!b->add_concern("echo", echo(caf::actor_cast<caf::actor>(self))));
  CHECK(round_trip(self, *a, *b, "echo", owner));
  CHECK(loopback::sees(*b, *a, peer_state::connected));
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("a connected pair logs nothing at the default level while "
          "heart-beats flow",
          "[local_peer][loopback][log]") {
  auto& log = p2p0mq::testing::log_capture::install();
  REQUIRE(log_enabled(log_level::warning, log_category::heart_beat));
  REQUIRE_FALSE(log_enabled(log_level::info, log_category::heart_beat));
  loopback net;
  auto fast = [&](const std::string& uuid) {
    auto settings = test_settings(uuid);
    settings.heart_beat_interval = 50ms;
    auto result =
        std::make_unique<local_peer>(net.sys, settings, net.zmq_context);
    REQUIRE(!result->start());
    return result;
  };
  auto a = fast("peer-a-0001");
  auto b = fast("peer-b-0002");
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, connect_limit));
  auto mark = log.mark();
  auto received = b->receiver().received();
  // Twenty heart-beat exchanges or more.
  CHECK(wait_until(
      net.sys, [&] { return b->receiver().received() >= received + 20; },
      connect_limit));
  CHECK(net.connected_both_ways(*a, *b, 0ms));
  CHECK(log.count(mark, {}) == 0);
}

TEST_CASE("when start returns, the dispatcher knows the built-in concerns: "
          "a greeting that comes at once finds its concern",
          "[local_peer][loopback]") {
  // The receiver reads from its start on; the concerns are registered by
  // the supervisor. start() waits for that, so nothing the receiver hands
  // the dispatcher comes before them (the dispatcher takes this request
  // after every registration).
  for (int round = 0; round < 5; ++round) {
    // A loopback (and ZeroMQ context) of its own each round: a context
    // takes its authenticator's endpoint back only once it is closed.
    loopback net;
    auto a = net.start("peer-a-000" + std::to_string(round));
    caf::scoped_actor self{net.sys};
    bool asked = false;
    self->request(a->dispatcher(), caf::infinite, stats_atom::value)
        .receive(
            [&](const dispatcher_stats& st) {
              asked = true;
              for (auto* command :
                   {connector_command, heart_beat_command, ask_around_command})
                CHECK(st.commands.count(command) == 1);
            },
            [&](const caf::error& err) {
              FAIL("no stats: " << net.sys.render(err));
            });
    CHECK(asked);
    a->stop();
  }
}

TEST_CASE("stop is idempotent and start refuses to run twice",
          "[local_peer][loopback]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  CHECK(a->start() == make_error(errc::already_started));
  a->stop();
  a->stop();
  CHECK(!a->running());
  CHECK(a->add_peer("peer-b-0002", "127.0.0.1", 1) ==
        make_error(errc::not_started));
}

TEST_CASE("a local peer reports a port it cannot bind", "[local_peer]") {
  loopback net;
  auto a = net.start("peer-a-0001");
  auto settings = test_settings("peer-b-0002");
  settings.port = a->port();
  local_peer b{net.sys, settings, net.zmq_context};
  auto err = b.start();
  CHECK(err == make_error(errc::socket_error));
  CHECK(!b.running());
}

// -- peer store ---------------------------------------------------------------

TEST_CASE("a local peer restarted on its database keeps its uuid and its "
          "peers, and contacts them",
          "[local_peer][loopback][peer_store]") {
  loopback net;
  p2p0mq::testing::temp_dir dir;
  auto b = net.start("peer-b-0002");
  auto settings = test_settings();
  settings.database = dir / "a.db";
  std::string uuid;
  {
    // A ZeroMQ context of its own, like a peer in its own process: its port
    // is free again as soon as it stopped.
    local_peer a{net.sys, settings};
    auto err = a.start();
    INFO(render(err));
    REQUIRE(!err);
    uuid = a.uuid();
    CHECK(uuid.size() == 32);
    REQUIRE(!a.add_peer(b->uuid(), "127.0.0.1", b->port()));
    REQUIRE(!a.add_peer("gone-0003", "127.0.0.1", 1));
    REQUIRE(net.connected_both_ways(a, *b, connect_limit));
    settings.port = a.port();
    a.stop();
  }
  // No uuid in the settings: the database's wins over a generated one, and
  // b knows it by that uuid at the same address.
  local_peer again{net.sys, settings};
  auto err = again.start();
  INFO(render(err));
  REQUIRE(!err);
  CHECK(again.uuid() == uuid);
  auto peers = again.peers();
  REQUIRE(peers);
  REQUIRE(peers->size() == 2);
  CHECK(again.find_peer("gone-0003"));
  auto seen = again.find_peer(b->uuid());
  REQUIRE(seen);
  CHECK(seen->port == b->port());
  CHECK(seen->db_id);
  CHECK(net.connected_both_ways(again, *b, connect_limit));
}

TEST_CASE("a row inserted into a running local peer's database is contacted",
          "[local_peer][loopback][peer_store]") {
  loopback net;
  p2p0mq::testing::temp_dir dir;
  auto b = net.start("peer-b-0002");
  auto settings = test_settings("peer-a-0001");
  settings.database = dir / "a.db";
  settings.store_sync_interval = 100ms;
  local_peer a{net.sys, settings, net.zmq_context};
  REQUIRE(!a.start());
  p2p0mq::testing::sql_connection{settings.database}.exec(
      "INSERT INTO p2p0mq_peers(uuid, host, port) VALUES('peer-b-0002', "
      "'127.0.0.1', " +
      std::to_string(b->port()) + ")");
  CHECK(net.connected_both_ways(a, *b, connect_limit));
}

TEST_CASE("a local peer does not start on a file that is not a database",
          "[local_peer][peer_store]") {
  loopback net;
  p2p0mq::testing::temp_dir dir;
  auto settings = test_settings("peer-a-0001");
  settings.database = dir / "junk.db";
  std::ofstream{settings.database} << std::string(4096, 'j');
  local_peer a{net.sys, settings, net.zmq_context};
  auto err = a.start();
  CHECK(err == make_error(errc::store_corrupt));
  CHECK_THAT(context_of(err), Catch::Matchers::StartsWith(settings.database));
  CHECK(!a.running());
}

TEST_CASE("a local peer does not start when its uuid differs from its "
          "database's",
          "[local_peer][peer_store]") {
  loopback net;
  p2p0mq::testing::temp_dir dir;
  auto settings = test_settings("peer-a-0001");
  settings.database = dir / "a.db";
  {
    local_peer a{net.sys, settings, net.zmq_context};
    REQUIRE(!a.start());
  }
  settings.uuid = "peer-z-0009";
  local_peer z{net.sys, settings, net.zmq_context};
  auto err = z.start();
  CHECK(err == make_error(errc::store_uuid_mismatch));
  CHECK_THAT(context_of(err), Catch::Matchers::StartsWith(settings.database));
  CHECK(!z.running());
}

TEST_CASE("metrics render as JSON and as Prometheus text with every field, "
          "names escaped",
          "[local_peer][metrics]") {
  local_peer_metrics m;
  m.uuid = "peer-a-0001";
  m.host = "127.0.0.1";
  m.port = 7000;
  m.router.sent = 4;
  m.ask_around.routes_found = 2;
  m.unknown_command = 1;
  concern_metrics odd;
  odd.command = "q\"u\\o\nte";
  odd.in = {3, 30};
  odd.out.messages = 2;
  odd.out.bytes = 20;
  odd.out.send_failed = 1;
  odd.out.dropped = 5;
  m.concerns.push_back(odd);
  peer_metrics quiet;
  quiet.uuid = "peer-q-0003";
  peer_metrics busy;
  busy.uuid = "peer-b-0002";
  busy.state = peer_state::connected;
  busy.round_trips.add(250us);
  busy.round_trips.add(750us);
  busy.in = {7, 70};
  busy.out.messages = 6;
  busy.out.bytes = 60;
  m.peers = {busy, quiet};
  auto json = to_json(m);
  for (auto part :
       {"\"receiver\": {\"received\": 0, \"malformed\": 0, \"impostors\": 0, "
        "\"handshake_failures\": 0, \"unknown_command\": 1}",
        "\"router\": {\"received\": 0, \"sent\": 4, \"dropped\": 0, "
        "\"looped\": 0}",
        "\"ask_around\": {\"searches\": 0, \"questions\": 0, \"answered\": 0, "
        "\"passed_on\": 0, \"routes_found\": 2}",
        "\"concerns\": {\"q\\\"u\\\\o\\nte\": {\"in\": {\"messages\": 3, "
        "\"bytes\": 30}, \"out\": {\"messages\": 2, \"bytes\": 20, "
        "\"send_failed\": 1, \"dropped\": 5}}}",
        "\"rtt\": {\"last\": 0.00075, \"min\": 0.00025, \"mean\": 0.0005, "
        "\"max\": 0.00075, \"samples\": 2, \"count\": 2}, \"in\": "
        "{\"messages\": 7, \"bytes\": 70}, \"out\": {\"messages\": 6, "
        "\"bytes\": 60, \"send_failed\": 0, \"dropped\": 0}}",
        "\"peer-q-0003\": {\"state\": \"INITIAL\"", "\"rtt\": null"}) {
    INFO(part);
    CHECK(json.find(part) != std::string::npos);
  }
  auto text = to_prometheus(m);
  std::string local = "{local=\"peer-a-0001\",";
  for (auto line :
       {"p2p0mq_peer_rtt_seconds" + local + "peer=\"peer-b-0002\"} 0.000750",
        "p2p0mq_peer_rtt_mean_seconds" + local +
            "peer=\"peer-b-0002\"} 0.000500",
        "p2p0mq_peer_heart_beats_answered_total" + local +
            "peer=\"peer-q-0003\"} 0",
        "p2p0mq_peer_received_bytes_total" + local + "peer=\"peer-b-0002\"} 70",
        "p2p0mq_concern_dropped_messages_total" + local +
            "command=\"q\\\"u\\\\o\\nte\"} 5",
        "p2p0mq_concern_failed_sends_total" + local +
            "command=\"q\\\"u\\\\o\\nte\"} 1",
        std::string{"p2p0mq_routed_sent_total{local=\"peer-a-0001\"} 4"},
        std::string{
            "p2p0mq_ask_around_routes_found_total{local=\"peer-a-0001\"} 2"}}) {
    INFO(line);
    CHECK(text.find("\n" + line + "\n") != std::string::npos);
  }
  // No round trip for a peer that never answered a beat.
  CHECK(text.find("p2p0mq_peer_rtt_seconds" + local + "peer=\"peer-q-0003\"") ==
        std::string::npos);
  // Every sample belongs to the family of the TYPE line before it, and each
  // family has one.
  std::string family;
  std::vector<std::string> families;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    REQUIRE(end != std::string::npos);
    auto line = text.substr(start, end - start);
    start = end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      CHECK(std::find(families.begin(), families.end(), family) ==
            families.end());
      families.push_back(family);
    } else if (line.rfind("# HELP ", 0) != 0) {
      INFO(line);
      CHECK(line.compare(0, family.size() + 1, family + "{") == 0);
    }
  }
  CHECK(families.size() == 39);
}

TEST_CASE("system_config takes a boolean option alone, =true and =false on "
          "the command line, over the config file",
          "[system_config]") {
  auto parse = [](std::vector<std::string> args, const std::string& ini) {
    auto cfg = std::make_unique<system_config>();
    std::istringstream file{ini};
    auto err = cfg->parse(std::move(args), file);
    return std::make_pair(std::move(cfg), err);
  };
  SECTION("=false and =true") {
    auto [off, err] = parse({"--p2p0mq.encryption=false"}, "");
    REQUIRE(!err);
    CHECK_FALSE(off->settings.encryption);
    auto [on, err2] = parse({"--p2p0mq.encryption=true"}, "");
    REQUIRE(!err2);
    CHECK(on->settings.encryption);
  }
  SECTION("the command line wins over the config file, in every spelling") {
    auto file = "[p2p0mq]\nencryption=false\n";
    auto [from_file, err] = parse({}, file);
    REQUIRE(!err);
    CHECK_FALSE(from_file->settings.encryption);
    auto [alone, err2] = parse({"--p2p0mq.encryption"}, file);
    REQUIRE(!err2);
    CHECK(alone->settings.encryption);
    auto [given, err3] = parse({"--p2p0mq.encryption=true"}, file);
    REQUIRE(!err3);
    CHECK(given->settings.encryption);
    CHECK(caf::get_or(given->content, "p2p0mq.encryption", false));
  }
  SECTION("with the arguments of main, beside other options") {
    system_config cfg;
    std::string program = "app";
    std::string flag = "--p2p0mq.encryption=false";
    std::string other = "--p2p0mq.heart-beat-interval=2s";
    char* argv[] = {program.data(), flag.data(), other.data(), nullptr};
    REQUIRE(!cfg.parse(3, argv));
    CHECK_FALSE(cfg.settings.encryption);
    CHECK(cfg.settings.heart_beat_interval == 2s);
  }
  SECTION("another value is an error naming the argument") {
    auto [cfg, err] = parse({"--p2p0mq.encryption=yes please"}, "");
    CHECK(is(err, errc::invalid_config));
    CHECK_THAT(context_of(err),
               Catch::Matchers::Contains("--p2p0mq.encryption=yes please"));
  }
}
