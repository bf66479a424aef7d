#include "p2p0mq/actors/supervisor.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "support/concern_fixture.hpp"

using namespace std::chrono_literals;
using p2p0mq::add_atom;
using p2p0mq::concern_actor;
using p2p0mq::concern_context;
using p2p0mq::concern_factory;
using p2p0mq::errc;
using p2p0mq::get_atom;
using p2p0mq::incoming_atom;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::remove_atom;
using p2p0mq::tick_atom;
using p2p0mq::testing::concern_fixture;

namespace {

using strings = std::vector<std::string>;

/// What the instances of one test concern saw. Instances count from 1.
struct concern_log {
  struct delivery {
    int instance;
    std::string command;
    message_kind kind;
    std::uint64_t id;
  };

  std::vector<delivery> incoming;
  /// The number of messages in each `incoming` actor message, in order.
  std::vector<std::size_t> batches;
  /// Instances spawned so far.
  int instances = 0;
  /// The handle of each instance.
  std::vector<concern_actor> handles;

  std::vector<std::uint64_t> ids() const {
    std::vector<std::uint64_t> result;
    for (auto& x : incoming)
      result.push_back(x.id);
    return result;
  }
};

/// A concern that records what it gets, and throws on a message whose
/// payload has the key "fail".
concern_actor::behavior_type recording_concern(concern_actor::pointer,
                                               concern_log* log, int instance) {
  return {
      [=](incoming_atom, std::vector<message>& msgs) {
        log->batches.push_back(msgs.size());
        for (auto& msg : msgs) {
          if (msg.payload.contains("fail"))
            throw std::runtime_error("a test concern asked to fail");
          log->incoming.push_back({instance, msg.command, msg.kind, msg.id});
        }
      },
      [](tick_atom) {},
      [](p2p0mq::sent_atom, const std::vector<message>&) {},
      [](p2p0mq::send_failed_atom, const message&, const caf::error&) {
        return false;
      },
      [](p2p0mq::dropped_atom, const message&, const caf::error&) {},
      [](p2p0mq::changed_atom, const std::vector<p2p0mq::peer_change>&) {},
      [](p2p0mq::due_atom, p2p0mq::due_kind, const std::vector<p2p0mq::peer>&) {
      },
      [](p2p0mq::wanted_atom, const std::vector<p2p0mq::wanted_route>&) {},
      [](p2p0mq::stats_atom) { return p2p0mq::concern_counters{}; },
  };
}

/// A factory of recording concerns; each instance records into `log`.
concern_factory recording(concern_log* log) {
  return [log](caf::local_actor* parent, concern_context) {
    auto instance = ++log->instances;
    auto result = parent->spawn(recording_concern, log, instance);
    log->handles.push_back(result);
    return result;
  };
}

/// Asks `dest` to add `x` under `command`; keeps the error, if any.
template <class Concern>
void add_asker(caf::event_based_actor* self,
               std::shared_ptr<std::optional<caf::error>> result,
               p2p0mq::supervisor_actor dest, std::string command, Concern x) {
  self->request(dest, caf::infinite, add_atom::value, std::move(command),
                std::move(x))
      .then([result] { result->emplace(); },
            [result](caf::error& err) { result->emplace(std::move(err)); });
}

/// A concern fixture with helpers to add, remove and list concerns.
class supervisor_fixture : public concern_fixture {
public:
  using concern_fixture::concern_fixture;

  /// A message for us from peer-0001, of `command`.
  message msg(const std::string& command, std::uint64_t id,
              message_kind kind = message_kind::request) {
    return incoming("peer-0001", command, kind, id);
  }

  /// A message that makes a recording concern throw.
  message failing(const std::string& command) {
    return incoming("peer-0001", command, message_kind::request, 666,
                    p2p0mq::payload_builder{}.add_integer("fail", 1).build());
  }

