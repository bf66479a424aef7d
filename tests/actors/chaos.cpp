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
