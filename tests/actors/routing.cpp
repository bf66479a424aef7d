// Routing across several local peers, on a simulated wire under CAF's test
// coordinator: the router, the ask-around concern, the sender's routing
// rules and the peer table's route hints working together.
#include "p2p0mq/testing/sim_network.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::peer_state;
using p2p0mq::testing::sim_network;
using p2p0mq::testing::sim_transfer;

namespace {

const std::string a = "sim-a-01";
const std::string b = "sim-b-02";
const std::string c = "sim-c-03";
const std::string d = "sim-d-04";
const std::string e = "sim-e-05";
const std::string nowhere = "sim-z-99";

using chain = std::vector<std::string>;

/// Builds the network of `names`, tells each the addresses in `links` and
/// waits until every link is CONNECTED both ways.
void build(sim_network& net, const chain& names,
           const std::vector<chain>& links,
           const std::function<void(p2p0mq::config&)>& tune = nullptr) {
  for (auto& x : names)
    net.add(x, tune);
  for (auto& link : links)
    net.line(link);
  REQUIRE(net.run_until(
      [&] {
        for (auto& link : links)
          if (!net.connected(link))
            return false;
        return true;
      },
      5s));
  net.clear_transfers();
}

/// Checks the source and destination frames of one transfer.
void check_frames(const sim_transfer& x, const std::string& from,
                  const std::string& next_hop, std::string_view source,
                  std::string_view to) {
  INFO("transfer from " << x.from << " to " << x.to());
  CHECK(x.from == from);
  CHECK(x.to() == next_hop);
  CHECK(x.xs[1] == source);
  CHECK(x.xs[2] == to);
}

bool has_code(const caf::error& err, errc x) {
  return err.category() == p2p0mq::error_category &&
         err.code() == static_cast<std::uint8_t>(x);
}

/// Collects the warnings of the router category while it lives (everything
/// runs on the test's thread).
struct router_warnings {
  router_warnings() {
    p2p0mq::set_log_sink([this](p2p0mq::log_level level,
                                p2p0mq::log_category cat,
                                std::string_view line) {
      if (level == p2p0mq::log_level::warning &&
          cat == p2p0mq::log_category::router)
        lines.emplace_back(line);
    });
  }

  ~router_warnings() {
    p2p0mq::set_log_sink({});
  }

  std::vector<std::string> lines;
};

} // namespace

TEST_CASE("in a line A-B-C-D where each knows only its neighbours, A's "
          "message reaches D and D's reply comes back",
          "[routing]") {
  sim_network net;
  build(net, {a, b, c, d}, {{a, b, c, d}});
  auto id = net.ping(a, d);
  REQUIRE(net.run_until([&] { return net.answered(a, id); }, 5s));
  SECTION("the via hints are set along the way") {
    CHECK(net.sees(a, d, peer_state::routed, b));
    CHECK(net.sees(b, d, peer_state::routed, c));
    CHECK(net.sees(c, a, peer_state::routed, b));
    CHECK(net.sees(d, a, peer_state::routed, c));
    // Neighbours keep their direct routes.
    CHECK(net.sees(b, a, peer_state::connected));
    CHECK(net.sees(c, d, peer_state::connected));
  }
  SECTION("the request and the reply travel hop by hop, with source and to "
          "filled in when they differ from the hops") {
    auto requests = net.transfers_of("echo", true);
    REQUIRE(requests.size() == 3);
    check_frames(requests[0], a, b, "", d);
    check_frames(requests[1], b, c, a, d);
    check_frames(requests[2], c, d, a, "");
    auto replies = net.transfers_of("echo", false);
    REQUIRE(replies.size() == 3);
    check_frames(replies[0], d, c, "", a);
    check_frames(replies[1], c, b, d, a);
    check_frames(replies[2], b, a, d, "");
  }
  SECTION("A asked B, B asked C, and C's answer came back through B") {
    auto asks = net.transfers_of("r", true);
    REQUIRE(asks.size() == 2);
    CHECK(asks[0].from == a);
    CHECK(asks[0].to() == b);
    CHECK(asks[1].from == b);
    CHECK(asks[1].to() == c);
    auto answers = net.transfers_of("r", false);
    REQUIRE(answers.size() == 2);
    CHECK(answers[0].from == c);
    CHECK(answers[0].to() == b);
    CHECK(answers[1].from == b);
    CHECK(answers[1].to() == a);
  }
  SECTION("the relays forwarded without a concern and accounted for both "
          "messages") {
    for (auto& relay : {b, c}) {
      auto st = net.router_counters(relay);
      CHECK(st.received == 2);
      CHECK(st.sent == 2);
      CHECK(st.dropped == 0);
    }
    CHECK(net.router_counters(a).received == 0);
    CHECK(net.router_counters(d).received == 0);
  }
  SECTION("D reaches A by the reverse path, without asking around") {
    net.clear_transfers();
    auto back = net.ping(d, a);
    REQUIRE(net.run_until([&] { return net.answered(d, back); }, 5s));
    CHECK(net.transfers_of("r", true).empty());
    CHECK(net.transfers_of("echo", true).size() == 3);
  }
  SECTION("heart-beats through the vias keep the routes alive") {
    net.advance(100s);
    CHECK(net.sees(a, d, peer_state::routed, b));
    CHECK(net.sees(d, a, peer_state::routed, c));
    CHECK_FALSE(net.transfers_of("hb", true, a).empty());
    auto again = net.ping(a, d);
    REQUIRE(net.run_until([&] { return net.answered(a, again); }, 1s));
  }
}