  /// Asks the supervisor to add a concern; returns its error, if any.
  template <class Concern>
  caf::error add(const std::string& command, Concern x) {
    auto result = std::make_shared<std::optional<caf::error>>();
    sys().spawn(add_asker<Concern>, result, supervisor, command, std::move(x));
    run();
    REQUIRE(result->has_value());
    return std::move(**result);
  }

  /// Asks the supervisor to remove the concern of `command`.
  bool remove(const std::string& command) {
    auto result = p2p0mq::testing::ask<bool>(*this, supervisor,
                                             remove_atom::value, command);
    REQUIRE(result);
    return *result;
  }

  /// The commands the supervisor has registered.
  strings commands() {
    auto result =
        p2p0mq::testing::ask<strings>(*this, supervisor, get_atom::value);
    REQUIRE(result);
    return *result;
  }

  /// Hands `xs` to the dispatcher in one batch, as the receiver does.
  void deliver_all(std::vector<message> xs) {
    caf::anon_send(dispatcher, incoming_atom::value, std::move(xs));
    run();
  }
};

/// Sets `*flag` when `x` terminates.
void watch(const concern_actor& x, bool* flag) {
  x->attach_functor([flag] { *flag = true; });
}

} // namespace

// -- routing ------------------------------------------------------------------

TEST_CASE("the dispatcher hands requests and replies to the concern of their "
          "command",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  concern_log beta;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("beta", recording(&beta));
  fix.deliver_all({fix.msg("alpha", 1), fix.msg("beta", 2, message_kind::reply),
                   fix.msg("alpha", 3, message_kind::reply)});
  REQUIRE(alpha.incoming.size() == 2);
  CHECK(alpha.incoming[0].command == "alpha");
  CHECK(alpha.incoming[0].kind == message_kind::request);
  CHECK(alpha.incoming[0].id == 1);
  CHECK(alpha.incoming[1].kind == message_kind::reply);
  CHECK(alpha.incoming[1].id == 3);
  REQUIRE(beta.incoming.size() == 1);
  CHECK(beta.incoming[0].command == "beta");
  CHECK(beta.incoming[0].kind == message_kind::reply);
  CHECK(beta.incoming[0].id == 2);
}

TEST_CASE("the dispatcher hands each concern the messages of one batch in one "
          "actor message, in the order they came",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  concern_log beta;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("beta", recording(&beta));
  fix.deliver_all({fix.msg("alpha", 1), fix.msg("beta", 2), fix.msg("alpha", 3),
                   fix.msg("nope", 4),
                   fix.msg("alpha", 5, message_kind::reply)});
  CHECK(alpha.batches == std::vector<std::size_t>{3});
  CHECK(alpha.ids() == std::vector<std::uint64_t>{1, 3, 5});
  CHECK(beta.batches == std::vector<std::size_t>{1});
  CHECK(beta.ids() == std::vector<std::uint64_t>{2});
  // The next batch is the next actor message.
  fix.deliver_all({fix.msg("alpha", 6), fix.msg("alpha", 7)});
  CHECK(alpha.batches == std::vector<std::size_t>{3, 2});
  CHECK(alpha.ids() == std::vector<std::uint64_t>{1, 3, 5, 6, 7});
}

TEST_CASE("a message of an unknown command is dropped and the others still "
          "go through",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.deliver_all({fix.msg("nope", 1), fix.msg("alpha", 2), fix.msg("alph", 3),
                   fix.msg("alpha", 4)});
  fix.deliver(fix.msg("alpha", 5));
  CHECK(alpha.ids() == std::vector<std::uint64_t>{2, 4, 5});
  CHECK(fix.commands() == strings{"alpha"});
  CHECK(alpha.instances == 1);
}

