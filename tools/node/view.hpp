#pragma once

#include <string>
#include <vector>

#include "p2p0mq/actors/metrics.hpp"

namespace p2p0mq::node {

/// One line of `--json` output: `{"t": 1.5, ` and then the fields of
/// `to_json(m)` (see metrics.hpp), e.g. `"peers": {"ID": {"state":
/// "CONNECTED", "host": "127.0.0.1", "port": 1234, "via": null, ...}}`.
std::string json_line(double t, const local_peer_metrics& m);

/// A readable view of `m` that fits 80 columns: the sender's and the
/// receiver's counters, messages in and out by concern, then a table of the
/// peers, CONNECTED first: state, time in it, time since last heard, the
/// round-trip time of the last heart-beat, bytes in and out, and the address
/// (the via of a routed peer). With `colour`, each state is coloured (ANSI
/// escapes, for terminals); without, the text has no escapes at all.
std::string table(double t, const local_peer_metrics& m, bool colour);

} // namespace p2p0mq::node
