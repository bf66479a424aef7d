#include "p2p0mq/actors/sender.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/testing/deterministic.hpp"

using namespace std::chrono_literals;
using p2p0mq::testing::deterministic;

namespace p2p0mq {
namespace {

// -- a fake transport ---------------------------------------------------------

/// What the fake transport saw, owned by the test (the sender owns the
/// transport itself).
struct wire_record {
  struct attempt {
    frames xs;
    send_status status;
  };

  std::vector<std::pair<std::string, std::string>> connects;
  std::vector<std::string> lost;
  std::vector<std::string> forgotten;
  std::vector<attempt> attempts;
  /// Decides the status of each attempt; none means always `sent`.
  std::function<send_status(const frames&)> script;
  /// What `connect` returns.
  caf::error connect_error;
  bool destroyed = false;

  std::size_t count(send_status x) const {
    std::size_t result = 0;
    for (auto& a : attempts)
      if (a.status == x)
        ++result;
    return result;
  }
};

class fake_transport : public transport {
public:
  explicit fake_transport(std::shared_ptr<wire_record> rec)
      : rec_(std::move(rec)) {
  }

  ~fake_transport() override {
    rec_->destroyed = true;
  }

  caf::error connect(const std::string& uuid,
                     const std::string& endpoint) override {
    rec_->connects.emplace_back(uuid, endpoint);
    return rec_->connect_error;
  }

  void lost(const std::string& endpoint) override {
    rec_->lost.push_back(endpoint);
  }

  void forget(const std::string& uuid) override {
    rec_->forgotten.push_back(uuid);
  }

  send_status send(const frames& xs, caf::error& err) override {
    auto status = rec_->script ? rec_->script(xs) : send_status::sent;
    if (status == send_status::unreachable)
      err = make_error(errc::peer_unreachable, "fake");
    else if (status != send_status::sent)
      err = make_error(errc::socket_error, "fake");
    rec_->attempts.push_back({xs, status});
    return status;
  }

private:
  std::shared_ptr<wire_record> rec_;
};

// -- an owner -----------------------------------------------------------------

/// Everything one owner heard, in order.
struct outcomes {
  enum kind { sent, failed, dropped };

  struct event {
    kind what;
    message msg;
    caf::error err;
  };

  std::vector<event> events;
  /// The size of each `sent` heard, in order.
  std::vector<std::size_t> sent_batches;
  /// The answer to `send_failed`; none means "no".
  std::function<bool(const message&)> retry;

  std::vector<event> of(kind x) const {
    std::vector<event> result;
    for (auto& e : events)
      if (e.what == x)
        result.push_back(e);
    return result;
  }
};

owner_actor::behavior_type owner_impl(owner_actor::pointer, outcomes* out) {
  return {
      [out](sent_atom, std::vector<message>& msgs) {
        out->sent_batches.push_back(msgs.size());
        for (auto& msg : msgs)
          out->events.push_back({outcomes::sent, std::move(msg), caf::error{}});
      },
      [out](send_failed_atom, message& msg, caf::error& err) {
        auto again = out->retry ? out->retry(msg) : false;
        out->events.push_back(
            {outcomes::failed, std::move(msg), std::move(err)});
        return again;
      },
      [out](dropped_atom, message& msg, caf::error& err) {
        out->events.push_back(
            {outcomes::dropped, std::move(msg), std::move(err)});
      },
  };
}

/// The message id in frames handed to the wire.
std::uint64_t id_of(const frames& xs) {
  auto msg = decode(std::vector<std::string>(xs.begin(), xs.end()), "me");
  REQUIRE(msg);
  return msg->id;
}

bool has_code(const caf::error& err, errc x) {
  return err.category() == error_category &&
         err.code() == static_cast<std::uint8_t>(x);
}

// -- fixture ------------------------------------------------------------------

const std::string local_uuid = "local-0000";

struct fixture {
  deterministic det;
  std::shared_ptr<wire_record> wire = std::make_shared<wire_record>();
  std::shared_ptr<config> settings = std::make_shared<config>();
  outcomes out;
  owner_actor owner;
  sender_actor sender;

  fixture() {
    owner = det.sys().spawn(owner_impl, &out);
  }

  ~fixture() {
    stop();
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
    det.run();
  }

  void start() {
    sender = spawn_sender(det.sys(), local_uuid, settings,
                          std::make_unique<fake_transport>(wire));
    det.run();
  }

  /// The sender's stop sequence, then its exit.
  void stop() {
    if (!sender)
      return;
    caf::anon_send(sender, stop_atom::value);
    caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
    sender = nullptr;
    det.run();
  }

  /// A request from us to `to`, going there directly (`next_hop` = `to`).
  message make(std::string to, std::uint64_t id, std::string command = "x",
               duration ttl = 30s) {
    return make_request(local_uuid, std::move(to), std::move(command), id,
                        payload{}, det.now() + ttl);
  }

  /// Like `make`, with no next hop: the sender picks it by route.
  message make_routed(std::string to, std::uint64_t id,
                      std::string command = "x", duration ttl = 30s) {
    auto result = make(std::move(to), id, std::move(command), ttl);
    result.next_hop.clear();
    return result;
  }

  /// Hands `msg` over without running the system.
  void post(message msg, priority prio = priority::fast) {
    caf::anon_send(sender, outgoing_atom::value, std::move(msg), prio, owner);
  }

  void hand(message msg, priority prio = priority::fast) {
    post(std::move(msg), prio);
    det.run();
  }

  void route(const std::string& uuid, peer_state state, std::string via = {},
             bool relays = true) {
    caf::anon_send(sender, route_atom::value, uuid, state, std::move(via),
                   relays);
    det.run();
  }

  sender_stats stats() {
    caf::scoped_actor self{det.sys()};
    auto handle = self->request(sender, caf::infinite, stats_atom::value);
    det.run();
    sender_stats result;
    handle.receive([&](sender_stats& x) { result = x; },
                   [&](caf::error& err) {
                     FAIL("stats failed: " << det.sys().render(err));
                   });
    return result;
  }

