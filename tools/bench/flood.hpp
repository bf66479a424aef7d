#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace p2p0mq::bench {

/// A client that sends malformed messages to the receiver at
/// 127.0.0.1:`port`, from a thread and a ZeroMQ context of its own, as fast
/// as the receiver takes them, until it is stopped: in turn a message of 6
/// frames, one with an unknown kind, one with a message id that is not
/// msgpack, one whose payload is an array. Each is one line of the kind an
/// attacker can send without end.
class malformed_flood {
public:
  explicit malformed_flood(std::uint16_t port);

  /// Stops the flood.
  ~malformed_flood();

  malformed_flood(const malformed_flood&) = delete;
  malformed_flood& operator=(const malformed_flood&) = delete;

  /// Stops sending and waits for the thread; idempotent.
  void stop();

  /// Messages handed to ZeroMQ so far.
  std::uint64_t sent() const noexcept {
    return sent_.load(std::memory_order_relaxed);
  }

private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

} // namespace p2p0mq::bench
