#include "p2p0mq/actors/ask_around.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_cast.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "support/concern_fixture.hpp"

using namespace std::chrono_literals;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::peer_state;
using p2p0mq::priority;
using p2p0mq::testing::concern_fixture;

namespace {

using strings = std::vector<std::string>;
using outgoing_call = p2p0mq::testing::sender_record::outgoing_call;

const std::string local = concern_fixture::local;
const std::string target = "peer-0009";

/// `{"target": bin, "breadcrumbs": [bin, ...]}`, as docs/PROTOCOL.md says.
payload question(const std::string& about, const strings& breadcrumbs) {
  return payload_builder{}
      .add_bytes("target", about)
      .add_bytes_array("breadcrumbs", breadcrumbs)
      .build();
}

/// The target and breadcrumbs an `r` message carries.
std::pair<std::string, strings> read(const message& msg) {
  auto about = msg.payload.get_bytes("target");
  auto breadcrumbs = msg.payload.get_bytes_array("breadcrumbs");
  REQUIRE(about);
  REQUIRE(breadcrumbs);
  CHECK(msg.payload.size() == 2);
  return {*about, *breadcrumbs};
}

/// A concern fixture running the ask-around concern.
class ask_around_fixture : public concern_fixture {
public:
  ask_around_fixture() {
    add_concern(p2p0mq::ask_around_command, p2p0mq::ask_around());
  }

  /// The `r` requests handed to the sender so far.
  std::vector<outgoing_call> asks() const {
    return wire.outgoing_of("r", message_kind::request);
  }

  /// The `r` replies handed to the sender so far.
  std::vector<outgoing_call> answers() const {
    return wire.outgoing_of("r", message_kind::reply);
  }

  /// The uuids the `r` requests so far went to.
  strings asked() const {
    strings result;
    for (auto& x : asks())
      result.push_back(x.msg.to);
    std::sort(result.begin(), result.end());
    return result;
  }

  /// An `r` message from `source` (straight from it).
  message r(const std::string& source, message_kind kind, std::uint64_t id,
            payload body) {
    return incoming(source, "r", kind, id, std::move(body));
  }

  /// Has the sender wait for `about`, and tell its route watchers, as the
  /// sender does when a destination starts to wait.
  void want(const std::string& about, strings exclude = {}) {
    wire.wanted = {p2p0mq::wanted_route{about, std::move(exclude)}};
    REQUIRE(!wire.route_watchers.empty());
    for (auto& w : wire.route_watchers)
      caf::anon_send(w, p2p0mq::wanted_atom::value, wire.wanted);
    run();
  }
};

/// Counts the warnings of the router category while it lives.
struct warnings {
  warnings() {
    p2p0mq::set_log_sink([this](p2p0mq::log_level level,
                                p2p0mq::log_category cat, std::string_view) {
      if (level == p2p0mq::log_level::warning &&
          cat == p2p0mq::log_category::router)
        ++count;
    });
  }

  ~warnings() {
    p2p0mq::set_log_sink({});
  }

  int count = 0;
};

} // namespace

// -- looking for a target -----------------------------------------------------

TEST_CASE("a destination that starts to wait is asked about of every "
          "CONNECTED peer, except the target and the excluded, with our uuid "
          "as breadcrumb",
          "[ask_around]") {
  ask_around_fixture fix;
  for (auto& x : {"peer-0001", "peer-0002", "peer-0003"})
    fix.connected_peer(x);
  fix.connected_peer(target);
  fix.add("peer-0004");
  fix.want(target, {"peer-0002"});
  CHECK(fix.asked() == strings{"peer-0001", "peer-0003"});
  for (auto& x : fix.asks()) {
    CHECK(x.msg.source == local);
    CHECK(x.msg.next_hop == x.msg.to);
    CHECK(x.prio == priority::fast);
    auto [about, breadcrumbs] = read(x.msg);
    CHECK(about == target);
    CHECK(breadcrumbs == strings{local});
  }
}

TEST_CASE("the concern asks about one target once per ask-around interval",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.want(target);
  CHECK(fix.asks().size() == 1);
  // Still wanted, but not asked about again before 60 s.
  fix.advance(58s);
  CHECK(fix.asks().size() == 1);
  // Another target is asked about meanwhile.
  fix.want("peer-0008");
  CHECK(fix.asks().size() == 2);
  fix.wire.wanted = {p2p0mq::wanted_route{target, {}}};
  fix.advance(1s);
  CHECK(fix.asks().size() == 2);
  // 60 s after the first ask: still wanted, so asked about again.
  fix.advance(1s);
  REQUIRE(fix.asks().size() == 3);
  CHECK(fix.asks().back().msg.to == "peer-0001");
  CHECK(read(fix.asks().back().msg).first == target);
  CHECK(fix.asks().back().at - fix.asks().front().at == 60s);
}

