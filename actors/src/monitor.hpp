#pragma once

// Private to the actors library: turning libzmq's socket monitor events about
// handshakes into log lines that say why two peers cannot talk.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/time.hpp"

namespace zmq {
class context_t;
class socket_t;
} // namespace zmq

namespace p2p0mq::detail {

/// The events a local peer watches on its sockets: handshakes that failed or
/// succeeded.
extern const int handshake_events;

/// Starts monitoring `socket` (on the thread that owns it) and returns the
/// PAIR socket that receives its events, in `context`. Throws
/// `zmq::error_t`.
std::shared_ptr<zmq::socket_t> monitor_socket(zmq::context_t& context,
                                              zmq::socket_t& socket);

/// The side of a local peer a monitored socket is.
enum class socket_role : std::uint8_t {
  /// The bound ROUTER socket: a CURVE server when encryption is on.
  receiver,
  /// The connecting ROUTER socket: a CURVE client when encryption is on.
  sender,
};

/// Reads monitor events and logs failed handshakes through a `log_limiter`
/// (kind `failed_handshake`), keyed by endpoint: the first in full, then one
/// summary per interval counting them by reason, as libzmq retries every
/// few hundred milliseconds. A failed authentication on the receiver's side
/// goes to the debug level only: the authenticator logs it, with the key.
class handshake_log {
public:
  /// Called with the endpoint of a connection of the sender whose handshake
  /// failed for good (libzmq ends the session and does not retry).
  using lost_handler = std::function<void(const std::string& endpoint)>;

  /// Logs through `log`, which must outlive it.
  handshake_log(std::string local_uuid, bool encryption, log_limiter& log,
                lost_handler on_lost = nullptr);

  /// Reads and logs every event waiting on `monitor` (a PAIR socket from
  /// `monitor_socket`), without blocking; `now` is the time of the reading.
  void drain(zmq::socket_t& monitor, socket_role role, time_point now);

  /// Failed handshakes seen so far.
  std::uint64_t failures() const noexcept {
    return failures_;
  }

private:
  void on_event(socket_role role, std::uint16_t event, std::uint32_t value,
                const std::string& endpoint, time_point now);

  /// The full line of a failed handshake.
  std::string describe(socket_role role, std::uint16_t event,
                       std::uint32_t value, const std::string& endpoint) const;

  std::string local_uuid_;
  bool encryption_;
  log_limiter* log_;
  lost_handler on_lost_;
  std::uint64_t failures_ = 0;
};

} // namespace p2p0mq::detail