  bool timer_pending() {
    return det.sched().has_pending_timeout();
  }
};

} // namespace

// -- basics -------------------------------------------------------------------

TEST_CASE(
    "sender hands a message with a next hop to the wire and reports it sent",
    "[sender]") {
  fixture f;
  f.start();
  auto msg = f.make("peer-0001", 7);
  f.hand(msg);
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs == msg.encode(local_uuid));
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::sent);
  CHECK(f.out.events[0].msg == msg);
  auto st = f.stats();
  CHECK(st.sent == 1);
  CHECK(st.dropped == 0);
  CHECK(st.queued == 0);
  CHECK(st.held == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender connects through its transport and logs a failed connect",
          "[sender]") {
  // Everything runs on this thread, so the sink needs no lock.
  std::vector<std::string> warnings;
  set_log_sink([&](log_level level, log_category cat, std::string_view line) {
    if (level == log_level::warning && cat == log_category::sender)
      warnings.emplace_back(line);
  });
  struct restore_sink {
    ~restore_sink() {
      set_log_sink({});
    }
  } restore;
  fixture f;
  f.start();
  caf::anon_send(f.sender, connect_atom::value, std::string{"peer-0001"},
                 std::string{"tcp://127.0.0.1:5555"});
  f.det.run();
  f.wire->connect_error = make_error(errc::socket_error, "fake");
  caf::anon_send(f.sender, connect_atom::value, std::string{"peer-0002"},
                 std::string{"tcp://nowhere:1"});
  f.det.run();
  REQUIRE(f.wire->connects.size() == 2);
  CHECK(f.wire->connects[0].first == "peer-0001");
  CHECK(f.wire->connects[0].second == "tcp://127.0.0.1:5555");
  CHECK(f.wire->connects[1].first == "peer-0002");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("tcp://nowhere:1") != std::string::npos);
  // Later sends to it are tried, and fail or not as the wire says.
  f.hand(f.make("peer-0002", 1));
  CHECK(f.stats().sent == 1);
}

TEST_CASE("a send that finds no connection after a failed connect reports "
          "the connect's error",
          "[sender]") {
  fixture f;
  f.start();
  f.wire->connect_error =
      make_error(errc::missing_certificate, "/certs/public/peer-0001.key");
  caf::anon_send(f.sender, connect_atom::value, std::string{"peer-0001"},
                 std::string{"tcp://127.0.0.1:5555"});
  f.det.run();
  f.wire->script = [](const frames&) { return send_status::unreachable; };
  f.hand(f.make("peer-0001", 1));
  REQUIRE(f.out.events.size() == 2);
  CHECK(f.out.events[0].what == outcomes::failed);
  CHECK(has_code(f.out.events[0].err, errc::missing_certificate));
  CHECK(p2p0mq::context_of(f.out.events[0].err) ==
        "/certs/public/peer-0001.key");
  CHECK(f.out.events[1].what == outcomes::dropped);
  // A connect that succeeds clears the reason.
  f.wire->connect_error = caf::none;
  caf::anon_send(f.sender, connect_atom::value, std::string{"peer-0001"},
                 std::string{"tcp://127.0.0.1:5555"});
  f.det.run();
  f.hand(f.make("peer-0001", 2));
  REQUIRE(f.out.events.size() == 4);
  CHECK(has_code(f.out.events[2].err, errc::peer_unreachable));
}

TEST_CASE("sender passes a lost connection on to its transport", "[sender]") {
  fixture f;
  f.start();
  caf::anon_send(f.sender, lost_atom::value,
                 std::string{"tcp://127.0.0.1:5555"});
  f.det.run();
  CHECK(f.wire->lost == std::vector<std::string>{"tcp://127.0.0.1:5555"});
}

TEST_CASE("sender forgets an evicted peer: its route, its connect error and "
          "its connection go, and messages for it wait for a route again",
          "[sender]") {
  fixture f;
  f.start();
  f.wire->connect_error =
      make_error(errc::missing_certificate, "/certs/public/peer-0001.key");
  caf::anon_send(f.sender, connect_atom::value, std::string{"peer-0001"},
                 std::string{"tcp://127.0.0.1:5555"});
  f.det.run();
  f.route("peer-0001", peer_state::connected);
  f.hand(f.make_routed("peer-0001", 1));
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "peer-0001");
  // Evicted: the transport is told, once.
  caf::anon_send(f.sender, remove_atom::value, std::string{"peer-0001"});
  f.det.run();
  CHECK(f.wire->forgotten == std::vector<std::string>{"peer-0001"});
  // The route is gone: a message without a next hop waits.
  f.hand(f.make_routed("peer-0001", 2));
  CHECK(f.wire->attempts.size() == 1);
  CHECK(f.stats().held == 1);
  // The connect error is gone: a send that finds no connection reports
  // that, not the old reason.
  f.wire->script = [](const frames&) { return send_status::unreachable; };
  f.hand(f.make("peer-0001", 3));
  REQUIRE(f.wire->attempts.size() == 2);
  auto failed = f.out.of(outcomes::failed);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].msg.id == 3);
  CHECK(has_code(failed[0].err, errc::peer_unreachable));
  // A new route takes the waiting message.
  f.wire->script = nullptr;
  f.route("peer-0001", peer_state::connected);
  REQUIRE(f.wire->attempts.size() == 3);
  CHECK(id_of(f.wire->attempts[2].xs) == 2);
  CHECK(f.stats().held == 0);
  auto sent = f.out.of(outcomes::sent);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].msg.id == 1);
  CHECK(sent[1].msg.id == 2);
}

TEST_CASE("sender drops a message handed over after its deadline as expired",
          "[sender]") {
  fixture f;
  f.start();
  f.hand(f.make("peer-0001", 1, "x", 0s));
  CHECK(f.wire->attempts.empty());
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::dropped);
  CHECK(has_code(f.out.events[0].err, errc::message_expired));
}

// -- routes -------------------------------------------------------------------

TEST_CASE("sender holds a message without a next hop until its destination is "
          "connected",
          "[sender]") {
  fixture f;
  f.start();
  auto msg = f.make_routed("peer-0001", 1);
  f.hand(msg);
  CHECK(f.wire->attempts.empty());
  CHECK(f.stats().held == 1);
  f.route("peer-0001", peer_state::connecting);
  CHECK(f.wire->attempts.empty());
  f.route("peer-0001", peer_state::connected);
  REQUIRE(f.wire->attempts.size() == 1);
  auto& xs = f.wire->attempts[0].xs;
  CHECK(xs[0] == "peer-0001");
  CHECK(xs[2].empty());
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::sent);
  CHECK(f.out.events[0].msg.next_hop == "peer-0001");
  CHECK(f.stats().held == 0);
}

TEST_CASE("sender sends a message to a connected peer at once", "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0001", peer_state::connected);
  f.hand(f.make_routed("peer-0001", 1));
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "peer-0001");
}

TEST_CASE("sender sends a message to a routed peer through its via",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0001", peer_state::routed, "relay-0001");
  f.hand(f.make_routed("peer-0001", 1));
  REQUIRE(f.wire->attempts.size() == 1);
  auto& xs = f.wire->attempts[0].xs;
  CHECK(xs[0] == "relay-0001");
  CHECK(xs[1].empty());
  CHECK(xs[2] == "peer-0001");
}