TEST_CASE("an ask that finds nobody to ask does not count against the "
          "interval, and is made again once a peer is CONNECTED",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.want(target, {"peer-0001"});
  CHECK(fix.asks().empty());
  // peer-0002, which answers questions, becomes CONNECTED.
  fix.add("peer-0002");
  REQUIRE(p2p0mq::testing::ask<p2p0mq::peer>(
      fix, fix.peers, p2p0mq::learn_atom::value, std::string{"peer-0002"},
      std::string{"10.0.0.1"}, std::uint16_t{5000}, false,
      p2p0mq::capabilities::ours()));
  REQUIRE(fix.heard(fix.incoming("peer-0002", "hb", message_kind::reply)));
  CHECK(fix.asked() == strings{"peer-0002"});
  // Not again within the interval.
  fix.want(target, {"peer-0001"});
  CHECK(fix.asked() == strings{"peer-0002"});
}

// -- requests -----------------------------------------------------------------

TEST_CASE("a request about a CONNECTED target is answered with its payload",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer(target);
  auto body = question(target, {"peer-0005", "peer-0001"});
  fix.deliver(fix.r("peer-0001", message_kind::request, 7, body));
  auto answers = fix.answers();
  REQUIRE(answers.size() == 1);
  auto& reply = answers[0].msg;
  CHECK(reply.to == "peer-0001");
  CHECK(reply.next_hop == "peer-0001");
  CHECK(reply.id == 7);
  CHECK(reply.payload == body);
  CHECK(fix.asks().empty());
}

TEST_CASE("a request about a target we do not reach is passed on, and the "
          "answer travels back popping one breadcrumb at each hop",
          "[ask_around]") {
  ask_around_fixture fix;
  for (auto& x : {"peer-0001", "peer-0002", "peer-0003"})
    fix.connected_peer(x);
  fix.deliver(fix.r("peer-0001", message_kind::request, 7,
                    question(target, {"peer-0001"})));
  CHECK(fix.answers().empty());
  REQUIRE(fix.asked() == strings{"peer-0002", "peer-0003"});
  for (auto& x : fix.asks())
    CHECK(read(x.msg).second == strings{"peer-0001", local});
  // peer-0003 reaches the target and answers our request.
  auto ours = fix.asks()[1].msg;
  REQUIRE(ours.to == "peer-0003");
  fix.wire.clear();
  fix.deliver(fix.r("peer-0003", message_kind::reply, ours.id,
                    question(target, {"peer-0001", local})));
  auto p = fix.get(target);
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == "peer-0003");
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].via == "peer-0003");
  auto answers = fix.answers();
  REQUIRE(answers.size() == 1);
  auto& reply = answers[0].msg;
  CHECK(reply.to == "peer-0001");
  CHECK(reply.next_hop == "peer-0001");
  CHECK(reply.id == 7);
  auto [about, breadcrumbs] = read(reply);
  CHECK(about == target);
  CHECK(breadcrumbs == strings{"peer-0001"});
  // A second answer came a longer way round: the first route stands and
  // the answer goes no further (passed on, it would replace the routes of
  // the peers the question came through with longer ones).
  fix.wire.clear();
  fix.deliver(fix.r("peer-0002", message_kind::reply, 3,
                    question(target, {"peer-0001", local})));
  CHECK(fix.get(target).via == "peer-0003");
  CHECK(fix.wire.routes.empty());
  CHECK(fix.answers().empty());
  // After the ask-around interval, an answer counts as a first one again.
  fix.advance(fix.settings->ask_around_interval);
  fix.deliver(fix.r("peer-0002", message_kind::reply, 4,
                    question(target, {"peer-0001", local})));
  CHECK(fix.get(target).via == "peer-0002");
  REQUIRE(fix.answers().size() == 1);
  CHECK(fix.answers()[0].msg.to == "peer-0001");
  CHECK(fix.answers()[0].msg.id == 4);
}

