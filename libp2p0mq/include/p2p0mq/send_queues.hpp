#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "p2p0mq/fifo.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// How urgently a message leaves.
enum class priority : std::uint8_t {
  /// Every queued message goes out in each round.
  fast,
  /// The oldest message of each destination goes out in each round.
  medium,
  /// One message goes out in each round.
  slow,
};

/// Returns `"fast"`, `"medium"` or `"slow"`.
std::string_view to_string(priority x) noexcept;

/// A message in the send queues, with a number its owner chose (e.g. to find
/// its bookkeeping again when it comes out).
struct queued_message {
  message msg;
  std::uint64_t tag = 0;
};

/// The three outgoing queues of a local peer's sender. A plain container: the
/// owner calls `next_round` when it can send and sends what comes out, in
/// order. Messages whose deadline has passed come out as expired instead and
/// must be reported dropped. Nothing leaves the queues any other way.
class send_queues {
public:
  /// What one round produces.
  struct round {
    /// Messages to send now, in this order: fast, then medium, then slow.
    std::vector<queued_message> to_send;

    /// Messages whose deadline passed before they could be sent.
    std::vector<queued_message> expired;

    void clear() noexcept {
      to_send.clear();
      expired.clear();
    }
  };

  /// Creates queues that hold at most `limit` messages (0: no limit).
  explicit send_queues(std::size_t limit = 0) : limit_(limit) {
  }

  /// Queues `msg` with priority `p`; `tag` comes out with it. Returns false,
  /// leaving `msg` untouched, when the queues are full.
  bool push(message&& msg, priority p, std::uint64_t tag = 0);

  /// Takes the messages of one round: all of fast, the oldest of each
  /// destination (its `to`, or its `next_hop` when `to` is empty) in medium, one of slow. Expired messages met on
  /// the way go to `out.expired` and do not count against a round's share.
  /// Appends to `out`.
  void next_round(time_point now, round& out);

  /// Removes every expired message from all queues, appending them to `out`.
  void take_expired(time_point now, std::vector<queued_message>& out);

  /// Total number of queued messages.
  std::size_t size() const noexcept {
    return size_;
  }

  /// Number of queued messages of priority `p`.
  std::size_t size(priority p) const noexcept;

  /// Whether no message is queued.
  bool empty() const noexcept {
    return size_ == 0;
  }

  /// The most messages the queues hold (0: no limit).
  std::size_t limit() const noexcept {
    return limit_;
  }

private:
  std::size_t limit_;
  std::size_t size_ = 0;
  fifo<queued_message> fast_;
  /// Medium messages per destination, oldest first.
  std::unordered_map<std::string, fifo<queued_message>> medium_;
  /// Destinations with medium messages, in the order they are served.
  fifo<std::string> medium_order_;
  std::size_t medium_size_ = 0;
  fifo<queued_message> slow_;
};

} // namespace p2p0mq