TEST_CASE("sender sends only heart-beats to an unreachable peer", "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0001", peer_state::unreachable);
  f.hand(f.make_routed("peer-0001", 1, "hello"));
  f.hand(f.make_routed("peer-0001", 2, "hb"));
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[4] == "hb");
  CHECK(f.wire->attempts[0].xs[0] == "peer-0001");
  CHECK(f.stats().held == 1);
  SECTION("through its via when it has one") {
    f.route("peer-0001", peer_state::unreachable, "relay-0001");
    f.hand(f.make_routed("peer-0001", 3, "hb"));
    REQUIRE(f.wire->attempts.size() == 2);
    CHECK(f.wire->attempts[1].xs[0] == "relay-0001");
    CHECK(f.stats().held == 1);
  }
  SECTION("and the others go when it is connected again") {
    f.route("peer-0001", peer_state::connected);
    REQUIRE(f.wire->attempts.size() == 2);
    CHECK(f.wire->attempts[1].xs[4] == "hello");
    CHECK(f.stats().held == 0);
  }
}

TEST_CASE("sender sends a message with a next hop there, whatever the route "
          "table says",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0001", peer_state::no_connection);
  auto msg = f.make("peer-0001", 1);
  msg.next_hop = "relay-0001";
  f.hand(msg);
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "relay-0001");
}

TEST_CASE("sender drops a waiting message at its deadline and leaves no timer",
          "[sender]") {
  fixture f;
  f.start();
  f.hand(f.make_routed("peer-0001", 1, "x", 5s));
  CHECK(f.timer_pending());
  f.det.advance_time(5s - 1ms);
  CHECK(f.out.events.empty());
  f.det.advance_time(1ms);
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::dropped);
  CHECK(has_code(f.out.events[0].err, errc::message_expired));
  CHECK(f.wire->attempts.empty());
  CHECK(f.stats().held == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender holds a message without a deadline without a timer",
          "[sender]") {
  fixture f;
  f.start();
  auto msg = f.make_routed("peer-0001", 1);
  msg.deadline = time_point::max();
  f.hand(msg);
  CHECK_FALSE(f.timer_pending());
  f.route("peer-0001", peer_state::connected);
  CHECK(f.stats().sent == 1);
}

// -- routing rules ------------------------------------------------------------

namespace {

/// Asks the sender of `f` which destinations it holds messages for without a
/// route.
std::vector<wanted_route> wanted(fixture& f) {
  caf::scoped_actor self{f.det.sys()};
  auto handle = self->request(f.sender, caf::infinite, find_atom::value);
  f.det.run();
  std::vector<wanted_route> result;
  handle.receive([&](std::vector<wanted_route>& xs) { result = std::move(xs); },
                 [&](caf::error& err) {
                   FAIL("find failed: " << f.det.sys().render(err));
                 });
  std::sort(result.begin(), result.end(),
            [](const wanted_route& x, const wanted_route& y) {
              return x.target < y.target;
            });
  return result;
}

} // namespace

TEST_CASE("sender sends a message without a route through the default route "
          "while that peer is connected",
          "[sender]") {
  fixture f;
  f.settings->default_route = "relay-0001";
  f.start();
  f.hand(f.make_routed("peer-0001", 1));
  CHECK(f.wire->attempts.empty());
  // The default route comes up: the waiting message goes through it.
  f.route("relay-0001", peer_state::connected);
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "relay-0001");
  CHECK(f.wire->attempts[0].xs[2] == "peer-0001");
  // New messages too, for peers in every state without a route of their own.
  for (auto state : {peer_state::initial, peer_state::connecting,
                     peer_state::no_connection}) {
    f.route("peer-0001", state);
    f.hand(f.make_routed("peer-0001", 2));
    CHECK(f.wire->attempts.back().xs[0] == "relay-0001");
  }
  // A route of its own wins.
  f.route("peer-0001", peer_state::routed, "relay-0002");
  f.hand(f.make_routed("peer-0001", 3));
  CHECK(f.wire->attempts.back().xs[0] == "relay-0002");
  f.route("peer-0001", peer_state::connected);
  f.hand(f.make_routed("peer-0001", 4));
  CHECK(f.wire->attempts.back().xs[0] == "peer-0001");
  // An UNREACHABLE peer gets heart-beats only, not through the default
  // route.
  auto before = f.wire->attempts.size();
  f.route("peer-0001", peer_state::unreachable);
  f.hand(f.make_routed("peer-0001", 5));
  CHECK(f.wire->attempts.size() == before);
  // The default route goes down: messages wait again.
  f.route("peer-0002", peer_state::initial);
  f.route("relay-0001", peer_state::no_connection);
  f.hand(f.make_routed("peer-0002", 6));
  CHECK(f.wire->attempts.size() == before);
  CHECK(f.stats().held == 2);
}

TEST_CASE("sender sends nothing for other peers through a default route that "
          "does not relay",
          "[sender]") {
  fixture f;
  f.settings->default_route = "python-01";
  f.start();
  // A legacy peer (a Python peer): CONNECTED, but it cannot forward.
  f.route("python-01", peer_state::connected, {}, false);
  f.hand(f.make_routed("peer-0001", 1));
  CHECK(f.wire->attempts.empty());
  // Messages for the legacy peer itself go straight to it.
  f.hand(f.make_routed("python-01", 2));
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "python-01");
  CHECK(f.wire->attempts[0].xs[2].empty());
  // The first message waits until its deadline, and its owner hears why.
  f.det.advance_time(30s);
  auto dropped = f.out.of(outcomes::dropped);
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].msg.id == 1);
  CHECK(has_code(dropped[0].err, errc::message_expired));
}

TEST_CASE("sender never sends a message back to the peer it came from",
          "[sender]") {
  fixture f;
  f.settings->default_route = "relay-0001";
  f.start();
  f.route("relay-0001", peer_state::connected);
  f.route("peer-0001", peer_state::routed, "relay-0002");
  f.route("relay-0002", peer_state::connected);
  // From relay-0002 for peer-0001, whose via is relay-0002: it waits.
  auto msg = f.make_routed("peer-0001", 1);
  msg.source = "peer-0003";
  msg.previous_hop = "relay-0002";
  f.hand(msg);
  // From relay-0001 for a peer without a route: not back through the
  // default route.
  auto other = f.make_routed("peer-0002", 2);
  other.source = "relay-0001";
  other.previous_hop = "relay-0001";
  f.hand(other);
  CHECK(f.wire->attempts.empty());
  CHECK(f.stats().held == 2);
  // Both are wanted: there is no way for them but back.
  auto xs = wanted(f);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].target == "peer-0001");
  CHECK(xs[0].exclude == std::vector<std::string>{"peer-0003", "relay-0002"});
  CHECK(xs[1].target == "peer-0002");
  CHECK(xs[1].exclude == std::vector<std::string>{"relay-0001"});
  // Another way for peer-0001 releases its message.
  f.route("peer-0001", peer_state::routed, "relay-0003");
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "relay-0003");
  CHECK(f.wire->attempts[0].xs[1] == "peer-0003");
}

// -- reverse paths ------------------------------------------------------------

