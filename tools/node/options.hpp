#pragma once

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
  std::vector<peer_address> peers;
  bool encryption = false;
  double duration = 0;
  bool json = false;
  bool echo = false;
  std::string ping;
  int count = 4;
  double interval = 0.2;
  double ping_timeout = 5;
  std::string log_level;
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

/// Parses `HOST:PORT` into `host` and `port`.
caf::error parse_host_port(const std::string& text, std::string& host,
                           std::uint16_t& port);

/// The `--help` text: every flag with its default.
std::string usage();

} // namespace p2p0mq::node