TEST_CASE("a message for another peer reaches no concern", "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  // As decoded from frames whose destination frame names another peer.
  std::vector<std::string> frames{"peer-0001", "",
                                  "peer-0005", "\x01",
                                  "alpha",     p2p0mq::encode_message_id(1),
                                  "\x80"};
  auto relayed = p2p0mq::decode(frames, concern_fixture::local);
  REQUIRE(relayed);
  REQUIRE(relayed->to == "peer-0005");
  fix.deliver_all({*relayed, fix.msg("alpha", 2)});
  CHECK(alpha.ids() == std::vector<std::uint64_t>{2});
  // The router forwards it (see the router's tests).
  REQUIRE(fix.wire.outgoing.size() == 1);
  CHECK(fix.wire.outgoing[0].msg.to == "peer-0005");
  CHECK(fix.wire.outgoing[0].msg.id == 1);
  CHECK(fix.wire.outgoing[0].owner.address() == fix.actors.router().address());
}

// -- registration -------------------------------------------------------------

TEST_CASE("a concern added after start gets messages", "[supervisor]") {
  supervisor_fixture fix;
  concern_log early;
  fix.add_concern("early", recording(&early));
  fix.advance(3s);
  concern_log late;
  CHECK(!fix.add("late", recording(&late)));
  fix.deliver(fix.msg("late", 1));
  CHECK(late.ids() == std::vector<std::uint64_t>{1});
  CHECK(fix.commands() == strings{"early", "late"});
}

TEST_CASE("a second concern for a command is refused with duplicate_concern",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log first;
  concern_log second;
  CHECK(!fix.add("alpha", recording(&first)));
  auto err = fix.add("alpha", recording(&second));
  CHECK(err == errc::duplicate_concern);
  CHECK(second.instances == 0);
  // Also for a running actor registered under a taken command.
  auto other = fix.sys().spawn(recording_concern, &second, 1);
  CHECK(fix.add("alpha", other) == errc::duplicate_concern);
  fix.deliver(fix.msg("alpha", 7));
  CHECK(first.ids() == std::vector<std::uint64_t>{7});
  CHECK(second.incoming.empty());
  CHECK(fix.commands() == strings{"alpha"});
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}

TEST_CASE("get lists the registered commands sorted", "[supervisor]") {
  supervisor_fixture fix;
  concern_log log;
  CHECK(fix.commands().empty());
  fix.add_concern("zeta", recording(&log));
  fix.add_concern("alpha", recording(&log));
  fix.add_concern("mid", recording(&log));
  CHECK(fix.commands() == strings{"alpha", "mid", "zeta"});
}

TEST_CASE("removing a concern stops a spawned one and forgets it",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  concern_log beta;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("beta", recording(&beta));
  REQUIRE(alpha.handles.size() == 1);
  bool stopped = false;
  watch(alpha.handles[0], &stopped);
  CHECK(fix.remove("alpha"));
  fix.run();
  CHECK(stopped);
  CHECK(fix.commands() == strings{"beta"});
  fix.deliver_all({fix.msg("alpha", 1), fix.msg("beta", 2)});
  fix.advance(2s);
  CHECK(alpha.incoming.empty());
  CHECK(alpha.instances == 1);
  CHECK(beta.ids() == std::vector<std::uint64_t>{2});
  CHECK(!fix.remove("alpha"));
}

TEST_CASE("removing a registered concern leaves it running", "[supervisor]") {
  supervisor_fixture fix;
  concern_log ext;
  auto handle = fix.sys().spawn(recording_concern, &ext, 1);
  bool stopped = false;
  watch(handle, &stopped);
  CHECK(!fix.add("ext", handle));
  fix.deliver(fix.msg("ext", 1));
  CHECK(ext.ids() == std::vector<std::uint64_t>{1});
  CHECK(fix.remove("ext"));
  fix.deliver(fix.msg("ext", 2));
  fix.advance(1s);
  CHECK(ext.ids() == std::vector<std::uint64_t>{1});
  CHECK(!stopped);
  CHECK(fix.commands().empty());
  caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  fix.run();
  CHECK(stopped);
}

// -- supervision --------------------------------------------------------------