namespace {

/// A message from `source` for `to` that came to us through `relay`, for us
/// to forward (no next hop): what the router hands the sender.
message forwarded(fixture& f, std::string source, std::string relay,
                  std::string to, std::uint64_t id,
                  message_kind kind = message_kind::request) {
  auto msg = make_request(std::move(source), std::move(to), "x", id, payload{},
                          f.det.now() + 30s);
  msg.kind = kind;
  msg.next_hop.clear();
  msg.previous_hop = std::move(relay);
  return msg;
}

/// The next hop of the last attempt, after handing a message for `to`.
std::string hop_to(fixture& f, const std::string& to, std::uint64_t id) {
  auto before = f.wire->attempts.size();
  f.hand(f.make_routed(to, id));
  if (f.wire->attempts.size() == before)
    return "(none: it waits)";
  return f.wire->attempts.back().xs[0];
}

} // namespace

TEST_CASE("sender sends a message for a peer without a route back the way "
          "that peer's messages came, while that way is fresh",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0009", peer_state::connected);
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 7));
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.wire->attempts[0].xs[0] == "peer-0009");
  CHECK(hop_to(f, "peer-0003", 1) == "relay-0002");
  CHECK(f.wire->attempts.back().xs[2] == "peer-0003");
  // For every state without a route of its own.
  for (auto state : {peer_state::initial, peer_state::connecting,
                     peer_state::no_connection}) {
    f.route("peer-0003", state);
    CHECK(hop_to(f, "peer-0003", 2) == "relay-0002");
  }
  // It goes before a ROUTED peer's via (older: kept while the peer is
  // heard by any way); a direct link goes before it.
  f.route("peer-0003", peer_state::routed, "relay-0005");
  CHECK(hop_to(f, "peer-0003", 3) == "relay-0002");
  f.route("peer-0003", peer_state::connected);
  CHECK(hop_to(f, "peer-0003", 4) == "peer-0003");
  // An UNREACHABLE peer still gets heart-beats only.
  f.route("peer-0003", peer_state::unreachable);
  CHECK(hop_to(f, "peer-0003", 5) == "(none: it waits)");
  // Silent on that way for exactly the unresponsive threshold: still fresh;
  // a moment later, the way is forgotten: the via of a ROUTED peer is taken
  // again, and without one messages wait.
  f.route("peer-0003", peer_state::no_connection);
  f.det.advance_time(f.settings->unresponsive_threshold);
  CHECK(hop_to(f, "peer-0003", 6) == "relay-0002");
  f.det.advance_time(1ms);
  CHECK(hop_to(f, "peer-0003", 7) == "(none: it waits)");
  f.route("peer-0003", peer_state::routed, "relay-0005");
  REQUIRE(f.wire->attempts.size() >= 2);
  CHECK(f.wire->attempts.back().xs[0] == "relay-0005");
  CHECK(f.stats().held == 0);
}

TEST_CASE("sender sends the messages waiting for a peer when a message of "
          "that peer comes through a relay",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0009", peer_state::connected);
  f.hand(f.make_routed("peer-0003", 1));
  f.hand(f.make_routed("peer-0003", 2));
  CHECK(f.wire->attempts.empty());
  REQUIRE(wanted(f).size() == 1);
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 40));
  REQUIRE(f.wire->attempts.size() == 3);
  std::vector<std::uint64_t> ids;
  for (auto& x : f.wire->attempts)
    if (x.xs[2] == "peer-0003") {
      CHECK(x.xs[0] == "relay-0002");
      ids.push_back(id_of(x.xs));
    }
  CHECK(ids == std::vector<std::uint64_t>{1, 2});
  CHECK(f.stats().held == 0);
  CHECK(wanted(f).empty());
}

TEST_CASE("sender moves the way back to a peer for a newer request of it, not "
          "for an older one or a reply, until the way is stale",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0009", peer_state::connected);
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 10));
  // An older request, and a reply (it carries another peer's id), that
  // took another way: they went before the newest, so the way stays.
  f.hand(forwarded(f, "peer-0003", "relay-0003", "peer-0009", 9));
  f.hand(forwarded(f, "peer-0003", "relay-0003", "peer-0009", 500,
                   message_kind::reply));
  CHECK(hop_to(f, "peer-0003", 1) == "relay-0002");
  // The same id again on another way (a copy round a loop) does not move it.
  f.hand(forwarded(f, "peer-0003", "relay-0003", "peer-0009", 10));
  CHECK(hop_to(f, "peer-0003", 2) == "relay-0002");
  // A newer request does.
  f.hand(forwarded(f, "peer-0003", "relay-0003", "peer-0009", 11));
  CHECK(hop_to(f, "peer-0003", 3) == "relay-0003");
  // Traffic on the way keeps it fresh past the threshold.
  f.det.advance_time(f.settings->unresponsive_threshold - 1s);
  f.hand(forwarded(f, "peer-0003", "relay-0003", "peer-0009", 2,
                   message_kind::reply));
  f.det.advance_time(2s);
  CHECK(hop_to(f, "peer-0003", 4) == "relay-0003");
  // Once the way is stale, a request with a low id (the peer restarted and
  // numbers from 1 again) moves it.
  f.det.advance_time(f.settings->unresponsive_threshold + 1ms);
  f.hand(forwarded(f, "peer-0003", "relay-0004", "peer-0009", 1));
  CHECK(hop_to(f, "peer-0003", 5) == "relay-0004");
  // From then on the new numbering counts: the same id on another way
  // keeps the way, the next id moves it.
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 1));
  CHECK(hop_to(f, "peer-0003", 6) == "relay-0004");
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 2));
  CHECK(hop_to(f, "peer-0003", 7) == "relay-0002");
}

TEST_CASE("sender never sends a message back the way it came, even when that "
          "is the way back to its destination",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0009", peer_state::connected);
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 10));
  // From relay-0002, for peer-0003, reached back through relay-0002 only.
  f.hand(forwarded(f, "peer-0004", "relay-0002", "peer-0003", 1));
  CHECK(f.wire->attempts.size() == 1);
  CHECK(f.stats().held == 1);
  // Another way back to peer-0003 releases it.
  f.hand(forwarded(f, "peer-0003", "relay-0006", "peer-0009", 11));
  REQUIRE(f.wire->attempts.size() == 3);
  CHECK(f.wire->attempts[1].xs[0] == "relay-0006");
  CHECK(f.wire->attempts[1].xs[1] == "peer-0004");
  CHECK(f.stats().held == 0);
}

