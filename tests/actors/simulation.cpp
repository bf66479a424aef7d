// The simulated network of p2p0mq::testing: its controls (latency, loss,
// partitions, one-way links, kill and restart, late peers), what it lets a
// test see, that a seed fixes a run byte for byte, and whole-network
// scenarios of the seed's rules at scale.
#include "p2p0mq/testing/sim_network.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/field.hpp"
#include "support/settings.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::peer_state;
using p2p0mq::testing::add_random_network;
using p2p0mq::testing::random_graph;
using p2p0mq::testing::sim_fate;
using p2p0mq::testing::sim_link;
using p2p0mq::testing::sim_network;
using p2p0mq::testing::sim_options;
using p2p0mq::testing::sim_uuid;

namespace {

const std::string a = "sim-a-01";
const std::string b = "sim-b-02";
const std::string c = "sim-c-03";

/// A network of `names`, each told the next one's address, CONNECTED.
void pair_up(sim_network& net, const std::vector<std::string>& names) {
  for (auto& x : names)
    net.add(x);
  net.line(names);
  REQUIRE(net.run_until([&] { return net.connected(names); }, 5s));
  net.clear_transfers();
}

/// Runs `net` until `pred` holds, checking every virtual second; returns the
/// virtual time it took, or a negative duration after `limit`.
p2p0mq::duration time_until(sim_network& net, const std::function<bool()>& pred,
                            p2p0mq::duration limit) {
  auto t0 = net.now();
  if (!net.run_until(pred, limit, 1s))
    return -1s;
  return net.now() - t0;
}

} // namespace

TEST_CASE("sim: a random graph is connected, has the degree asked for and "
          "depends on the seed only") {
  auto es = random_graph(1000, 4, 7);
  CHECK(es.size() == 2000);
  p2p0mq::testing::sim_graph g;
  g.links = es;
  g.neighbours.resize(1000);
  for (auto [x, y] : es) {
    g.neighbours[x].push_back(y);
    g.neighbours[y].push_back(x);
  }
  // Connected: every peer is some hops from peer 0.
  auto hops = g.hops_from(0);
  CHECK(std::count(hops.begin(), hops.end(), -1) == 0);
  CHECK(random_graph(1000, 4, 7) == es);
  CHECK(random_graph(1000, 4, 8) != es);
  CHECK(sim_uuid(42) == "sim-000042");
}

TEST_CASE("sim: a link's latency delays every message part by exactly that "
          "much") {
  sim_network net;
  pair_up(net, {a, b});
  net.set_link(a, b, sim_link{50ms});
  auto id = net.ping(a, b);
  net.advance(99ms);
  CHECK_FALSE(net.answered(a, id));
  net.advance(1ms);
  CHECK(net.answered(a, id));
  auto trip = net.transfers_of(p2p0mq::echo_command, true, a);
  REQUIRE(trip.size() == 1);
  CHECK(trip[0].arrives - trip[0].at == 50ms);
}

TEST_CASE("sim: a one-way cut makes the deaf side UNREACHABLE, then "
          "NO_CONNECTION, on the seed's schedule") {
  sim_network net;
  pair_up(net, {a, b});
  // a hears nothing from b any more; b still hears a.
  net.cut(b, a, true);
  auto t0 = net.now();
  REQUIRE(net.run_until([&] { return net.sees(a, b, peer_state::unreachable); },
                        60s, 1s));
  auto unreachable_after = net.now() - t0;
  // a heard b last at most one heart-beat interval (4 s) before the cut.
  // The thresholds (40 s, then 240 s of silence) are checked when a beat is
  // due, and unanswered beats slow down to one every 14 s: UNREACHABLE
  // within 40 + 14 s (and a tick) of the cut.
  CHECK(unreachable_after > 40s - 4s);
  CHECK(unreachable_after <= 40s + 14s + 1s);
  REQUIRE(net.run_until(
      [&] { return net.sees(a, b, peer_state::no_connection); }, 300s, 1s));
  auto gone_after = net.now() - t0;
  CHECK(gone_after > 240s - 4s);
  CHECK(gone_after <= 240s + 14s + 1s);
  // The part of the wire that works still does: a's beats reached b, so b
  // never lost a.
  CHECK(net.sees(b, a, peer_state::connected));
  auto lost = net.traffic(b).at(p2p0mq::heart_beat_command).lost;
  CHECK(lost > 0);
}

