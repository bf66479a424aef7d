// Discovery in the simulator: the peer exchange announced in `hello` and
// never sent to a legacy peer, a mesh grown from one bootstrap address per
// peer, links let go above twice the target, and the bounds on what forged
// samples make a peer do.
#include "p2p0mq/actors/exchange.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/discovery.hpp"
#include "p2p0mq/testing/sim_mesh.hpp"
#include "p2p0mq/testing/sim_network.hpp"
#include "support/log_capture.hpp"

using namespace std::chrono_literals;
using p2p0mq::capability;
using p2p0mq::concern_counters;
using p2p0mq::exchange_command;
using p2p0mq::peer_origin;
using p2p0mq::peer_state;
using p2p0mq::testing::sim_network;
using p2p0mq::testing::sim_uuid;

namespace {

/// Settings with the peer exchange on, keeping `target` direct links.
std::function<void(p2p0mq::config&)> exchanging(std::size_t target) {
  return [target](p2p0mq::config& c) { c.discovery.target_degree = target; };
}

/// The counters of `uuid`'s exchange concern.
concern_counters exchange_counters(sim_network& net, const std::string& uuid) {
  auto concern = p2p0mq::testing::try_ask<p2p0mq::concern_actor>(
      net, net[uuid].actors.supervisor(), p2p0mq::get_atom::value,
      std::string{exchange_command});
  REQUIRE(concern);
  REQUIRE(*concern);
  auto result = p2p0mq::testing::try_ask<concern_counters>(
      net, **concern, p2p0mq::stats_atom::value);
  REQUIRE(result);
  REQUIRE(*result);
  return **result;
}

/// Has `from` dial `to` as the exchange does (`learn_atom`).
void dial(sim_network& net, const std::string& from, const std::string& to) {
  auto x = p2p0mq::testing::try_ask<p2p0mq::peer>(
      net, net[from].actors.peer_table(), p2p0mq::learn_atom::value, to,
      std::string{"sim"}, net[to].port, peer_origin::exchange);
  REQUIRE(x);
  REQUIRE(*x);
}

/// A sample naming `peers` at `port` and up.
p2p0mq::payload sample_of(const std::vector<std::string>& peers,
                          std::uint16_t port) {
  p2p0mq::exchange_body body;
  body.degree = 1;
  for (auto& x : peers)
    body.peers.push_back(p2p0mq::exchanged_peer{x, "sim", port++});
  return p2p0mq::make_exchange_payload(body);
}

std::size_t degree_of(sim_network& net, const std::string& uuid) {
  std::size_t result = 0;
  for (auto& p : net.table(uuid))
    result += p.state == peer_state::connected ? 1 : 0;
  return result;
}

} // namespace

TEST_CASE("exchange: a peer with a target degree announces exchange in its "
          "hello, and no pex message goes to or comes from a legacy peer",
          "[discovery]") {
  sim_network net;
  for (auto& x : {"ex-a-01", "ex-b-02", "ex-c-03"})
    net.add(x, exchanging(3));
  net.add("plain-04");
  net.add_legacy("legacy-05");
  net.line({"ex-a-01", "ex-b-02", "ex-c-03", "legacy-05", "plain-04"});
  net.tell("ex-a-01", "legacy-05");
  net.advance(60s);
  auto b = net.record("ex-a-01", "ex-b-02");
  REQUIRE(b);
  REQUIRE(b->speaks);
  CHECK(b->speaks->has(capability::exchange));
  auto plain = net.record("legacy-05", "plain-04");
  REQUIRE(plain);
  CHECK(net.sees("ex-c-03", "legacy-05", peer_state::connected));
  auto legacy = net.record("ex-c-03", "legacy-05");
  REQUIRE(legacy);
  CHECK(legacy->legacy());
  auto plain_seen = net.record("ex-c-03", "plain-04");
  if (plain_seen && plain_seen->speaks)
    CHECK_FALSE(plain_seen->speaks->has(capability::exchange));
  // The exchange ran between the three that speak it: a and c, told of
  // each other by b, are linked directly.
  CHECK(net.sees("ex-a-01", "ex-c-03", peer_state::connected));
  auto pex = net.transfers_of(exchange_command, true);
  CHECK_FALSE(pex.empty());
  for (auto& x : net.transfers()) {
    if (x.command() != exchange_command)
      continue;
    CHECK(x.to() != "legacy-05");
    CHECK(x.to() != "plain-04");
    CHECK(x.from != "legacy-05");
    CHECK(x.from != "plain-04");
  }
}

TEST_CASE("exchange: sixty peers each told one earlier peer reach the target "
          "degree, none above three times it, with a diameter within "
          "2 log2 N",
          "[discovery]") {
  p2p0mq::testing::sim_options so;
  so.trace = false;
  so.echo = false;
  sim_network net{so};
  const std::size_t n = 60;
  const std::size_t target = 4;
  p2p0mq::testing::add_bootstrap_network(net, n, 3, 10ms, exchanging(target));
  p2p0mq::testing::sim_mesh mesh;
  auto within = [&] {
    mesh = p2p0mq::testing::read_mesh(net);
    for (auto d : mesh.degrees())
      if (d < target || d > 3 * target)
        return false;
    return true;
  };
  REQUIRE(net.run_until(within, 60s, 1s));
  auto diameter = mesh.diameter();
  CHECK(diameter > 0);
  CHECK(diameter <= 2 * std::log2(static_cast<double>(n)));
  // Links the exchange made, recorded as such.
  std::size_t learnt = 0;
  for (auto& p : net.table(sim_uuid(n - 1)))
    learnt += p.origin == peer_origin::exchange ? 1 : 0;
  for (auto& p : net.table(sim_uuid(n / 2)))
    learnt += p.origin == peer_origin::exchange ? 1 : 0;
  CHECK(learnt > 0);
  // And it holds: a minute later every peer is still within bounds.
  net.advance(60s);
  CHECK(within());
}