TEST_CASE("sender takes a ROUTED peer's via for a message that came the way "
          "back to that peer",
          "[sender]") {
  fixture f;
  f.start();
  f.route("peer-0009", peer_state::connected);
  f.route("peer-0003", peer_state::routed, "relay-0005");
  f.hand(forwarded(f, "peer-0003", "relay-0002", "peer-0009", 10));
  f.hand(forwarded(f, "peer-0004", "relay-0002", "peer-0003", 1));
  REQUIRE(f.wire->attempts.size() == 2);
  CHECK(f.wire->attempts[1].xs[0] == "relay-0005");
  CHECK(f.wire->attempts[1].xs[1] == "peer-0004");
  // Another message for it, from elsewhere, goes the way back.
  f.hand(forwarded(f, "peer-0004", "relay-0007", "peer-0003", 2));
  REQUIRE(f.wire->attempts.size() == 3);
  CHECK(f.wire->attempts[2].xs[0] == "relay-0002");
}

TEST_CASE("sender lists the destinations its messages wait for without a "
          "route, each once, with the oldest message's source and previous hop",
          "[sender]") {
  fixture f;
  f.start();
  CHECK(wanted(f).empty());
  auto forwarded = f.make_routed("peer-0001", 1);
  forwarded.source = "peer-0005";
  forwarded.previous_hop = "peer-0006";
  f.hand(forwarded);
  f.hand(f.make_routed("peer-0001", 2));
  f.hand(f.make_routed("peer-0002", 3));
  f.hand(f.make_routed("peer-0003", 4, "x"));
  f.route("peer-0003", peer_state::unreachable);
  f.route("peer-0002", peer_state::connecting);
  auto xs = wanted(f);
  REQUIRE(xs.size() == 2);
  CHECK(xs[0].target == "peer-0001");
  CHECK(xs[0].exclude == std::vector<std::string>{"peer-0005", "peer-0006"});
  CHECK(xs[1].target == "peer-0002");
  CHECK(xs[1].exclude.empty());
  // Once routed, a destination is no longer wanted.
  f.route("peer-0001", peer_state::routed, "relay-0001");
  xs = wanted(f);
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].target == "peer-0002");
}

namespace {

/// Records the destinations a sender says start to wait.
route_watcher_actor::behavior_type
route_watcher_impl(route_watcher_actor::pointer,
                   std::vector<std::string>* targets) {
  return {
      [targets](wanted_atom, const std::vector<wanted_route>& xs) {
        for (auto& x : xs)
          targets->push_back(x.target);
      },
  };
}

} // namespace

TEST_CASE("sender tells its route watchers of each destination that starts "
          "to wait for a route",
          "[sender]") {
  fixture f;
  f.start();
  std::vector<std::string> targets;
  auto watcher = f.det.sys().spawn(route_watcher_impl, &targets);
  caf::anon_send(f.sender, subscribe_atom::value, watcher);
  f.det.run();
  f.hand(f.make_routed("peer-0001", 1));
  CHECK(targets == std::vector<std::string>{"peer-0001"});
  // Not for another message to the same destination.
  f.hand(f.make_routed("peer-0001", 2));
  CHECK(targets.size() == 1);
  f.hand(f.make_routed("peer-0002", 3));
  CHECK(targets == std::vector<std::string>{"peer-0001", "peer-0002"});
  // Nor for an UNREACHABLE peer, nor for a message that has a route.
  f.route("peer-0003", peer_state::unreachable);
  f.hand(f.make_routed("peer-0003", 4));
  f.route("peer-0004", peer_state::connected);
  f.hand(f.make_routed("peer-0004", 5));
  CHECK(targets.size() == 2);
  // Once its messages left, a destination that waits again is told again.
  f.route("peer-0001", peer_state::connected);
  f.route("peer-0001", peer_state::no_connection);
  f.hand(f.make_routed("peer-0001", 6));
  CHECK(targets ==
        std::vector<std::string>{"peer-0001", "peer-0002", "peer-0001"});
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

// -- limits -------------------------------------------------------------------

TEST_CASE("sender holding as many messages as it may drops the next with "
          "send_queue_full",
          "[sender]") {
  fixture f;
  f.settings->send_queue_limit = 2;
  f.start();
  f.hand(f.make_routed("peer-0001", 1));
  f.hand(f.make_routed("peer-0001", 2));
  f.hand(f.make_routed("peer-0001", 3));
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::dropped);
  CHECK(f.out.events[0].msg.id == 3);
  CHECK(has_code(f.out.events[0].err, errc::send_queue_full));
  f.route("peer-0001", peer_state::connected);
  f.hand(f.make_routed("peer-0001", 4));
  CHECK(f.out.of(outcomes::sent).size() == 3);
}

// -- counters -----------------------------------------------------------------

TEST_CASE("sender counts sent messages and their bytes, failed sends and "
          "drops by peer and by command",
          "[sender][metrics]") {
  fixture f;
  f.settings->send_queue_limit = 2;
  f.start();
  // peer-0001: two sent (one of them through relay-0001), one failed then
  // dropped.
  f.route("peer-0002", peer_state::routed, "relay-0001");
  f.hand(f.make("peer-0001", 1, "hb"));
  f.hand(f.make("peer-0001", 300, "echo"));
  f.hand(f.make_routed("peer-0002", 2, "echo"));
  f.wire->script = [](const frames&) { return send_status::unreachable; };
  f.hand(f.make("peer-0001", 3, "hb"));
  // Waiting for a route, then dropped as full, then expired: counted under
  // its destination.
  f.wire->script = nullptr;
  f.hand(f.make_routed("peer-0003", 4, "echo", 1s));
  f.hand(f.make_routed("peer-0003", 5, "echo", 1s));
  f.hand(f.make_routed("peer-0003", 6, "echo", 1s));
  f.det.advance_time(1s);
  REQUIRE(f.wire->attempts.size() == 4);
  auto bytes = [&](std::size_t i) {
    std::uint64_t n = 0;
    for (std::size_t k = 1; k < frame_count; ++k)
      n += f.wire->attempts[i].xs[k].size();
    return n;
  };
  // kind, "hb", id 1 and {}: the source and destination frames are empty.
  CHECK(bytes(0) == 1 + 2 + 1 + 1);
  auto st = f.stats();
  CHECK(st.sent == 3);
  CHECK(st.send_failed == 1);
  CHECK(st.dropped == 4);
  REQUIRE(st.peers.size() == 3);
  auto& one = st.peers["peer-0001"];
  CHECK(one.messages == 2);
  CHECK(one.bytes == bytes(0) + bytes(1));
  CHECK(one.send_failed == 1);
  CHECK(one.dropped == 1);
  auto& relay = st.peers["relay-0001"];
  CHECK(relay.messages == 1);
  CHECK(relay.bytes == bytes(2));
  auto& three = st.peers["peer-0003"];
  CHECK(three.messages == 0);
  CHECK(three.dropped == 3);
  REQUIRE(st.commands.size() == 2);
  auto& hb = st.commands["hb"];
  CHECK(hb.messages == 1);
  CHECK(hb.bytes == bytes(0));
  CHECK(hb.send_failed == 1);
  CHECK(hb.dropped == 1);
  auto& echo = st.commands["echo"];
  CHECK(echo.messages == 2);
  CHECK(echo.bytes == bytes(1) + bytes(2));
  CHECK(echo.send_failed == 0);
  CHECK(echo.dropped == 3);
}

