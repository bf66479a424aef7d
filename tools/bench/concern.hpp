#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "p2p0mq/config.hpp"
#include "p2p0mq/payload.hpp"

namespace p2p0mq {
class local_peer;
} // namespace p2p0mq

namespace p2p0mq::bench {

/// Request/reply to the concern in another process over one transport.
struct remote_rates {
  /// Replies per second, `concern_rates::window` requests in flight.
  double window = 0;
  /// Replies per second, one request in flight (a round trip each).
  double one = 0;
  /// From starting the second process to its concern being registered
  /// (process start, connection, TLS handshake, registration), ms.
  double attach_ms = 0;
};

/// Request/reply rates to one concern, measured in one run.
struct concern_rates {
  /// Replies per second from a concern in the same process.
  double local = 0;
  /// The same concern in another process, attached to the supervisor over
  /// CAF's middleman with TLS (mutual authentication).
  remote_rates tls;
  /// The same, over plain BASP on the loopback interface.
  remote_rates plain;
  /// Requests of each measure.
  std::size_t requests = 0;
  /// Requests kept in flight.
  std::size_t window = 0;
  /// Requests that got an error instead of a reply, over both measures.
  std::size_t failed = 0;
};

/// Local peer A asks local peer B's concern `bench-reply` (it replies with
/// the request's payload) `requests` times, `window` requests in flight,
/// through A's requester: first with the concern in this process, then with
/// the same concern in a second process (this program again, run with
/// `--bench.serve-concern=PORT`) attached to B's supervisor, which is published
/// with the middleman over TLS, then over plain BASP on 127.0.0.1. `sys`
/// must be loaded with `load_remote` and the certificate `bench-server` of
/// the directory `certs`, where the second process uses `bench-concern`.
/// Peers use `base` without encryption.
concern_rates measure_concern_rates(caf::actor_system& sys, const config& base,
                                    const std::string& certs,
                                    std::size_t requests, std::size_t window);

/// The second process: attaches `bench-reply` to the supervisor published on
/// 127.0.0.1:`port` (over TLS, or plain BASP when `plain`) and serves it
/// until the supervisor goes away. Returns the exit code.
int serve_concern(caf::actor_system& sys, std::uint16_t port, bool plain);

/// Plays `count` round trips from a concern of `from` to an echo concern of
/// `to`, both under the command `bench-rt`, one at a time: the pinger sends
/// the next request from its `on_reply`. Each round trip is timed inside the
/// pinger, from `send_request` to `on_reply`, as a concern sees it: no
/// thread outside the actor system takes part. Returns each in
/// microseconds; empty when they did not all come within 5 s and 1 ms a
/// round trip.
std::vector<double> concern_round_trips(caf::actor_system& sys,
                                        local_peer& from, local_peer& to,
                                        std::size_t count, const payload& body);

} // namespace p2p0mq::bench
