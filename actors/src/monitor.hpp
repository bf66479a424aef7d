#pragma once

// Private to the actors library: turning libzmq's socket monitor events about
// handshakes into log lines that say why two peers cannot talk.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

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

/// Reads monitor events and logs each failed handshake once per endpoint and
/// reason (repeats, as libzmq retries every few hundred milliseconds, go to
/// the debug level until a handshake with that endpoint succeeds).
class handshake_log {
public:
  /// Called with the endpoint of a connection of the sender whose handshake
  /// failed for good (libzmq ends the session and does not retry).
  using lost_handler = std::function<void(const std::string& endpoint)>;

  handshake_log(std::string local_uuid, bool encryption,
                lost_handler on_lost = nullptr);

  /// Reads and logs every event waiting on `monitor` (a PAIR socket from
  /// `monitor_socket`), without blocking.
  void drain(zmq::socket_t& monitor, socket_role role);

  /// Failed handshakes seen so far.
  std::uint64_t failures() const noexcept {
    return failures_;
  }

private:
  void on_event(socket_role role, std::uint16_t event, std::uint32_t value,
                const std::string& endpoint);

  std::string local_uuid_;
  bool encryption_;
  lost_handler on_lost_;
  std::uint64_t failures_ = 0;
  /// The last failure logged as a warning, by role and endpoint.
  std::map<std::tuple<socket_role, std::string>,
           std::tuple<std::uint16_t, std::uint32_t>>
      logged_;
};

} // namespace p2p0mq::detail