// -- failures -----------------------------------------------------------------

TEST_CASE("sender tries a failed send again after the retry delay when the "
          "owner asks for it",
          "[sender]") {
  fixture f;
  f.start();
  f.out.retry = [](const message&) { return true; };
  f.wire->script = [&](const frames&) {
    return f.wire->attempts.empty() ? send_status::unreachable
                                    : send_status::sent;
  };
  f.hand(f.make("peer-0001", 1));
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::failed);
  CHECK(has_code(f.out.events[0].err, errc::peer_unreachable));
  CHECK(f.stats().held == 1);
  f.det.advance_time(f.settings->send_retry_delay - 1ms);
  CHECK(f.wire->attempts.size() == 1);
  f.det.advance_time(1ms);
  REQUIRE(f.wire->attempts.size() == 2);
  REQUIRE(f.out.events.size() == 2);
  CHECK(f.out.events[1].what == outcomes::sent);
  auto st = f.stats();
  CHECK(st.send_failed == 1);
  CHECK(st.sent == 1);
  CHECK(st.held == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender drops a failed send with its error when the owner declines",
          "[sender]") {
  fixture f;
  f.start();
  f.wire->script = [](const frames&) { return send_status::failed; };
  f.hand(f.make("peer-0001", 1));
  REQUIRE(f.out.events.size() == 2);
  CHECK(f.out.events[0].what == outcomes::failed);
  CHECK(f.out.events[1].what == outcomes::dropped);
  CHECK(has_code(f.out.events[1].err, errc::socket_error));
  CHECK(f.stats().held == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender drops a failed send as expired when its deadline passes "
          "during the retry delay",
          "[sender]") {
  fixture f;
  f.start();
  f.out.retry = [](const message&) { return true; };
  f.wire->script = [](const frames&) { return send_status::unreachable; };
  f.hand(f.make("peer-0001", 1, "x", 100ms));
  f.det.advance_time(f.settings->send_retry_delay);
  CHECK(f.wire->attempts.size() == 1);
  REQUIRE(f.out.events.size() == 2);
  CHECK(f.out.events[1].what == outcomes::dropped);
  CHECK(has_code(f.out.events[1].err, errc::message_expired));
}

TEST_CASE("sender drops a failed message of an owner that is gone",
          "[sender]") {
  fixture f;
  f.start();
  outcomes gone_out;
  auto gone = f.det.sys().spawn(owner_impl, &gone_out);
  caf::anon_send_exit(gone, caf::exit_reason::user_shutdown);
  f.det.run();
  f.wire->script = [](const frames&) { return send_status::unreachable; };
  caf::anon_send(f.sender, outgoing_atom::value, f.make("peer-0001", 1),
                 priority::fast, gone);
  f.det.run();
  auto st = f.stats();
  CHECK(st.send_failed == 1);
  CHECK(st.dropped == 1);
  CHECK(st.held == 0);
  CHECK(gone_out.events.empty());
}

TEST_CASE(
    "sender tries a full next hop again after the retry delay, not at once",
    "[sender]") {
  fixture f;
  f.start();
  f.wire->script = [&](const frames&) {
    return f.wire->attempts.size() < 2 ? send_status::would_block
                                       : send_status::sent;
  };
  f.hand(f.make("peer-0001", 1));
  CHECK(f.wire->attempts.size() == 1);
  CHECK(f.out.events.empty());
  CHECK(f.stats().held == 1);
  f.det.advance_time(f.settings->send_retry_delay);
  CHECK(f.wire->attempts.size() == 2);
  CHECK(f.out.events.empty());
  f.det.advance_time(f.settings->send_retry_delay);
  REQUIRE(f.wire->attempts.size() == 3);
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].what == outcomes::sent);
  CHECK(f.stats().send_failed == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender keeps the messages for a full next hop in line behind the "
          "first, tries only the first until it goes, and sends the others "
          "meanwhile",
          "[sender]") {
  fixture f;
  f.start();
  bool full = true;
  f.wire->script = [&](const frames& xs) {
    return full && xs[0] == "peer-a" ? send_status::would_block
                                     : send_status::sent;
  };
  f.post(f.make("peer-a", 1));
  f.post(f.make("peer-a", 2));
  f.post(f.make("peer-b", 3));
  f.post(f.make("peer-a", 4), priority::medium);
  f.det.run();
  // One attempt for peer-a; its other messages wait in line untried.
  auto tried = [&] {
    std::vector<std::uint64_t> ids;
    for (auto& a : f.wire->attempts)
      ids.push_back(id_of(a.xs));
    return ids;
  };
  CHECK(tried() == std::vector<std::uint64_t>{1, 3});
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].msg.id == 3);
  auto st = f.stats();
  CHECK(st.held == 3);
  CHECK(st.queued == 0);
  // Still full: only the first is tried again.
  f.det.advance_time(f.settings->send_blocked_delay);
  CHECK(tried() == std::vector<std::uint64_t>{1, 3, 1});
  // A message handed over meanwhile joins the end of the line.
  f.hand(f.make("peer-a", 5));
  CHECK(tried() == std::vector<std::uint64_t>{1, 3, 1});
  full = false;
  f.det.advance_time(f.settings->send_blocked_delay);
  CHECK(tried() == std::vector<std::uint64_t>{1, 3, 1, 1, 2, 4, 5});
  std::vector<std::uint64_t> sent;
  for (auto& e : f.out.of(outcomes::sent))
    sent.push_back(e.msg.id);
  CHECK(sent == std::vector<std::uint64_t>{3, 1, 2, 4, 5});
  // The line went in one go: its owner heard of it in one `sent`.
  CHECK(f.out.sent_batches == std::vector<std::size_t>{1, 4});
  CHECK(f.stats().held == 0);
  CHECK(f.stats().send_failed == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender drops a message that expires in line for a full next hop, "
          "and a routed one leaves the line when its route changes",
          "[sender]") {
  fixture f;
  f.settings->send_blocked_delay = 10ms;
  f.start();
  bool full = true;
  f.wire->script = [&](const frames& xs) {
    return full && xs[0] == "relay-1" ? send_status::would_block
                                      : send_status::sent;
  };
  f.route("peer-c", peer_state::routed, "relay-1");
  f.post(f.make("relay-1", 1, "x", 5ms));
  f.post(f.make_routed("peer-c", 2));
  f.det.run();
  REQUIRE(f.wire->attempts.size() == 1);
  CHECK(f.stats().held == 2);
  // Before the retry, peer-c becomes CONNECTED.
  f.route("peer-c", peer_state::connected);
  f.det.advance_time(f.settings->send_blocked_delay);
  auto dropped = f.out.of(outcomes::dropped);
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].msg.id == 1);
  CHECK(has_code(dropped[0].err, errc::message_expired));
  auto sent = f.out.of(outcomes::sent);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].msg.id == 2);
  CHECK(sent[0].msg.next_hop == "peer-c");
  CHECK(f.wire->attempts.size() == 2);
  CHECK(f.stats().held == 0);
  CHECK_FALSE(f.timer_pending());
}