TEST_CASE("sim: partition and heal a small network") {
  sim_network net;
  pair_up(net, {a, b, c});
  net.partition({{a}, {b, c}});
  REQUIRE(net.run_until(
      [&] {
        return net.sees(a, b, peer_state::no_connection) &&
               net.sees(b, a, peer_state::no_connection);
      },
      300s, 1s));
  CHECK(net.connected({b, c}));
  net.heal();
  // The connector greets a NO_CONNECTION peer again after the reconnect
  // wait (120 s).
  REQUIRE(net.run_until([&] { return net.connected({a, b, c}); }, 130s, 1s));
}

TEST_CASE("sim: neighbours that fell back to a relay while their link was "
          "down are CONNECTED straight again once it heals") {
  sim_network net;
  pair_up(net, {a, b, c});
  net.tell(a, c);
  REQUIRE(net.run_until([&] { return net.connected({c, a}); }, 5s));
  // a and b lose each other, then find each other through c.
  net.cut(a, b);
  REQUIRE(net.run_until(
      [&] {
        return net.sees(a, b, peer_state::no_connection) &&
               net.sees(b, a, peer_state::no_connection);
      },
      300s, 1s));
  auto id = net.ping(b, a);
  REQUIRE(net.run_until([&] { return net.answered(b, id); }, 30s));
  REQUIRE(net.sees(b, a, peer_state::routed, c));
  REQUIRE(net.sees(a, b, peer_state::routed, c));
  net.heal();
  // Each greets the other straight one reconnect wait (120 s) after it
  // became ROUTED, and holds it CONNECTED once it answers. (They used to
  // stay ROUTED through c for good.)
  auto t0 = net.now();
  REQUIRE(net.run_until([&] { return net.connected({a, b}); }, 130s, 1s));
  CHECK(net.now() - t0 <= 120s);
  net.clear_transfers();
  auto id2 = net.ping(a, b);
  net.advance(1s);
  CHECK(net.answered(a, id2));
  auto trip = net.transfers_of(p2p0mq::echo_command, true, a);
  REQUIRE(trip.size() == 1);
  CHECK(trip[0].to() == b);
}

TEST_CASE("sim: loss on a link is drawn from the seed") {
  auto run = [](std::uint64_t seed) {
    sim_options o;
    o.seed = seed;
    o.link.loss = 0.1;
    sim_network net{o};
    for (auto& x : {a, b})
      net.add(x);
    net.tell(a, b);
    net.advance(600s);
    std::uint64_t lost = 0;
    for (auto& [command, t] : net.total_traffic())
      lost += t.lost;
    return std::make_pair(lost, net.digest());
  };
  auto x = run(1);
  CHECK(x.first > 0);
  CHECK(run(1) == x);
  CHECK(run(2).second != x.second);
}

TEST_CASE("sim: the same seed gives the same trace, byte for byte") {
  auto run = [](std::uint64_t seed) {
    sim_options o;
    o.seed = seed;
    o.link.latency = 3ms;
    o.link.loss = 0.05;
    sim_network net{o};
    for (std::size_t i = 0; i < 12; ++i)
      net.add(sim_uuid(i));
    for (auto [x, y] : random_graph(12, 3, seed))
      net.tell(sim_uuid(x), sim_uuid(y));
    net.advance(30s);
    net.ping(sim_uuid(0), sim_uuid(6));
    net.partition({{sim_uuid(0), sim_uuid(1), sim_uuid(2)}});
    net.advance(60s);
    net.heal();
    net.advance(150s);
    std::ostringstream out;
    net.write_trace(out);
    return std::make_pair(out.str(), net.digest());
  };
  auto first = run(11);
  auto second = run(11);
  CHECK(first.first.size() > 10000);
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
  auto other = run(12);
  CHECK(other.first != first.first);
  CHECK(other.second != first.second);
}

TEST_CASE("sim: watching a link keeps its frames with tracing off") {
  sim_options o;
  o.trace = false;
  sim_network net{o};
  for (auto& x : {a, b, c})
    net.add(x);
  // Watched before the peers are told of each other: they greet at once.
  net.watch(a, b);
  net.line({a, b, c});
  REQUIRE(net.run_until([&] { return net.connected({a, b, c}); }, 5s));
  net.advance(30s);
  auto kept = net.transfers_between(a, b);
  REQUIRE_FALSE(kept.empty());
  CHECK(kept.size() == net.transfers().size());
  std::set<std::string> commands;
  for (auto& x : kept) {
    CHECK(((x.from == a && x.to() == b) || (x.from == b && x.to() == a)));
    CHECK(x.fate == sim_fate::delivered);
    commands.insert(x.command());
  }
  CHECK(commands == std::set<std::string>{"hb", "hello"});
  // The counters cover every link, kept or not.
  CHECK(net.traffic(c).at(p2p0mq::heart_beat_command).sent > 0);
  CHECK(net.traffic(c).at(p2p0mq::heart_beat_command).received > 0);
}

