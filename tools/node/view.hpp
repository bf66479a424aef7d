#pragma once

#include <string>
#include <vector>

#include "p2p0mq/peer.hpp"

namespace p2p0mq::node {

/// Escapes `x` as the contents of a JSON string (bytes that are not printable
/// ASCII become `\u00XX`).
std::string json_escape(const std::string& x);

/// One line of `--json` output:
/// `{"t": 1.5, "uuid": "...", "peers": {"ID": {"state": "CONNECTED",
/// "host": "127.0.0.1", "port": 1234, "via": null}}}`.
std::string json_line(double t, const std::string& uuid,
                      const std::vector<peer>& peers);

/// A readable table of `peers` that fits 80 columns.
std::string table(double t, const std::string& uuid, std::uint16_t port,
                  const std::vector<peer>& peers);

} // namespace p2p0mq::node
