#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "p2p0mq/payload.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// Whether a message asks (request) or answers (reply). The values are the
/// bytes of frame 3 on the wire.
enum class message_kind : std::uint8_t {
  request = 0x01,
  reply = 0x02,
};

/// Returns `"request"` or `"reply"`.
std::string_view to_string(message_kind x) noexcept;

/// Number of frames of a p2p0mq message on a ROUTER socket.
inline constexpr std::size_t frame_count = 7;

/// The frames of one message as handed to the sender socket (frame 0 is the
/// next hop) or as read from the receiver socket (frame 0 is the previous hop).
using frames = std::array<std::string, frame_count>;

/// One p2p0mq message, in a form independent of the direction it travels.
///
/// A message we originate has `source` = the local uuid and `next_hop` set to
/// where it goes now (usually `to`); a received message has `previous_hop` set
/// to the peer that handed it to us. `deadline` is local only: a message not
/// sent by then is dropped.
struct message {
  /// The original sender's uuid.
  std::string source;

  /// The final destination's uuid.
  std::string to;

  /// For a received message: the peer it came from. Empty otherwise.
  std::string previous_hop;

  /// For an outgoing message: the peer it goes to now. Empty otherwise.
  std::string next_hop;

  /// The command id of the concern that handles it (`hello`, `hb`, `r`, ...).
  std::string command;

  /// Request or reply.
  message_kind kind = message_kind::request;

  /// Number chosen by the originator of a request; a reply repeats it.
  std::uint64_t id = 0;

  /// The body, a msgpack map.
  p2p0mq::payload payload;

  /// When this message stops being worth sending (never on the wire).
  time_point deadline = time_point::max();

  bool is_request() const noexcept {
    return kind == message_kind::request;
  }

  bool is_reply() const noexcept {
    return kind == message_kind::reply;
  }

  /// Whether the deadline has passed at `now` (a message is expired exactly at
  /// its deadline).
  bool expired(time_point now) const noexcept {
    return now >= deadline;
  }

  /// Returns the reply to this (received) request: source and to swapped, next
  /// hop = this message's previous hop, same command and id, kind reply.
  message make_reply(p2p0mq::payload body, time_point reply_deadline) const;

  /// Encodes this outgoing message into the 7 frames of docs/PROTOCOL.md as
  /// seen by `local_uuid`: the source frame is empty when the source is
  /// `local_uuid`, the destination frame is empty when it equals the next
  /// hop.
  /// Precondition: `next_hop` is not empty.
  frames encode(std::string_view local_uuid) const;

  /// The frames `encode` makes, as views into this message; `id_frame`
  /// receives frame 5 (the encoded id), which the views of frame 5 point
  /// into. Valid while this message and `id_frame` are.
  std::array<std::string_view, frame_count>
  frame_views(std::string_view local_uuid, std::string& id_frame) const;
};

/// Equality of every field, including payload bytes and deadline.
bool operator==(const message& x, const message& y) noexcept;

inline bool operator!=(const message& x, const message& y) noexcept {
  return !(x == y);
}

/// Makes a request that `local_uuid` sends straight to `to`.
message make_request(std::string local_uuid, std::string to,
                     std::string command, std::uint64_t id, payload body,
                     time_point deadline = time_point::max());

/// Decodes the `count` frames read from the receiver socket of `local_uuid`.
/// The previous hop is frame 0; the source is frame 1 or, when that is empty,
/// the previous hop; the destination is frame 2 or, when that is empty,
/// `local_uuid`. The deadline of the result is `time_point::max()`.
///
/// Fails with the `errc::malformed_*` code of the first problem found, its
/// context saying exactly what is wrong.
caf::expected<message> decode(const std::string_view* frames_begin,
                              std::size_t count, std::string_view local_uuid);

/// Decodes frames held as views (e.g. into `zmq::message_t` buffers).
inline caf::expected<message> decode(const std::vector<std::string_view>& xs,
                                     std::string_view local_uuid) {
  return decode(xs.data(), xs.size(), local_uuid);
}

/// Decodes frames held as strings.
caf::expected<message> decode(const std::vector<std::string>& xs,
                              std::string_view local_uuid);

/// Encodes a message id as msgpack (frame 5): the smallest unsigned form.
std::string encode_message_id(std::uint64_t id);

/// Hands out the ids of the messages one local peer originates: 1, 2, 3, ...
/// Each local peer owns one, shared by its concerns (there is no process-wide
/// counter); `next` may be called from any thread.
class message_id_counter {
public:
  /// Returns the next id; the first call returns 1.
  std::uint64_t next() noexcept {
    return next_.fetch_add(1, std::memory_order_relaxed);
  }

private:
  std::atomic<std::uint64_t> next_{1};
};

} // namespace p2p0mq