TEST_CASE("a ring with a chord finds a peer without looping", "[routing]") {
  // A-B-C-D-E-A, and the chord B-D.
  sim_network net;
  build(net, {a, b, c, d, e}, {{a, b, c, d, e, a}, {b, d}});
  auto id = net.ping(a, c);
  REQUIRE(net.run_until([&] { return net.answered(a, id); }, 5s));
  net.advance(20s);
  // Every peer asked each of its neighbours once at most.
  std::map<std::pair<std::string, std::string>, int> asks;
  for (auto& x : net.transfers_of("r", true))
    ++asks[{x.from, x.to()}];
  CHECK_FALSE(asks.empty());
  for (auto& [link, n] : asks) {
    INFO(link.first << " asked " << link.second << " " << n << " times");
    CHECK(n == 1);
  }
  // The request reached C once, and its reply came back once.
  std::size_t at_c = 0;
  for (auto& x : net.transfers_of("echo", true))
    if (x.to() == c)
      ++at_c;
  CHECK(at_c == 1);
  CHECK(net[a].outcomes.replies.size() == 1);
  for (auto& x : {a, b, c, d, e})
    CHECK(net.router_counters(x).looped == 0);
}

TEST_CASE("a ring with a chord asks each peer once at most about a target "
          "that exists nowhere",
          "[routing]") {
  sim_network net;
  build(net, {a, b, c, d, e}, {{a, b, c, d, e, a}, {b, d}});
  net.ping(a, nowhere);
  net.advance(40s);
  std::map<std::pair<std::string, std::string>, int> asks;
  for (auto& x : net.transfers_of("r", true))
    ++asks[{x.from, x.to()}];
  // A asked both its neighbours, and the question went round: every other
  // peer was asked.
  CHECK(asks.count({a, b}) == 1);
  CHECK(asks.count({a, e}) == 1);
  std::set<std::string> asked;
  for (auto& [link, n] : asks) {
    asked.insert(link.second);
    INFO(link.first << " asked " << link.second << " " << n << " times");
    CHECK(n == 1);
  }
  CHECK(asked == std::set<std::string>{b, c, d, e});
  CHECK(net.transfers_of("r", false).empty());
  REQUIRE(net[a].outcomes.dropped.size() == 1);
  CHECK(has_code(net[a].outcomes.dropped[0].second, errc::message_expired));
}