TEST_CASE("a request passed on recently is kept, not passed on again, and "
          "answered with the rest",
          "[ask_around]") {
  ask_around_fixture fix;
  for (auto& x : {"peer-0001", "peer-0002", "peer-0003"})
    fix.connected_peer(x);
  fix.deliver(fix.r("peer-0001", message_kind::request, 7,
                    question(target, {"peer-0001"})));
  fix.deliver(fix.r("peer-0002", message_kind::request, 8,
                    question(target, {"peer-0005", "peer-0002"})));
  CHECK(fix.asks().size() == 2);
  fix.deliver(fix.r("peer-0003", message_kind::reply, fix.asks()[1].msg.id,
                    question(target, {"peer-0001", local})));
  auto answers = fix.answers();
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].msg.to == "peer-0001");
  CHECK(answers[0].msg.id == 7);
  CHECK(read(answers[0].msg).second == strings{"peer-0001"});
  CHECK(answers[1].msg.to == "peer-0002");
  CHECK(answers[1].msg.id == 8);
  CHECK(read(answers[1].msg).second == strings{"peer-0005", "peer-0002"});
}

TEST_CASE("a request about ourselves is answered as invalid: empty "
          "breadcrumbs",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer("peer-0002");
  fix.deliver(fix.r("peer-0001", message_kind::request, 4,
                    question(local, {"peer-0001"})));
  CHECK(fix.asks().empty());
  auto answers = fix.answers();
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].msg.to == "peer-0001");
  CHECK(answers[0].msg.id == 4);
  auto [about, breadcrumbs] = read(answers[0].msg);
  CHECK(about == local);
  CHECK(breadcrumbs.empty());
}

TEST_CASE("a request that came round a loop is dropped", "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer("peer-0002");
  fix.connected_peer(target);
  fix.deliver(fix.r("peer-0001", message_kind::request, 4,
                    question(target, {local, "peer-0001"})));
  CHECK(fix.wire.outgoing.empty());
}

TEST_CASE("a request is accepted with uuids as msgpack str, as from a Python "
          "peer",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer(target);
  auto body = payload_builder{}
                  .add_string("target", target)
                  .add_bytes_array("breadcrumbs", {"peer-0001"})
                  .build();
  fix.deliver(fix.r("peer-0001", message_kind::request, 4, body));
  CHECK(fix.answers().size() == 1);
}

TEST_CASE("a malformed r payload is logged and dropped", "[ask_around]") {
  warnings logged;
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer("peer-0002");
  auto kind = GENERATE(message_kind::request, message_kind::reply);
  const payload bodies[] = {
      payload{},
      payload_builder{}.add_bytes_array("breadcrumbs", {local}).build(),
      payload_builder{}.add_bytes("target", target).build(),
      payload_builder{}
          .add_integer("target", 9)
          .add_bytes_array("breadcrumbs", {local})
          .build(),
      payload_builder{}
          .add_bytes("target", target)
          .add_bytes("breadcrumbs", local)
          .build(),
      question("abc", {local}),
      question(target, {"peer-0001", "xy", local}),
  };
  std::uint64_t id = 1;
  for (auto& body : bodies)
    fix.deliver(fix.r("peer-0001", kind, id++, body));
  // And a request without breadcrumbs.
  fix.deliver(
      fix.r("peer-0001", message_kind::request, id++, question(target, {})));
  CHECK(fix.wire.outgoing.empty());
  CHECK(fix.lookup(target).error() == p2p0mq::errc::unknown_peer);
  // All from one peer: the first in full, the other seven in one summary at
  // the end of the log's interval.
  CHECK(logged.count == 1);
  fix.advance(fix.settings->log_summary_interval);
  CHECK(logged.count == 2);
}

// -- replies ------------------------------------------------------------------

TEST_CASE("an answer to our own question routes the target through the peer "
          "it came from",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.deliver(
      fix.r("peer-0001", message_kind::reply, 2, question(target, {local})));
  auto p = fix.get(target);
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == "peer-0001");
  CHECK(fix.wire.outgoing.empty());
}

TEST_CASE("an answer whose last breadcrumb is not ours, an invalid one, and "
          "one about ourselves change nothing",
          "[ask_around]") {
  warnings logged;
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.deliver(fix.r("peer-0001", message_kind::reply, 2,
                    question(target, {local, "peer-0005"})));
  fix.deliver(fix.r("peer-0001", message_kind::reply, 3, question(target, {})));
  fix.deliver(
      fix.r("peer-0001", message_kind::reply, 4, question(local, {local})));
  CHECK(fix.lookup(target).error() == p2p0mq::errc::unknown_peer);
  CHECK(fix.wire.outgoing.empty());
  CHECK(fix.wire.routes.empty());
  // Two dropped (the invalid answer is only noted): the first in full, the
  // second in a summary at the end of the log's interval.
  CHECK(logged.count == 1);
  fix.advance(fix.settings->log_summary_interval);
  CHECK(logged.count == 2);
}

