// Chaos on the simulated network (p2p0mq/testing/chaos.hpp): seeds that
// keep every invariant through kills, restarts, partitions, one-way cuts,
// loss bursts and late joins, the same trace for the same seed, and the
// seeds that once broke an invariant.
#include "p2p0mq/testing/chaos.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>
#include <string>

#include "support/log_levels.hpp"

using namespace std::chrono_literals;
using p2p0mq::testing::chaos_invariant;
using p2p0mq::testing::chaos_options;
using p2p0mq::testing::chaos_report;
using p2p0mq::testing::check_chaos_seed;
using p2p0mq::testing::run_chaos;
using p2p0mq::testing::write_report;

namespace {

/// The report of `x`, for a failed check.
std::string text(const chaos_report& x) {
  std::ostringstream out;
  write_report(out, x);
  return out.str();
}

/// Runs `seed` with the default options: every invariant holds.
chaos_report passes(std::uint64_t seed) {
  chaos_options o;
  o.seed = seed;
  auto r = run_chaos(o);
  INFO(text(r));
  CHECK(r.ok);
  return r;
}

} // namespace

TEST_CASE("chaos: 24 seeds keep every invariant through kills, restarts, "
          "partitions, cuts, loss bursts and late joins",
          "[sim][chaos]") {
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  std::size_t faults = 0;
  std::size_t kills = 0;
  std::size_t restarts = 0;
  std::size_t replies = 0;
  std::size_t dropped = 0;
  std::size_t timeouts = 0;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    INFO("seed " << seed);
    auto r = passes(seed);
    faults +=
        r.kills + r.restarts + r.partitions + r.cuts + r.loss_bursts + r.joins;
    kills += r.kills;
    restarts += r.restarts;
    replies += r.requests_replied + r.asks_replied;
    dropped += r.requests_dropped;
    timeouts += r.asks_failed;
    CHECK(r.max_hops <= r.hop_limit);
    CHECK(r.reconnected_after <= r.reconnect_limit);
  }
  // The runs did what they claim: faults of every kind, and requests that
  // were answered, dropped and timed out.
  CHECK(faults > 24 * 20);
  CHECK(kills > 24);
  CHECK(restarts > 24);
  CHECK(replies > 24 * 50);
  CHECK(dropped > 0);
  CHECK(timeouts > 0);
}

TEST_CASE("chaos: the same seed gives the same trace, another seed another",
          "[sim][chaos]") {
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  chaos_options o;
  o.seed = 7;
  auto r = check_chaos_seed(o);
  INFO(text(r));
  REQUIRE(r.ok);
  CHECK(r.transfers > 1000);
  o.seed = 8;
  auto other = run_chaos(o);
  CHECK(other.digest != r.digest);
}

// Seeds that once broke an invariant; each names what it found.

TEST_CASE("chaos: seed 1, neighbours left ROUTED through relays after the "
          "last heal, reconnect straight",
          "[sim][chaos]") {
  // Broke 'reconnect': sim-000003 and sim-000004, whose link had been cut
  // one way, held each other ROUTED via sim-000000 for good. A ROUTED peer
  // with an address is now greeted straight every reconnect wait.
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  auto r = passes(1);
  CHECK(r.reconnected_after <= r.reconnect_limit);
}

TEST_CASE("chaos: seed 2016 of 12 peers and 80 steps, a late rejection "
          "reaches a restarted peer's concern",
          "[sim][chaos]") {
  // Broke 'one answer' in the checker itself: a rejection (which carries
  // no token) for a request of the peer's incarnation before its restart
  // reached the concern of the new one, and was taken for a reply nobody
  // asked for.
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  chaos_options o;
  o.seed = 2016;
  o.peers = 12;
  o.steps = 80;
  auto r = run_chaos(o);
  INFO(text(r));
  CHECK(r.ok);
  CHECK(r.restarts > 0);
}

TEST_CASE("chaos: seeds 234, 565, 975 and 997, neighbours ROUTED through a "
          "relay that died go silent and are greeted straight",
          "[sim][chaos]") {
  // Broke 'reconnect': both ends of a link held each other ROUTED through
  // relays, which were killed before the straight greeting was due; they
  // became UNREACHABLE, beat each other through the dead relays only, and
  // were never greeted straight until they gave up (a route hint in
  // between put the greeting off again). In seed 234 neither sent the other
  // anything for the last 62 s. A peer that goes silent while ROUTED is now
  // greeted straight on its schedule, and nothing puts that greeting off.
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  for (std::uint64_t seed : {234, 565, 975, 997}) {
    INFO("seed " << seed);
    auto r = passes(seed);
    CHECK(r.reconnected_after <= r.reconnect_limit);
    CHECK(r.forgotten_links.empty());
  }
}

TEST_CASE("chaos: seed 710, neighbours greeted straight are not sent back "
          "to their relay by a beat still on its way through it",
          "[sim][chaos]") {
  // Broke 'reconnect': sim-000004 and sim-000006 held each other ROUTED via
  // sim-000005 with their direct link up. Each straight greeting made the
  // pair CONNECTED for a few milliseconds, until a beat sent through the
  // relay before the greeting arrived and made the greeted end ROUTED
  // again, and the other after it. Such a beat no longer moves a peer heard
  // straight within the last heart-beat interval.
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  auto r = passes(710);
  CHECK(r.reconnected_after <= r.reconnect_limit);
  CHECK(r.forgotten_links.empty());
}

TEST_CASE("chaos: seed 756, a late joiner killed before its store kept the "
          "address it was told is not expected to meet that peer again",
          "[sim][chaos]") {
  // Broke 'reconnect' in the checker: sim-000009 joined, told only
  // sim-000000, and was killed 0.4 s later, before its store synced; it
  // came back without the address, and sim-000000 had never heard of it.
  // No rule greets a peer whose address it does not have: the link is left
  // out, and named in the report. Every other link reconnects.
  p2p0mq::testing::log_levels_guard guard;
  p2p0mq::set_log_level(p2p0mq::log_level::error);
  auto r = passes(756);
  CHECK(r.reconnected_after <= r.reconnect_limit);
  REQUIRE(r.forgotten_links.size() == 1);
  CHECK(r.forgotten_links.front() == "sim-000000 - sim-000009");
}