TEST_CASE("messages for a target that exists nowhere are dropped after their "
          "time-to-live, with one ask-around per interval",
          "[routing]") {
  sim_network net;
  build(net, {a, b, c, d}, {{a, b, c, d}});
  auto t0 = net.now();
  // One message every 5 s for 150 s.
  std::size_t sent = 0;
  for (int i = 0; i < 30; ++i) {
    net.ping(a, nowhere, i);
    ++sent;
    net.advance(5s);
  }
  net.advance(30s);
  // Every one of them was dropped at its deadline, none answered.
  auto& out = net[a].outcomes;
  CHECK(out.replies.empty());
  REQUIRE(out.dropped.size() == sent);
  for (auto& [msg, err] : out.dropped)
    CHECK(has_code(err, errc::message_expired));
  // A asked B once per interval: at the first tick, then 60 s and 120 s
  // later; B and C passed each question on once; D had nobody to ask.
  auto from_a = net.transfers_of("r", true, a);
  REQUIRE(from_a.size() == 3);
  CHECK(from_a[0].at - t0 <= 1s);
  CHECK(from_a[1].at - from_a[0].at >= 60s);
  CHECK(from_a[1].at - from_a[0].at <= 61s);
  CHECK(from_a[2].at - from_a[1].at >= 60s);
  CHECK(net.transfers_of("r", true, b).size() == 3);
  CHECK(net.transfers_of("r", true, c).size() == 3);
  CHECK(net.transfers_of("r", true, d).empty());
  CHECK(net.transfers_of("r", false).empty());
  // Nobody made up a record for it.
  for (auto& x : {a, b, c, d})
    CHECK_FALSE(net.record(x, nowhere));
}

TEST_CASE("a message forwarded to a relay with no route is held there until "
          "its time-to-live, then dropped with a log line and counted",
          "[routing]") {
  router_warnings warnings;
  sim_network net;
  // A's default route is B, and B's is A.
  net.add(a, [](p2p0mq::config& cfg) { cfg.default_route = b; });
  net.add(b, [](p2p0mq::config& cfg) { cfg.default_route = a; });
  net.add(c);
  net.line({a, b, c});
  REQUIRE(net.run_until([&] { return net.connected({a, b, c}); }, 5s));
  net.clear_transfers();
  net.ping(a, nowhere);
  // A has no route either: its default route takes it to B at once.
  CHECK(net[a].outcomes.sent == 1);
  CHECK(net.transfers_of("r", true, a).empty());
  auto st = net.router_counters(b);
  CHECK(st.received == 1);
  CHECK(st.sent == 0);
  CHECK(st.dropped == 0);
  net.advance(30s - 1ms);
  CHECK(net.router_counters(b).dropped == 0);
  // B looked for it (not through A, where it came from) while holding it.
  auto from_b = net.transfers_of("r", true, b);
  REQUIRE(from_b.size() == 1);
  CHECK(from_b[0].to() == c);
  net.advance(1s);
  st = net.router_counters(b);
  CHECK(st.received == 1);
  CHECK(st.sent == 0);
  CHECK(st.dropped == 1);
  REQUIRE(warnings.lines.size() == 1);
  CHECK(warnings.lines[0].find("message_expired") != std::string::npos);
  // A message never goes back where it came from: B's default route (A)
  // was no way for it.
  CHECK(net.transfers_of("echo", true, b).empty());
}

TEST_CASE("the default route carries messages for peers without a route, "
          "without asking around",
          "[routing]") {
  sim_network net;
  build(net, {a, b, c}, {{a, b, c}},
        [](p2p0mq::config& cfg) { cfg.default_route = b; });
  auto id = net.ping(a, c);
  REQUIRE(net.run_until([&] { return net.answered(a, id); }, 1s));
  CHECK(net.transfers_of("r", true).empty());
  auto requests = net.transfers_of("echo", true);
  REQUIRE(requests.size() == 2);
  check_frames(requests[0], a, b, "", c);
  check_frames(requests[1], b, c, a, "");
}

TEST_CASE("a ROUTED peer comes back to CONNECTED when a direct message "
          "arrives, and traffic to it goes direct again",
          "[routing]") {
  sim_network net;
  build(net, {a, b, c}, {{a, b, c}});
  auto id = net.ping(a, c);
  REQUIRE(net.run_until([&] { return net.answered(a, id); }, 5s));
  REQUIRE(net.sees(a, c, peer_state::routed, b));
  // C learns A's address afresh and greets it directly.
  auto removed = p2p0mq::testing::try_ask<bool>(net, net[c].actors.peer_table(),
                                                p2p0mq::remove_atom::value, a);
  REQUIRE(removed);
  REQUIRE(*removed);
  REQUIRE(**removed);
  net.tell(c, a);
  REQUIRE(
      net.run_until([&] { return net.sees(a, c, peer_state::connected); }, 5s));
  net.clear_transfers();
  auto direct = net.ping(a, c);
  REQUIRE(net.run_until([&] { return net.answered(a, direct); }, 1s));
  auto requests = net.transfers_of("echo", true);
  REQUIRE(requests.size() == 1);
  check_frames(requests[0], a, c, "", "");
}