TEST_CASE("a concern that throws is restarted and gets the traffic that "
          "follows",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  concern_log beta;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("beta", recording(&beta));
  bool first_stopped = false;
  watch(alpha.handles[0], &first_stopped);
  fix.deliver_all(
      {fix.msg("alpha", 1), fix.failing("alpha"), fix.msg("beta", 2)});
  CHECK(first_stopped);
  CHECK(alpha.instances == 2);
  CHECK(fix.commands() == strings{"alpha", "beta"});
  fix.deliver_all({fix.msg("alpha", 3), fix.msg("beta", 4)});
  REQUIRE(alpha.incoming.size() == 2);
  CHECK(alpha.incoming[0].instance == 1);
  CHECK(alpha.incoming[1].instance == 2);
  CHECK(alpha.incoming[1].id == 3);
  CHECK(beta.ids() == std::vector<std::uint64_t>{2, 4});
  CHECK(beta.instances == 1);
}

TEST_CASE("a concern that fails more than concern_max_restarts times within "
          "the window stays down",
          "[supervisor]") {
  supervisor_fixture fix{[](p2p0mq::config& cfg) {
    cfg.concern_max_restarts = 2;
    cfg.concern_restart_window = 60s;
  }};
  concern_log alpha;
  concern_log beta;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("beta", recording(&beta));
  fix.deliver(fix.failing("alpha"));
  CHECK(alpha.instances == 2);
  fix.advance(1s);
  fix.deliver(fix.failing("alpha"));
  CHECK(alpha.instances == 3);
  CHECK(fix.commands() == strings{"alpha", "beta"});
  fix.advance(1s);
  fix.deliver(fix.failing("alpha"));
  CHECK(alpha.instances == 3);
  CHECK(fix.commands() == strings{"beta"});
  // Its messages are dropped; the rest keeps running.
  fix.deliver_all({fix.msg("alpha", 1), fix.msg("beta", 2)});
  fix.advance(2s);
  CHECK(alpha.incoming.empty());
  CHECK(beta.ids() == std::vector<std::uint64_t>{2});
  CHECK(alpha.instances == 3);
}

TEST_CASE("restarts older than the restart window do not count",
          "[supervisor]") {
  supervisor_fixture fix{[](p2p0mq::config& cfg) {
    cfg.concern_max_restarts = 2;
    cfg.concern_restart_window = 60s;
  }};
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.deliver(fix.failing("alpha")); // restart at t0
  fix.advance(1s);
  fix.deliver(fix.failing("alpha")); // restart at t0 + 1 s
  CHECK(alpha.instances == 3);
  fix.advance(60s);
  // The restart at t0 is 61 s old, the one at t0 + 1 s exactly 60 s: only the
  // latter still counts.
  fix.deliver(fix.failing("alpha"));
  CHECK(alpha.instances == 4);
  fix.deliver(fix.failing("alpha"));
  CHECK(alpha.instances == 4);
  CHECK(fix.commands().empty());
}

TEST_CASE("a registered concern that goes down is unregistered",
          "[supervisor]") {
  auto reason =
      GENERATE(as<caf::exit_reason>{}, caf::exit_reason::user_shutdown,
               caf::exit_reason::kill);
  supervisor_fixture fix;
  concern_log ext;
  auto handle = fix.sys().spawn(recording_concern, &ext, 1);
  CHECK(!fix.add("ext", handle));
  CHECK(fix.commands() == strings{"ext"});
  caf::anon_send_exit(handle, reason);
  fix.run();
  CHECK(fix.commands().empty());
  // Not restarted, and the supervisor keeps working.
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.deliver_all({fix.msg("ext", 1), fix.msg("alpha", 2)});
  CHECK(ext.incoming.empty());
  CHECK(alpha.ids() == std::vector<std::uint64_t>{2});
}

TEST_CASE("a registered concern that throws is unregistered, not restarted",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log ext;
  auto handle = fix.sys().spawn(recording_concern, &ext, 1);
  CHECK(!fix.add("ext", handle));
  fix.deliver(fix.failing("ext"));
  CHECK(fix.commands().empty());
  CHECK(ext.instances == 0);
  CHECK(fix.commands().empty());
}

