#pragma once

#include <string>
#include <vector>

#include "p2p0mq/actors/metrics.hpp"

namespace p2p0mq::node {

/// One line of `--json` output: `{"t": 1.5, ` and then the fields of
/// `to_json(m)` (see metrics.hpp), e.g. `"peers": {"ID": {"state":
/// "CONNECTED", "host": "127.0.0.1", "port": 1234, "via": null, ...}}`.
std::string json_line(double t, const local_peer_metrics& m);

/// A readable table of the peers in `m` that fits 80 columns: state, time in
/// it, time since last heard, address and via, CONNECTED first. With
/// `colour`, each state is coloured (ANSI escapes, for terminals).
std::string table(double t, const local_peer_metrics& m, bool colour);

} // namespace p2p0mq::node
