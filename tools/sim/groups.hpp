#pragma once

// The group experiment of p2p0mq-sim (--groups): members join random
// groups, random members publish, and every delivery is checked and timed.

#include <cstddef>
#include <cstdint>

#include "p2p0mq/testing/sim_network.hpp"

namespace p2p0mq::sim_tool {

/// What the group experiment does.
struct group_options {
  /// Groups (0: no experiment).
  std::size_t groups = 0;
  /// Members of each group, picked at random.
  std::size_t members = 20;
  /// Publications, each from a random member of a random group.
  std::size_t publishes = 1000;
  /// Publications per virtual second.
  double rate = 1000;
  /// After the publications, split the network in two halves for this long,
  /// then heal it and time how long membership takes to converge again
  /// (zero: no partition).
  duration partition{};
  /// Print one row of the BENCHMARKS.md table.
  bool markdown = false;
};

/// Runs the experiment on `net`, whose peers run the group concern and
/// whose links are CONNECTED, laid out as `graph` with `latency` per link;
/// prints its report. Returns false when a member delivered a publication
/// twice or out of its publisher's order.
bool run_groups(testing::sim_network& net, const testing::sim_graph& graph,
                const group_options& opts, std::uint64_t seed,
                duration latency);

} // namespace p2p0mq::sim_tool