TEST_CASE("sender takes a batch in one hand-over, sends it in one round and "
          "tells the owner of the messages one round sent in one outcome",
          "[sender]") {
  fixture f;
  f.start();
  std::vector<message> batch{f.make("peer-a", 1), f.make("peer-b", 2),
                             f.make("peer-a", 3)};
  caf::anon_send(f.sender, outgoing_atom::value, batch, priority::fast,
                 f.owner);
  // One message to the sender, its round run at once (a fast message), and
  // one `sent` to the owner.
  REQUIRE(f.det.run_once());
  CHECK(f.wire->attempts.size() == 3);
  REQUIRE(f.det.run_once());
  CHECK_FALSE(f.det.run_once());
  CHECK(f.out.sent_batches == std::vector<std::size_t>{3});
  REQUIRE(f.out.events.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(f.out.events[i].what == outcomes::sent);
    CHECK(f.out.events[i].msg == batch[i]);
  }
  // After stop, a batch is dropped message by message.
  auto sender = f.sender;
  caf::anon_send(sender, stop_atom::value);
  f.det.run();
  caf::anon_send(sender, outgoing_atom::value,
                 std::vector<message>{f.make("peer-a", 4), f.make("peer-a", 5)},
                 priority::slow, f.owner);
  f.det.run();
  auto dropped = f.out.of(outcomes::dropped);
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[0].msg.id == 4);
  CHECK(dropped[1].msg.id == 5);
  CHECK(has_code(dropped[0].err, errc::local_peer_stopped));
}

TEST_CASE("sender sends fast messages that wait in its mailbox together in "
          "one round after the last of them, and a lone one at once",
          "[sender]") {
  fixture f;
  f.start();
  // Three fast messages handed over one by one, before the sender runs: the
  // first finds two more behind it and asks for a round instead of sending.
  f.post(f.make("peer-a", 1));
  f.post(f.make("peer-b", 2));
  f.post(f.make("peer-a", 3));
  REQUIRE(f.det.run_once());
  CHECK(f.wire->attempts.empty());
  REQUIRE(f.det.run_once());
  REQUIRE(f.det.run_once());
  CHECK(f.wire->attempts.empty());
  // The round comes after them and sends all three, in the order they came;
  // their owner hears of them in one `sent`.
  REQUIRE(f.det.run_once());
  REQUIRE(f.wire->attempts.size() == 3);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(id_of(f.wire->attempts[i].xs) == i + 1);
  f.det.run();
  CHECK(f.out.sent_batches == std::vector<std::size_t>{3});
  // A fast message with nothing behind it goes in its own hand-over.
  f.post(f.make("peer-a", 4));
  REQUIRE(f.det.run_once());
  REQUIRE(f.wire->attempts.size() == 4);
  CHECK(id_of(f.wire->attempts[3].xs) == 4);
  f.det.run();
  CHECK(f.out.sent_batches == std::vector<std::size_t>{3, 1});
  CHECK(f.out.of(outcomes::sent).size() == 4);
}

// -- rounds -------------------------------------------------------------------

TEST_CASE("sender sends in one round all of fast, the oldest of each "
          "destination in medium and one of slow",
          "[sender]") {
  fixture f;
  f.start();
  // Handed over together, before the first round runs.
  f.post(f.make("peer-a", 1), priority::slow);
  f.post(f.make("peer-a", 2), priority::slow);
  f.post(f.make("peer-a", 3), priority::medium);
  f.post(f.make("peer-a", 4), priority::medium);
  f.post(f.make("peer-b", 5), priority::medium);
  f.post(f.make("peer-a", 6), priority::fast);
  f.post(f.make("peer-b", 7), priority::fast);
  // Stop after the first round: count the attempts when the sender's next
  // round is the only message left.
  for (std::size_t i = 0; i < 8; ++i)
    REQUIRE(f.det.run_once());
  std::vector<std::uint64_t> first_round;
  for (auto& a : f.wire->attempts)
    first_round.push_back(id_of(a.xs));
  CHECK(first_round == std::vector<std::uint64_t>{6, 7, 3, 5, 1});
  f.det.run();
  std::vector<std::uint64_t> all;
  for (auto& e : f.out.events)
    all.push_back(e.msg.id);
  CHECK(all == std::vector<std::uint64_t>{6, 7, 3, 5, 1, 4, 2});
  CHECK_FALSE(f.timer_pending());
}

// -- stop ---------------------------------------------------------------------

TEST_CASE("sender drops every message it holds with local_peer_stopped when it "
          "stops, then destroys its transport",
          "[sender]") {
  fixture f;
  f.start();
  f.out.retry = [](const message&) { return true; };
  f.wire->script = [](const frames& xs) {
    if (xs[0] == "full-peer")
      return send_status::would_block;
    if (xs[0] == "gone-peer")
      return send_status::unreachable;
    return send_status::sent;
  };
  // Waiting for a route.
  f.hand(f.make_routed("peer-0001", 1));
  // Waiting for the retry delay: full, and failed then retried.
  f.hand(f.make("full-peer", 2));
  f.hand(f.make("gone-peer", 3));
  auto st = f.stats();
  CHECK(st.sent == 0);
  CHECK(st.held == 3);
  // Still queued: slow messages go one per round. After the hand-overs and
  // the first round, the next round is the sender's only message; the exit
  // comes after it, so one more goes and one stays queued.
  f.post(f.make("peer-0002", 4), priority::slow);
  f.post(f.make("peer-0002", 5), priority::slow);
  f.post(f.make("peer-0002", 6), priority::slow);
  for (std::size_t i = 0; i < 4; ++i)
    REQUIRE(f.det.run_once());
  CHECK(f.wire->attempts.size() == 3);
  CHECK_FALSE(f.wire->destroyed);
  f.stop();
  CHECK(f.wire->destroyed);
  CHECK(f.out.of(outcomes::sent).size() == 2);
  std::vector<std::uint64_t> dropped;
  for (auto& e : f.out.of(outcomes::dropped)) {
    CHECK(has_code(e.err, errc::local_peer_stopped));
    dropped.push_back(e.msg.id);
  }
  std::sort(dropped.begin(), dropped.end());
  CHECK(dropped == std::vector<std::uint64_t>{1, 2, 3, 6});
}

