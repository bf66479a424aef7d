#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace p2p0mq::node {

/// A peer named on the command line: `ID@HOST:PORT`.
struct peer_address {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
};

/// What `p2p0mq-node` was asked to do.
struct options {
  std::string uuid;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  /// Whether `--bind` was given (else the config's host and port apply).
  bool bind_given = false;
  std::vector<peer_address> peers;
  /// The peer store's SQLite file; empty: peers in memory only.
  std::string database;
  bool encryption = true;
  /// Certificate directory holding `public/` and `private/`; empty: the
  /// library's default.
  std::string certs;
  double duration = 0;
  bool json = false;
  bool echo = false;
  std::string ping;
  int count = 4;
  double interval = 0.2;
  double ping_timeout = 5;
  /// `LEVEL`, `CATEGORY=LEVEL` or a comma-separated list of both.
  std::string log_level;
  /// Serve Prometheus metrics on `metrics_host:metrics_port`.
  bool metrics = false;
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 0;
  /// Write the topology (Graphviz DOT, or SVG for a `.svg` name) here.
  std::string topology;
  /// Show the live table even while pinging.
  bool watch = false;
  /// Groups to join at start (`--join`, repeatable).
  std::vector<std::string> join;
  /// The group to publish `count` messages to (`--publish`); empty: none.
  std::string publish;
  /// LAN beacons and peer exchange (`--discover`).
  bool discover = false;
  /// The peer exchange's target degree (`--target-degree`); 0: unset.
  std::size_t target_degree = 0;
  /// The default route (`--route-via`); empty: none.
  std::string route_via;
  bool help = false;
  bool version = false;
  /// Arguments for CAF's own parser (`--p2p0mq.*`, `--scheduler.*`, ...).
  std::vector<std::string> caf_args;
};

/// Parses the arguments after the program name. Errors name the offending
/// flag and what is wrong (`errc::invalid_config`).
caf::expected<options> parse(const std::vector<std::string>& args);

/// Parses `ID@HOST:PORT`.
caf::expected<peer_address> parse_peer_address(const std::string& text);

/// Applies a `--log-level` value: `LEVEL` sets every category,
/// `CATEGORY=LEVEL` one category, and a comma-separated list does each in
/// turn (e.g. `warning,security=debug`). Errors name the bad part.
caf::error apply_log_levels(const std::string& spec);

/// Parses `HOST:PORT` into `host` and `port`.
caf::error parse_host_port(const std::string& text, std::string& host,
                           std::uint16_t& port);

/// The `--help` text: every flag with its default.
std::string usage();

} // namespace p2p0mq::node