TEST_CASE("a request about a target we reach through a peer off the "
          "question's way is answered, one through a peer on it is passed on",
          "[ask_around]") {
  ask_around_fixture fix;
  for (auto& x : {"peer-0001", "peer-0002", "peer-0003"})
    fix.connected_peer(x);
  REQUIRE(p2p0mq::testing::ask<p2p0mq::peer>(fix, fix.peers,
                                             p2p0mq::via_atom::value, target,
                                             std::string{"peer-0003"}));
  fix.wire.clear();
  fix.deliver(fix.r("peer-0001", message_kind::request, 5,
                    question(target, {"peer-0001"})));
  REQUIRE(fix.answers().size() == 1);
  CHECK(fix.answers()[0].msg.to == "peer-0001");
  CHECK(fix.asks().empty());
  // Through the asker itself, or a peer the question came through: no.
  fix.wire.clear();
  fix.deliver(fix.r("peer-0003", message_kind::request, 6,
                    question(target, {"peer-0003"})));
  fix.deliver(fix.r("peer-0002", message_kind::request, 7,
                    question(target, {"peer-0003", "peer-0002"})));
  CHECK(fix.answers().empty());
  CHECK(fix.asked() == strings{"peer-0001", "peer-0002"});
}

TEST_CASE("an answer to our own question also answers the requests about the "
          "same target we kept",
          "[ask_around]") {
  ask_around_fixture fix;
  fix.connected_peer("peer-0001");
  fix.connected_peer("peer-0002");
  fix.want(target);
  REQUIRE(fix.asked() == strings{"peer-0001", "peer-0002"});
  // peer-0001 asks about it too, while our own question is out.
  fix.deliver(fix.r("peer-0001", message_kind::request, 9,
                    question(target, {"peer-0001"})));
  CHECK(fix.asks().size() == 2);
  fix.deliver(fix.r("peer-0002", message_kind::reply, fix.asks()[1].msg.id,
                    question(target, {local})));
  CHECK(fix.get(target).via == "peer-0002");
  auto answers = fix.answers();
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].msg.to == "peer-0001");
  CHECK(answers[0].msg.id == 9);
  CHECK(read(answers[0].msg).second == strings{"peer-0001"});
}

TEST_CASE("the concern counts its searches, questions, answers, questions "
          "passed on and routes found",
          "[ask_around][metrics]") {
  ask_around_fixture fix;
  auto stats = [&] {
    auto handle = p2p0mq::testing::ask<p2p0mq::concern_actor>(
        fix, fix.supervisor, p2p0mq::get_atom::value,
        std::string{p2p0mq::ask_around_command});
    REQUIRE(handle);
    REQUIRE(*handle);
    auto result = p2p0mq::testing::ask<p2p0mq::concern_counters>(
        fix, *handle, p2p0mq::stats_atom::value);
    REQUIRE(result);
    return p2p0mq::ask_around_stats_of(*result);
  };
  CHECK(stats().searches == 0);
  fix.connected_peer("peer-0001");
  fix.connected_peer("peer-0002");
  fix.want(target);
  // peer-0001 asks about the same target: kept and passed on (no new
  // search within the interval).
  fix.deliver(fix.r("peer-0001", message_kind::request, 9,
                    question(target, {"peer-0001"})));
  auto x = stats();
  CHECK(x.searches == 1);
  CHECK(x.questions == 2);
  CHECK(x.passed_on == 1);
  CHECK(x.answered == 0);
  CHECK(x.routes_found == 0);
  fix.deliver(fix.r("peer-0002", message_kind::reply, fix.asks()[1].msg.id,
                    question(target, {local})));
  // A question about a peer we have CONNECTED is answered at once.
  fix.deliver(fix.r("peer-0001", message_kind::request, 10,
                    question("peer-0002", {"peer-0001"})));
  x = stats();
  CHECK(x.searches == 1);
  CHECK(x.questions == 2);
  CHECK(x.passed_on == 1);
  CHECK(x.answered == 2);
  CHECK(x.routes_found == 1);
}