TEST_CASE("exchange: a peer with more than twice the target degree lets the "
          "excess go, and both ends forget the link",
          "[discovery]") {
  sim_network net;
  const std::string hub = "hub-0000";
  std::vector<std::string> leaves;
  net.add(hub, exchanging(2));
  for (int i = 0; i < 6; ++i) {
    leaves.push_back("leaf-" + std::to_string(i) + "00");
    net.add(leaves.back(), exchanging(2));
  }
  // A ring of leaves, each dialling the hub as the exchange would: no link
  // was asked for by the user, so any may go.
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    dial(net, leaves[i], leaves[(i + 1) % leaves.size()]);
    dial(net, leaves[i], hub);
  }
  REQUIRE(net.run_until([&] { return degree_of(net, hub) == 6; }, 10s));
  REQUIRE(net.run_until([&] { return degree_of(net, hub) <= 4; }, 30s, 1s));
  auto counters = exchange_counters(net, hub);
  CHECK(counters["links_let_go"] >= 2);
  CHECK(counters["leaves_accepted"] >= 2);
  // A leaf let go has no record of the hub any more (or a route through
  // others), and the hub none of it.
  std::size_t gone = 0;
  for (auto& leaf : leaves)
    if (!net.sees(hub, leaf, peer_state::connected)) {
      ++gone;
      CHECK_FALSE(net.sees(leaf, hub, peer_state::connected));
    }
  CHECK(gone >= 2);
  // Nobody fell below the target.
  for (auto& leaf : leaves)
    CHECK(degree_of(net, leaf) >= 2);
}

TEST_CASE("exchange: a forged sample larger than allowed is dropped with a "
          "log line and dials nothing",
          "[discovery]") {
  auto& log = p2p0mq::testing::log_capture::install();
  sim_network net;
  net.add("victim-1", exchanging(8));
  net.add("forger-2", exchanging(8));
  net.line({"victim-1", "forger-2"});
  REQUIRE(net.run_until(
      [&] {
        return net.connected({"victim-1", "forger-2"});
      },
      5s));
  auto mark = log.mark();
  std::vector<std::string> fakes;
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i <= p2p0mq::max_exchange_sample; ++i) {
    fakes.push_back("fake-" + std::to_string(i));
    addresses.push_back("sim:" + std::to_string(20000 + i));
  }
  auto forged = p2p0mq::payload_builder{}
                    .add_string("op", "sample")
                    .add_integer("degree", 1)
                    .add_bytes_array("peers", fakes)
                    .add_string_array("addresses", addresses)
                    .build();
  net.send("forger-2", "victim-1", exchange_command, forged);
  net.advance(5s);
  CHECK(log.contains(mark, {"forger-2", "65 peers"}));
  for (auto& p : net.table("victim-1"))
    CHECK(p.uuid.rfind("fake-", 0) != 0);
  CHECK(exchange_counters(net, "victim-1")["dropped"] == 1);
}

TEST_CASE("exchange: a peer dials at most exchange-dials peers a tick and "
          "does not dial a failing address again before the reconnect wait",
          "[discovery]") {
  sim_network net;
  net.add("victim-1", exchanging(8));
  net.add("forger-2", exchanging(8));
  net.line({"victim-1", "forger-2"});
  REQUIRE(net.run_until(
      [&] {
        return net.connected({"victim-1", "forger-2"});
      },
      5s));
  auto dials = [&] { return exchange_counters(net, "victim-1")["dials"]; };
  auto before = dials();
  // Twenty peers that do not exist: four dials in this tick (the default
  // exchange-dials), the others later.
  std::vector<std::string> fakes;
  for (int i = 0; i < 20; ++i)
    fakes.push_back("ghost-" + std::to_string(i));
  net.send("forger-2", "victim-1", exchange_command, sample_of(fakes, 30000));
  net.advance(10ms);
  CHECK(dials() - before == 4);
  // A minute of samples naming them again: at most four a tick, never one
  // twice (each dial fails: nothing listens there), and the victim stops
  // once dials are pending for its whole target.
  for (int i = 0; i < 60; ++i) {
    net.send("forger-2", "victim-1", exchange_command, sample_of(fakes, 30000));
    net.advance(1s);
  }
  auto within_wait = dials() - before;
  CHECK(within_wait <= fakes.size());
  CHECK(within_wait >= 8);
  // After the reconnect wait they may be dialled again.
  net.advance(net["victim-1"].settings->reconnect_wait);
  for (int i = 0; i < 3; ++i) {
    net.send("forger-2", "victim-1", exchange_command, sample_of(fakes, 30000));
    net.advance(1s);
  }
  CHECK(dials() - before > within_wait);
}
