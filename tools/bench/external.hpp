#pragma once

#include <cstddef>
#include <string>

namespace p2p0mq::bench {

/// What the load generator measured of one echo peer.
struct external_side {
  /// Replies per second, `external_options::window` requests in flight
  /// (median of the rounds).
  double rate = 0;
  /// Round trips, one request in flight, in microseconds (median of the
  /// rounds).
  double p50 = 0;
  double p99 = 0;
  /// CPU the echo peer's process spent per request at the paced rate, in
  /// microseconds (user and system time of all its threads).
  double cpu_us = 0;
  /// The rate the paced run reached, replies per second.
  double paced_rate = 0;
};

/// Settings of the external runs.
struct external_options {
  /// The `p2p0mq-node` program to drive.
  std::string node;
  /// Its certificate directory (unused: the node runs without encryption).
  std::string certs;
  /// Requests of each throughput round.
  std::size_t requests = 100000;
  /// Requests kept in flight in the throughput rounds.
  std::size_t window = 256;
  /// Round trips of each latency round.
  std::size_t round_trips = 3000;
  /// Rounds per echo peer; the two peers take turns.
  std::size_t rounds = 3;
  /// Requests per second of the paced run, and how long it lasts.
  double paced_rate = 50000;
  double paced_secs = 2;
};

/// The raw echo peer and the node, measured in one run.
struct external_rates {
  external_side raw;
  external_side node;
  external_options opts;
  /// Requests of every run that got no reply within 10 s.
  std::size_t lost = 0;
  /// Why the run failed, or empty.
  std::string error;
};

/// Drives two echo peers from outside, over TCP on 127.0.0.1, as another
/// program would: a load generator of raw libzmq that greets each peer
/// with `hello` and sends it `echo` requests. One peer is `opts.node` run
/// with `--echo --no-encryption`; the other is this program run with
/// `--bench.serve-raw-echo`, a raw-libzmq echo peer that answers each
/// request by handing its frames back, without copying them. Each runs in
/// a process of its own. Rounds alternate between the two: a throughput
/// round (`window` requests in flight), a latency round (one in flight),
/// and at the end a paced run that measures each peer's CPU per request.
external_rates measure_external(const external_options& opts);

/// The raw echo peer (`--bench.serve-raw-echo`): binds a ROUTER to
/// 127.0.0.1 on a port the system picks, writes "listening on
/// 127.0.0.1:PORT" to standard error, and answers `hello` and `echo`
/// requests until it is killed. Returns the exit code.
int serve_raw_echo();

} // namespace p2p0mq::bench