TEST_CASE("sender hands a message back with all its fields as they were",
          "[sender]") {
  fixture f;
  f.start();
  // A forwarded message carries its previous hop; the sender hands it back
  // unchanged.
  auto msg = f.make("peer-0001", 9);
  msg.previous_hop = "peer-0002";
  msg.source = "peer-0002";
  f.hand(msg, priority::medium);
  REQUIRE(f.out.events.size() == 1);
  CHECK(f.out.events[0].msg == msg);
  CHECK(f.wire->attempts[0].xs == msg.encode(local_uuid));
}

// -- property -----------------------------------------------------------------

TEST_CASE("sender ends every message handed to it exactly once, whatever the "
          "wire, the owners and the routes do",
          "[sender]") {
  fixture f;
  f.settings->send_queue_limit = 40;
  std::mt19937_64 rng{20240611};
  auto chance = [&](double p) { return std::bernoulli_distribution{p}(rng); };
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng);
  };
  auto ms = [](std::size_t n) {
    return std::chrono::milliseconds{static_cast<std::int64_t>(n)};
  };
  const std::vector<std::string> peers{"peer-a", "peer-b", "peer-c", "peer-d",
                                       "peer-e"};
  const std::vector<peer_state> states{
      peer_state::initial, peer_state::connecting,  peer_state::connected,
      peer_state::routed,  peer_state::unreachable, peer_state::no_connection};
  // Three owners with their own logs, answering `send_failed` at random.
  std::vector<std::unique_ptr<outcomes>> logs;
  std::vector<owner_actor> owners;
  for (int i = 0; i < 3; ++i) {
    logs.push_back(std::make_unique<outcomes>());
    logs.back()->retry = [&](const message&) { return chance(0.6); };
    owners.push_back(f.det.sys().spawn(owner_impl, logs.back().get()));
  }
  // Every attempt: random status; never a message past its deadline.
  std::size_t late_attempts = 0;
  std::map<std::uint64_t, message> handed;
  f.wire->script = [&](const frames& xs) {
    auto id = id_of(xs);
    if (handed.at(id).expired(f.det.now()))
      ++late_attempts;
    auto x = pick(100);
    if (x < 55)
      return send_status::sent;
    if (x < 70)
      return send_status::would_block;
    if (x < 85)
      return send_status::unreachable;
    return send_status::failed;
  };
  f.start();
  std::map<std::uint64_t, std::size_t> owner_of;
  constexpr std::uint64_t total = 4000;
  std::uint64_t next_id = 1;
  while (next_id <= total) {
    auto action = pick(100);
    if (action < 70) {
      auto id = next_id++;
      auto& to = peers[pick(peers.size())];
      message msg = chance(0.3) ? f.make(to, id) : f.make_routed(to, id);
      msg.command = chance(0.2) ? "hb" : "x";
      msg.deadline =
          chance(0.1) ? time_point::max() : f.det.now() + ms(pick(3000));
      if (chance(0.2))
        msg.previous_hop = "prev-" + std::to_string(id);
      auto owner = pick(owners.size());
      owner_of[id] = owner;
      handed[id] = msg;
      caf::anon_send(f.sender, outgoing_atom::value, std::move(msg),
                     static_cast<priority>(pick(3)), owners[owner]);
    } else if (action < 80) {
      caf::anon_send(f.sender, route_atom::value, peers[pick(peers.size())],
                     states[pick(states.size())],
                     chance(0.5) ? std::string{} : std::string{"relay"},
                     chance(0.9));
    } else if (action < 85) {
      f.det.run();
      auto st = f.stats();
      CHECK(st.queued + st.held <= f.settings->send_queue_limit);
    } else {
      f.det.advance_time(ms(pick(400)));
    }
  }
  // Let every finite deadline pass, then stop.
  f.det.advance_time(5s);
  auto before_stop = f.stats();
  f.stop();
  for (auto& owner : owners)
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  f.det.run();
  CHECK(late_attempts == 0);
  // Exactly one final outcome per message, to its owner, after any
  // `send_failed`; the message comes back as it was handed over.
  std::map<std::uint64_t, int> finals;
  std::size_t sent = 0;
  std::size_t dropped = 0;
  std::size_t failed = 0;
  std::size_t stopped = 0;
  std::map<std::uint8_t, std::size_t> drop_reasons;
  for (std::size_t k = 0; k < logs.size(); ++k) {
    std::map<std::uint64_t, bool> done;
    for (auto& e : logs[k]->events) {
      auto id = e.msg.id;
      REQUIRE(owner_of.at(id) == k);
      CHECK_FALSE(done[id]);
      auto original = handed.at(id);
      if (original.next_hop.empty())
        original.next_hop = e.msg.next_hop;
      CHECK(e.msg == original);
      if (e.what == outcomes::failed) {
        ++failed;
        continue;
      }
      done[id] = true;
      ++finals[id];
      if (e.what == outcomes::sent) {
        ++sent;
      } else {
        ++dropped;
        if (has_code(e.err, errc::local_peer_stopped))
          ++stopped;
        ++drop_reasons[e.err.code()];
      }
    }
  }
  CHECK(sent + dropped == total);
  CHECK(finals.size() == total);
  for (auto& [id, n] : finals)
    CHECK(n == 1);
  CHECK(sent == f.wire->count(send_status::sent));
  CHECK(failed == f.wire->count(send_status::unreachable) +
                      f.wire->count(send_status::failed));
  CHECK(before_stop.sent == sent);
  CHECK(before_stop.send_failed == failed);
  CHECK(before_stop.dropped + stopped == dropped);
  CHECK(before_stop.queued + before_stop.held == stopped);
  // The counters by peer and by command add up to the totals.
  for (auto* by : {&before_stop.peers, &before_stop.commands}) {
    outgoing_traffic sum;
    for (auto& [key, x] : *by) {
      sum.messages += x.messages;
      sum.bytes += x.bytes;
      sum.send_failed += x.send_failed;
      sum.dropped += x.dropped;
    }
    CHECK(sum.messages == before_stop.sent);
    CHECK(sum.send_failed == before_stop.send_failed);
    CHECK(sum.dropped == before_stop.dropped);
    std::uint64_t wire_bytes = 0;
    for (auto& x : f.wire->attempts)
      if (x.status == send_status::sent)
        wire_bytes += x.xs[1].size() + x.xs[2].size() + x.xs[3].size() +
                      x.xs[4].size() + x.xs[5].size() + x.xs[6].size();
    CHECK(sum.bytes == wire_bytes);
  }
  // Each kind of outcome happened, so the run covered every path.
  CHECK(sent > 0);
  CHECK(failed > 0);
  CHECK(f.wire->count(send_status::would_block) > 0);
  for (auto x :
       {errc::send_queue_full, errc::message_expired, errc::peer_unreachable,
        errc::socket_error, errc::local_peer_stopped})
    CHECK(drop_reasons[static_cast<std::uint8_t>(x)] > 0);
}

} // namespace p2p0mq