TEST_CASE("sim: a killed peer restarts from its store and its neighbours "
          "take it back") {
  p2p0mq::testing::temp_dir dir;
  auto db = dir / "b.db";
  sim_network net;
  net.add(a);
  net.add(b, [&](p2p0mq::config& x) {
    x.database = db;
    x.store_sync_interval = 1s;
  });
  net.tell(b, a);
  REQUIRE(net.run_until([&] { return net.connected({a, b}); }, 5s));
  net.advance(2s); // b's store has synced a
  net.kill(b);
  CHECK_FALSE(net[b].alive);
  auto id = net.ping(a, b);
  net.advance(1s);
  CHECK_FALSE(net.answered(a, id));
  REQUIRE(net.run_until([&] { return net.sees(a, b, peer_state::unreachable); },
                        60s, 1s));
  auto& again = net.restart(b);
  CHECK(again.alive);
  // Its table came back from the store: it greets a, which takes it back.
  REQUIRE(net.record(b, a));
  REQUIRE(net.run_until([&] { return net.connected({a, b}); }, 10s));
  auto id2 = net.ping(a, b);
  net.advance(1s);
  CHECK(net.answered(a, id2));
}

TEST_CASE("sim: a peer added an hour late joins the network") {
  sim_network net;
  pair_up(net, {a, b});
  net.advance(1h);
  CHECK(net.connected({a, b}));
  net.add(c);
  net.tell(c, b);
  REQUIRE(net.run_until([&] { return net.connected({a, b, c}); }, 5s));
}

TEST_CASE("sim: a user's concern, its traffic and request/reply through the "
          "requester") {
  sim_network net;
  pair_up(net, {a, b});
  net.add_concern(
      b, "twice",
      p2p0mq::make_concern([](p2p0mq::concern_base&,
                              const p2p0mq::message& req) -> p2p0mq::answer {
        auto n = p2p0mq::field<std::int64_t>(req.payload, "n");
        if (!n)
          return n.error();
        return p2p0mq::payload_builder{}.add_integer("n", 2 * *n).build();
      }));
  auto reply = net.request(
      a, b, "twice", p2p0mq::payload_builder{}.add_integer("n", 21).build());
  REQUIRE(reply);
  CHECK(p2p0mq::field<std::int64_t>(reply->payload, "n") == 42);
  CHECK(net.traffic(a).at("twice").sent == 1);
  CHECK(net.traffic(b).at("twice").received == 1);
  CHECK(net.traffic(b).at("twice").sent == 1);
  // A rejection and a timeout reach the caller as errors.
  auto rejected = net.request(a, b, "twice", p2p0mq::payload{});
  REQUIRE_FALSE(rejected);
  CHECK(p2p0mq::is(rejected.error(), errc::rejected));
  net.cut(a, b);
  auto t0 = net.now();
  auto lost = net.request(
      a, b, "twice", p2p0mq::payload_builder{}.add_integer("n", 1).build(), 2s);
  REQUIRE_FALSE(lost);
  CHECK(p2p0mq::is(lost.error(), errc::request_timeout));
  CHECK(net.now() - t0 >= 2s);
  // What the sender did with the test's own requests.
  auto stats = net.sender_counters(a);
  CHECK(stats.sent > 0);
}

TEST_CASE("sim: 1,000 peers on a random sparse graph connect and stay "
          "connected through heart-beats",
          "[sim][scale]") {
  // The suite runs 2 virtual minutes under the sanitizers (30 beats at
  // 4 s); `p2p0mq-sim --peers 1000 --duration 3600` runs the
  // hour (BENCHMARKS.md).
  sim_options o;
  o.trace = false;
  o.echo = false;
  o.link.latency = 1ms;
  sim_network net{o};
  auto g = add_random_network(net, 1000, 4, 1);
  auto took = time_until(
      net, [&] { return g.broken_links(net) == 0; }, 30s);
  INFO("converged after " << std::chrono::duration<double>(took).count()
                          << " s");
  REQUIRE(took >= 0s);
  CHECK(took <= 5s);
  for (int i = 0; i < 2; ++i) {
    net.advance(1min);
    INFO("minute " << i + 1);
    CHECK(g.broken_links(net) == 0);
  }
  auto hb = net.total_traffic().at(p2p0mq::heart_beat_command);
  CHECK(hb.lost == 0);
  CHECK(hb.refused == 0);
  CHECK(hb.received == hb.sent);
}

