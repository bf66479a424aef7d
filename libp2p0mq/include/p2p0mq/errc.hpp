#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace p2p0mq {

/// Error codes of p2p0mq, carried in `caf::error` values of the category
/// `error_category` (the atom `p2p0mq`). The value 0 is reserved by CAF for
/// "no error". Values are stable: new codes are only ever appended.
enum class errc : std::uint8_t {
  /// A received message does not have exactly 7 frames.
  malformed_frame_count = 1,
  /// A received message has an empty routing id (frame 0).
  malformed_routing_id,
  /// The kind frame is empty, longer than one byte, or an unknown kind.
  malformed_kind,
  /// The command frame is empty.
  malformed_command,
  /// The message id frame is not a msgpack unsigned integer.
  malformed_message_id,
  /// The payload frame is not a msgpack map with string keys.
  malformed_payload,
  /// A payload has no entry under the requested key.
  missing_field,
  /// A payload entry has another type than the one requested.
  wrong_field_type,
  /// A configuration value is out of its valid range.
  invalid_config,
  /// The send queues hold as many messages as they may.
  send_queue_full,
  /// No peer with that uuid is known.
  unknown_peer,
  /// A peer record is not acceptable (e.g. a uuid shorter than 4 bytes).
  invalid_peer,
  /// A concern for that command id is registered already.
  duplicate_concern,
  /// A ZeroMQ socket operation failed (bind, connect, send).
  socket_error,
  /// The next hop has no connection: never connected, or not known.
  peer_unreachable,
  /// The message's deadline passed before it could be sent.
  message_expired,
  /// The local peer stopped before the message could be sent.
  local_peer_stopped,
  /// The local peer is not running (call `start` first).
  not_started,
  /// The local peer runs already.
  already_started,
  /// No concern handles that command id.
  unknown_command,
  /// A certificate file does not parse or holds an invalid CURVE key.
  bad_certificate,
  /// A certificate file that should exist does not.
  missing_certificate,
  /// A certificate file or directory cannot be created, read or written.
  certificate_io,
  /// A uuid cannot name a file (empty, ".", "..", or holding '/' or NUL).
  invalid_uuid,
  /// The peer store's database cannot be opened, read or written (a missing
  /// directory, no permission, a read-only file, a full disk).
  store_io,
  /// The peer store's file is not a SQLite database, or it is damaged.
  store_corrupt,
  /// Another connection kept the peer store's database locked for longer
  /// than the store waits (`config::store_lock_wait`).
  store_locked,
  /// The peer store's database has p2p0mq tables of another shape, or
  /// metadata without a valid uuid.
  store_schema,
  /// The configured uuid differs from the one the peer store's database
  /// holds.
  store_uuid_mismatch,
  /// No reply to a request came within its timeout.
  request_timeout,
  /// The concern that got a request rejected it (its reason in the context).
  rejected,
  /// A concern's handler threw; the concern was stopped.
  concern_failed,
  /// A request cannot be made as asked (no command, no timeout, our own uuid
  /// or an invalid uuid as its destination).
  invalid_request,
  /// The peer table holds `config::max_peers` peers and none of them may be
  /// evicted to make room for another.
  peer_table_full,
  /// The peer does not relay messages for other peers (a legacy peer, such
  /// as the Python p2p0mq): it cannot be a hop.
  not_a_relay,
  /// The concern of the command holds as many messages not yet handled as
  /// `config::concern_queue_limit` allows: the message was dropped.
  concern_busy,
};

/// The last value of `errc`, for code that walks every value.
inline constexpr errc last_errc = errc::concern_busy;

/// The category atom of p2p0mq errors (`caf::atom("p2p0mq")`).
inline constexpr caf::atom_value error_category = caf::atom("p2p0mq");

/// Returns the name of `x`, e.g. `"malformed_frame_count"`, or
/// `"<unknown errc>"` for a value outside the enumeration.
std::string to_string(errc x);

/// Makes a `caf::error` from `x` without context.
caf::error make_error(errc x);

/// Makes a `caf::error` from `x` with a human-readable explanation, e.g.
/// `make_error(errc::malformed_frame_count, "got 6 frames, expected 7")`.
caf::error make_error(errc x, std::string context);

/// Renders any error as one line: `"p2p0mq.<name>: <context>"` for our own
/// errors, CAF's rendering for any other category, `"none"` for no error.
std::string render(const caf::error& x);

/// Returns the explanation attached by `make_error(errc, std::string)`, or an
/// empty string.
std::string context_of(const caf::error& x);

/// Whether `x` is the p2p0mq error `code`, e.g.
/// `is(reply.error(), errc::request_timeout)`.
inline bool is(const caf::error& x, errc code) noexcept {
  return x.category() == error_category &&
         x.code() == static_cast<std::uint8_t>(code);
}

} // namespace p2p0mq
