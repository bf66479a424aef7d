#pragma once

// Networks grown by discovery in the simulator: each peer told one earlier
// peer, and what the mesh looks like once the peer exchange has worked on it
// (degrees, diameter, the hops messages take).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "p2p0mq/config.hpp"
#include "p2p0mq/testing/sim_network.hpp"

namespace p2p0mq::testing {

/// Adds `n` peers to `net` (`sim_uuid(0)` to `sim_uuid(n - 1)`), each but the
/// first told the address of one earlier peer picked at random (from
/// `seed`), as a node given one bootstrap address is. The peers start
/// `spread` apart in virtual time; `tune` may change each one's settings
/// (e.g. set `discovery.target_degree`). Returns the bootstrap peer of each
/// (the first: itself).
std::vector<std::size_t>
add_bootstrap_network(sim_network& net, std::size_t n, std::uint64_t seed,
                      duration spread = std::chrono::milliseconds{1},
                      const std::function<void(config&)>& tune = {});

/// The direct links of a simulated network as its peer tables show them.
struct sim_mesh {
  /// The peers, in order.
  std::vector<std::string> uuids;
  /// For each peer, the peers it has CONNECTED (by index).
  std::vector<std::vector<std::size_t>> direct;

  /// The number of CONNECTED records of each peer.
  std::vector<std::size_t> degrees() const;

  /// The most hops between two peers over links that at least one end sees
  /// CONNECTED; -1 when some peer cannot reach another.
  int diameter() const;

  /// How many peers have each degree: `histogram()[d]` peers have degree d.
  std::vector<std::size_t> histogram() const;
};

/// Reads every peer table of `net` (a run of the system, no virtual time).
sim_mesh read_mesh(sim_network& net);

/// The hops a message from `from` to `to` takes now, following the routes of
/// the peer tables (a CONNECTED record: one hop; ROUTED via `v`: the hop to
/// `v`, then `v`'s route); -1 when a table has no route, or the routes loop
/// or exceed 64 hops.
int route_hops(sim_network& net, const std::string& from,
               const std::string& to);

} // namespace p2p0mq::testing