TEST_CASE("sim: a network split in halves loses the other half on the "
          "seed's schedule and heals",
          "[sim][scale]") {
  sim_options o;
  o.trace = false;
  o.echo = false;
  sim_network net{o};
  auto g = add_random_network(net, 100, 4, 3);
  REQUIRE(net.run_until([&] { return g.broken_links(net) == 0; }, 10s, 1s));
  net.advance(30s);
  std::vector<std::string> left;
  std::vector<std::string> right;
  for (std::size_t i = 0; i < 100; ++i)
    (i < 50 ? left : right).push_back(sim_uuid(i));
  // The links that cross, seen from both ends.
  std::vector<std::pair<std::string, std::string>> crossing;
  for (std::size_t i = 0; i < 100; ++i)
    for (auto j : g.neighbours[i])
      if ((i < 50) != (j < 50))
        crossing.emplace_back(sim_uuid(i), sim_uuid(j));
  REQUIRE(crossing.size() >= 4);
  auto all_in = [&](peer_state s) {
    for (auto& [x, y] : crossing)
      if (!net.sees(x, y, s))
        return false;
    return true;
  };
  auto none_in = [&](peer_state s) {
    for (auto& [x, y] : crossing)
      if (net.sees(x, y, s))
        return false;
    return true;
  };
  net.partition({left, right});
  // Each end heard the other at most one heart-beat interval (4 s) before
  // the split: nothing changes for 40 - 4 s. The threshold is checked when a
  // beat is due, and unanswered beats slow down to one every 14 s.
  net.advance(35s);
  CHECK(none_in(peer_state::unreachable));
  CHECK(g.broken_links(net) == 0);
  auto unreachable = time_until(
      net, [&] { return all_in(peer_state::unreachable); }, 30s);
  REQUIRE(unreachable >= 0s);
  CHECK(35s + unreachable <= 40s + 14s + 1s);
  // NO_CONNECTION after 240 s of silence, on the same beats.
  net.advance(240s - 4s - 35s - unreachable - 1s);
  CHECK(none_in(peer_state::no_connection));
  auto gone = time_until(
      net, [&] { return all_in(peer_state::no_connection); }, 30s);
  REQUIRE(gone >= 0s);
  // Inside each half, nothing was lost.
  for (std::size_t i = 0; i < 100; ++i)
    for (auto j : g.neighbours[i])
      if ((i < 50) == (j < 50))
        CHECK(net.sees(sim_uuid(i), sim_uuid(j), peer_state::connected));
  net.heal();
  // Each side greets again after the reconnect wait (120 s) plus the
  // slow-down its unanswered beats grew to (10 s at most): both ends of a
  // link beat in step, so both give up on the other at the same beat.
  auto back = time_until(
      net, [&] { return g.broken_links(net) == 0; }, 140s);
  REQUIRE(back >= 0s);
  CHECK(back > 120s);
  CHECK(back <= 120s + 10s + 1s);
}

TEST_CASE("sim: ask-around finds a peer 6 hops away in a 1,000-peer "
          "network",
          "[sim][scale]") {
  sim_options o;
  o.trace = false;
  o.link.latency = 1ms;
  sim_network net{o};
  auto g = add_random_network(net, 1000, 3, 5);
  REQUIRE(net.run_until([&] { return g.broken_links(net) == 0; }, 30s, 1s));
  // A peer exactly 6 hops from peer 0.
  auto hops = g.hops_from(0);
  std::size_t far = 0;
  while (far < 1000 && hops[far] != 6)
    ++far;
  REQUIRE(far < 1000);
  auto from = sim_uuid(0);
  auto to = sim_uuid(far);
  CHECK_FALSE(net.record(from, to));
  auto id = net.ping(from, to);
  REQUIRE(net.run_until([&] { return net.answered(from, id); }, 10s));
  // The first answer to the flood of questions came the shortest way: the
  // request and its reply took 6 hops each.
  CHECK(net.total_traffic().at(p2p0mq::echo_command).sent == 12);
  // The source learnt a route through one of its neighbours.
  auto route = net.record(from, to);
  REQUIRE(route);
  CHECK(route->state == peer_state::routed);
  std::set<std::string> neighbours;
  for (auto y : g.neighbours[0])
    neighbours.insert(sim_uuid(y));
  CHECK(neighbours.count(route->via) == 1);
  CHECK(net.total_traffic().at(p2p0mq::ask_around_command).sent > 0);
}