// -- legacy peers (the Python p2p0mq) -----------------------------------------

namespace {

/// The transfers that carried a message for `to` into `hop`: frame 0 names
/// the hop, frame 2 the final destination.
std::size_t carried_for(const sim_network& net, const std::string& hop,
                        const std::string& to) {
  std::size_t result = 0;
  for (auto& x : net.transfers())
    if (x.to() == hop && x.xs[2] == to)
      ++result;
  return result;
}

} // namespace

TEST_CASE("with only a legacy peer between A and C, nothing for C goes to it "
          "and A's sender reports the drop",
          "[routing][legacy]") {
  sim_network net;
  const std::string py = "python-01";
  net.add(a);
  net.add_legacy(py);
  net.add(c);
  net.line({a, py, c});
  REQUIRE(net.run_until([&] { return net.connected({a, py, c}); }, 5s));
  // A knows what each neighbour speaks from its hello.
  auto seen = net.record(a, py);
  REQUIRE(seen);
  CHECK(seen->legacy());
  CHECK_FALSE(seen->relays());
  net.clear_transfers();
  auto id = net.ping(a, c);
  net.run_for(40s);
  CHECK_FALSE(net.answered(a, id));
  CHECK(carried_for(net, py, c) == 0);
  // Not even asked: a legacy peer does not answer ask-around.
  CHECK(net.transfers_of("r", true, a).empty());
  auto& dropped = net[a].outcomes.dropped;
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].first.id == id);
  CHECK(has_code(dropped[0].second, errc::message_expired));
  // The legacy peer itself is reached directly.
  auto direct = net.ping(a, py);
  CHECK(net.run_until([&] { return net.answered(a, direct); }, 5s));
}

TEST_CASE("with a legacy hop and a C++ hop to C, the route goes through the "
          "C++ hop, whichever answers first",
          "[routing][legacy]") {
  // A asks legacy peers too (as if the network's Python peers ran the
  // ask-around concern), and the legacy peer is the quicker to answer.
  auto py_first = GENERATE(true, false);
  CAPTURE(py_first);
  sim_network net;
  const std::string py = "python-01";
  net.add(a, [](p2p0mq::config& cfg) { cfg.ask_around_legacy_peers = true; });
  net.add_legacy(py);
  net.add(b);
  net.add(c);
  net.line({a, py, c});
  net.line({a, b, c});
  REQUIRE(net.run_until([&] { return net.connected({a, py, c, b, a}); }, 5s));
  net.set_link(a, b, {py_first ? 50ms : 1ms, 0}, false);
  net.set_link(a, py, {py_first ? 1ms : 50ms, 0}, false);
  net.clear_transfers();
  auto id = net.ping(a, c);
  REQUIRE(net.run_until([&] { return net.answered(a, id); }, 10s));
  CHECK(net.sees(a, c, peer_state::routed, b));
  CHECK(carried_for(net, py, c) == 0);
  CHECK(carried_for(net, b, c) >= 1);
  // The legacy peer was asked, and answered.
  CHECK(net.transfers_of("r", true, a).size() == 2);
  CHECK(net.transfers_of("r", false, py).size() == 1);
}

TEST_CASE("a default route through a legacy peer carries nothing",
          "[routing][legacy]") {
  sim_network net;
  const std::string py = "python-01";
  net.add(a, [&](p2p0mq::config& cfg) { cfg.default_route = py; });
  net.add_legacy(py);
  net.add(c);
  net.line({a, py, c});
  REQUIRE(net.run_until([&] { return net.connected({a, py, c}); }, 5s));
  net.clear_transfers();
  auto id = net.ping(a, c);
  net.run_for(40s);
  CHECK_FALSE(net.answered(a, id));
  CHECK(carried_for(net, py, c) == 0);
  REQUIRE(net[a].outcomes.dropped.size() == 1);
}