// -- messages for other peers -------------------------------------------------

namespace {

/// What a fake router got.
struct router_log {
  std::vector<std::vector<message>> batches;
};

p2p0mq::router_actor::behavior_type fake_router(p2p0mq::router_actor::pointer,
                                                router_log* log) {
  return {
      [log](incoming_atom, std::vector<message>& xs) {
        log->batches.emplace_back(std::move(xs));
      },
      [log](incoming_atom, message& x) {
        log->batches.push_back({std::move(x)});
      },
      [](p2p0mq::sent_atom, const std::vector<message>&) {},
      [](p2p0mq::send_failed_atom, const message&, const caf::error&) {
        return true;
      },
      [](p2p0mq::dropped_atom, const message&, const caf::error&) {},
      [](p2p0mq::stats_atom) { return p2p0mq::router_stats{}; },
  };
}

/// A fixture whose dispatcher hands messages for other peers to a fake
/// router.
class routing_supervisor_fixture : public supervisor_fixture {
public:
  routing_supervisor_fixture() {
    router = sys().spawn(fake_router, &routed);
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dispatcher, caf::exit_reason::user_shutdown);
    dispatcher =
        p2p0mq::spawn_dispatcher(sys(), settings, peers, router, nullptr);
    supervisor = p2p0mq::spawn_supervisor(sys(), ctx, dispatcher);
    run();
  }

  ~routing_supervisor_fixture() {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dispatcher, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    run();
  }

  /// A message from `source` for `to` that came through `previous_hop`.
  message relayed(const std::string& source, const std::string& to,
                  const std::string& previous_hop, std::uint64_t id = 1) {
    auto result = incoming(source, "alpha", message_kind::request, id);
    result.to = to;
    result.previous_hop = previous_hop;
    return result;
  }

  router_log routed;
  p2p0mq::router_actor router;
};

} // namespace

TEST_CASE("the dispatcher hands the messages for other peers to the router in "
          "one batch, never to a concern",
          "[supervisor]") {
  routing_supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.deliver_all({fix.relayed("peer-0001", "peer-0005", "peer-0001", 1),
                   fix.msg("alpha", 2),
                   fix.relayed("peer-0002", "peer-0006", "peer-0001", 3)});
  CHECK(alpha.ids() == std::vector<std::uint64_t>{2});
  REQUIRE(fix.routed.batches.size() == 1);
  auto& batch = fix.routed.batches[0];
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].id == 1);
  CHECK(batch[0].to == "peer-0005");
  CHECK(batch[1].id == 3);
  CHECK(batch[1].previous_hop == "peer-0001");
  // A batch with nothing for other peers sends the router nothing.
  fix.deliver(fix.msg("alpha", 4));
  CHECK(fix.routed.batches.size() == 1);
}

TEST_CASE("a message that came through a relay teaches the peer table the "
          "way back to its source, whoever it is for",
          "[supervisor]") {
  routing_supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.deliver_all(
      {fix.relayed("peer-0001", concern_fixture::local, "relay-0001"),
       fix.relayed("peer-0002", "peer-0009", "relay-0002"),
       fix.relayed("peer-0003", "peer-0009", "peer-0003")});
  auto p1 = fix.get("peer-0001");
  CHECK(p1.state == p2p0mq::peer_state::routed);
  CHECK(p1.via == "relay-0001");
  auto p2 = fix.get("peer-0002");
  CHECK(p2.state == p2p0mq::peer_state::routed);
  CHECK(p2.via == "relay-0002");
  // Straight from its source: nothing to learn.
  CHECK(fix.lookup("peer-0003").error() == errc::unknown_peer);
  // A CONNECTED source keeps its direct route.
  fix.connected_peer("peer-0004");
  fix.deliver(fix.relayed("peer-0004", "peer-0009", "relay-0001"));
  CHECK(fix.get("peer-0004").state == p2p0mq::peer_state::connected);
}

