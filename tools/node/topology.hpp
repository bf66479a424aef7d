#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

#include "p2p0mq/peer.hpp"

namespace p2p0mq::node {

/// The peers `uuid` knows, as a Graphviz DOT graph: the local peer in the
/// middle, an edge to every peer coloured by its state (green CONNECTED,
/// blue ROUTED, orange CONNECTING, red UNREACHABLE, grey otherwise), and a
/// ROUTED peer drawn through its `via` with a dashed edge.
std::string topology_dot(const std::string& uuid,
                         const std::vector<peer>& peers);

/// Writes `topology_dot` to `path`; a path ending in `.svg` is rendered by
/// Graphviz's `dot`, which must be on the PATH. Replaces the file atomically
/// (written next to it, then renamed), so readers never see half a picture.
caf::error write_topology(const std::string& path, const std::string& uuid,
                          const std::vector<peer>& peers);

} // namespace p2p0mq::node