TEST_CASE("the dispatcher tells the peer table of a relayed source again "
          "only when the relay changes or a heart-beat interval has passed",
          "[supervisor]") {
  routing_supervisor_fixture fix;
  auto t0 = fix.now();
  fix.deliver(fix.relayed("peer-0001", "peer-0009", "relay-0001", 1));
  CHECK(fix.get("peer-0001").last_heard == t0);
  fix.advance(3s);
  fix.deliver(fix.relayed("peer-0001", "peer-0009", "relay-0001", 2));
  CHECK(fix.get("peer-0001").last_heard == t0);
  fix.deliver(fix.relayed("peer-0001", "peer-0009", "relay-0002", 3));
  auto p = fix.get("peer-0001");
  // Heard through another relay: told, and its route (see the peer table's
  // tests) stays.
  CHECK(p.via == "relay-0001");
  CHECK(p.last_heard == t0 + 3s);
  fix.advance(4s);
  fix.deliver(fix.relayed("peer-0001", "peer-0009", "relay-0002", 4));
  CHECK(fix.get("peer-0001").last_heard == t0 + 7s);
}

// -- counters -----------------------------------------------------------------

namespace {

/// The bytes of frames 1 to 6 of `msg` as its previous hop encoded them for
/// us.
std::uint64_t wire_bytes(message msg) {
  msg.next_hop = concern_fixture::local;
  auto frames = msg.encode(msg.previous_hop);
  std::uint64_t result = 0;
  for (std::size_t i = 1; i < frames.size(); ++i)
    result += frames[i].size();
  return result;
}

} // namespace

TEST_CASE("the dispatcher counts the messages and bytes it receives by "
          "command "
          "and by previous hop",
          "[dispatcher][metrics]") {
  routing_supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  fix.add_concern("quiet", recording(&alpha));
  auto direct = fix.msg("alpha", 1);
  auto reply = fix.msg("alpha", 300, message_kind::reply);
  auto through =
      fix.relayed("peer-0002", concern_fixture::local, "relay-0001", 70000);
  auto transit = fix.relayed("peer-0001", "peer-0005", "peer-0001", 2);
  auto unknown = fix.msg("nope", 3);
  fix.deliver_all({direct, reply, through, transit, unknown});
  // {} from peer-0001 to us: kind, "alpha", id 1 and the empty map.
  CHECK(wire_bytes(direct) == 1 + 5 + 1 + 1);
  auto stats = p2p0mq::testing::ask<p2p0mq::dispatcher_stats>(
      fix, fix.dispatcher, p2p0mq::stats_atom::value);
  REQUIRE(stats);
  auto& commands = stats->commands;
  REQUIRE(commands.size() == 3);
  CHECK(commands["alpha"].messages == 4);
  CHECK(commands["alpha"].bytes == wire_bytes(direct) + wire_bytes(reply) +
                                       wire_bytes(through) +
                                       wire_bytes(transit));
  CHECK(commands["nope"].messages == 1);
  CHECK(commands["nope"].bytes == wire_bytes(unknown));
  // Registered, without traffic.
  CHECK(commands["quiet"].messages == 0);
  auto& peers = stats->peers;
  REQUIRE(peers.size() == 2);
  CHECK(peers["peer-0001"].messages == 4);
  CHECK(peers["peer-0001"].bytes == wire_bytes(direct) + wire_bytes(reply) +
                                        wire_bytes(transit) +
                                        wire_bytes(unknown));
  CHECK(peers["relay-0001"].messages == 1);
  CHECK(peers["relay-0001"].bytes == wire_bytes(through));
  CHECK(stats->unknown_command == 1);
}

TEST_CASE("the dispatcher counts at most max_traffic_keys peers by name, the "
          "rest under *",
          "[dispatcher][metrics]") {
  supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  std::vector<message> xs;
  for (std::size_t i = 0; i < p2p0mq::max_traffic_keys + 5; ++i)
    xs.push_back(fix.incoming("peer-" + std::to_string(i), "alpha",
                              message_kind::request, i + 1));
  fix.deliver_all(std::move(xs));
  auto stats = p2p0mq::testing::ask<p2p0mq::dispatcher_stats>(
      fix, fix.dispatcher, p2p0mq::stats_atom::value);
  REQUIRE(stats);
  CHECK(stats->peers.size() == p2p0mq::max_traffic_keys + 1);
  CHECK(stats->peers[p2p0mq::other_traffic_key].messages == 5);
  CHECK(stats->commands["alpha"].messages == p2p0mq::max_traffic_keys + 5);
}

TEST_CASE("the supervisor hands out the concern registered for a command",
          "[supervisor]") {
  supervisor_fixture fix;
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  auto found = p2p0mq::testing::ask<concern_actor>(
      fix, fix.supervisor, get_atom::value, std::string{"alpha"});
  REQUIRE(found);
  REQUIRE(alpha.handles.size() == 1);
  CHECK(*found == alpha.handles[0]);
  auto none = p2p0mq::testing::ask<concern_actor>(
      fix, fix.supervisor, get_atom::value, std::string{"beta"});
  REQUIRE(none);
  CHECK(!*none);
}

// -- bounded concern mailboxes ------------------------------------------------

TEST_CASE("a concern that does not keep up has at most concern_queue_limit "
          "messages waiting: the rest are dropped, counted and rejected to "
          "a peer that reads rejections, and it takes messages again once "
          "it caught up",
          "[supervisor][backlog]") {
  supervisor_fixture fix{
      [](p2p0mq::config& cfg) { cfg.concern_queue_limit = 3; }};
  fix.connected_peer("peer-0001");
  auto seen = std::make_shared<std::vector<std::uint64_t>>();
  p2p0mq::concern_handlers h;
  h.on_request = [seen](p2p0mq::concern_base&,
                        const message& req) -> p2p0mq::answer {
    seen->push_back(req.id);
    return p2p0mq::answer{p2p0mq::no_reply};
  };
  fix.add_concern("slow", p2p0mq::make_concern(h));
  // The dispatcher alone takes the batch of 5: the concern has not run yet
  // when the fourth and fifth come.
  std::vector<message> batch;
  for (std::uint64_t id = 1; id <= 5; ++id)
    batch.push_back(fix.msg("slow", id));
  caf::anon_send(fix.dispatcher, incoming_atom::value, std::move(batch));
  REQUIRE(fix.run_once());
  fix.run();
  CHECK(*seen == std::vector<std::uint64_t>{1, 2, 3});
  auto stats = p2p0mq::testing::ask<p2p0mq::dispatcher_stats>(
      fix, fix.dispatcher, p2p0mq::stats_atom::value);
  REQUIRE(stats);
  CHECK(stats->concern_busy == 2);
  // Each dropped request was answered with a rejection of code
  // concern_busy.
  auto rejections = fix.wire.outgoing_of("slow", message_kind::reply);
  REQUIRE(rejections.size() == 2);
  for (auto& x : rejections) {
    CHECK(p2p0mq::rejection_code_of(x.msg.payload) ==
          p2p0mq::concern_busy_code);
    CHECK((x.msg.id == 4 || x.msg.id == 5));
  }
  // It caught up: the next message goes through.
  fix.deliver(fix.msg("slow", 6));
  CHECK(*seen == std::vector<std::uint64_t>{1, 2, 3, 6});
}

TEST_CASE("a concern that does not count what it handled is not bounded",
          "[supervisor][backlog]") {
  supervisor_fixture fix{
      [](p2p0mq::config& cfg) { cfg.concern_queue_limit = 2; }};
  concern_log alpha;
  fix.add_concern("alpha", recording(&alpha));
  std::vector<message> batch;
  for (std::uint64_t id = 1; id <= 5; ++id)
    batch.push_back(fix.msg("alpha", id));
  caf::anon_send(fix.dispatcher, incoming_atom::value, std::move(batch));
  REQUIRE(fix.run_once());
  fix.run();
  CHECK(alpha.ids() == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
}
