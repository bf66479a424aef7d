#include "p2p0mq/message.hpp"

#include <cstdio>
#include <utility>

#include <msgpack.hpp>

#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace {

/// Minimal output stream for `msgpack::packer`.
struct string_sink {
  std::string* out;

  void write(const char* data, std::size_t size) {
    out->append(data, size);
  }
};

std::string hex_byte(unsigned char x) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", static_cast<unsigned>(x));
  return buf;
}

caf::error frame_count_error(std::size_t count) {
  return make_error(errc::malformed_frame_count,
                    "got " + std::to_string(count) + " frames, expected " +
                        std::to_string(frame_count));
}

/// Reads one msgpack integer through msgpack's own parser without building an
/// object (no zone, no allocation, no exception for malformed input). Stops at
/// the first value that is not a non-negative integer.
struct message_id_visitor : msgpack::null_visitor {
  std::uint64_t value = 0;
  bool found = false;
  bool truncated = false;
  bool invalid = false;
  /// What was found instead of an unsigned integer.
  std::string other;

  bool reject(std::string what) {
    other = std::move(what);
    return false;
  }

  bool visit_positive_integer(std::uint64_t x) {
    value = x;
    found = true;
    return true;
  }

  bool visit_negative_integer(std::int64_t x) {
    // The signed forms (0xd0-0xd3) may hold non-negative values.
    if (x >= 0)
      return visit_positive_integer(static_cast<std::uint64_t>(x));
    return reject("negative integer " + std::to_string(x));
  }

  bool visit_nil() {
    return reject("nil");
  }

  bool visit_boolean(bool) {
    return reject("boolean");
  }

  bool visit_float32(float) {
    return reject("float");
  }

  bool visit_float64(double) {
    return reject("float");
  }

  bool visit_str(const char*, std::uint32_t) {
    return reject("str");
  }

  bool visit_bin(const char*, std::uint32_t) {
    return reject("bin");
  }

  bool visit_ext(const char*, std::uint32_t) {
    return reject("ext");
  }

  bool start_array(std::uint32_t) {
    return reject("array");
  }

  bool start_map(std::uint32_t) {
    return reject("map");
  }

  void parse_error(std::size_t, std::size_t) {
    invalid = true;
  }

  void insufficient_bytes(std::size_t, std::size_t) {
    truncated = true;
  }
};

caf::error bad_id(std::string what) {
  return make_error(errc::malformed_message_id, std::move(what));
}

caf::expected<std::uint64_t> decode_message_id(std::string_view x) {
  if (x.empty())
    return bad_id("message id frame is empty");
  message_id_visitor v;
  std::size_t offset = 0;
  try {
    msgpack::parse(x.data(), x.size(), offset, v);
  } catch (const std::exception& e) {
    // Our visitor never throws; msgpack-c itself only does for an ext32 of
    // 2^32-1 bytes on 32-bit targets. Kept so nothing can escape.
    return bad_id(std::string{"message id is not valid msgpack ("} + e.what() +
                  ")");
  } catch (...) {
    return bad_id("message id is not valid msgpack");
  }
  if (v.invalid)
    return bad_id("message id is not valid msgpack (reserved type byte "
                  "0xc1)");
  if (!v.other.empty())
    return bad_id("message id is not a msgpack unsigned integer: got " +
                  v.other);
  if (v.truncated || !v.found)
    return bad_id("message id is truncated msgpack (" +
                  std::to_string(x.size()) + " bytes)");
  if (offset != x.size())
    return bad_id("message id: trailing bytes after the integer (" +
                  std::to_string(x.size() - offset) + " of " +
                  std::to_string(x.size()) + " bytes)");
  return v.value;
}

} // namespace

std::string_view to_string(message_kind x) noexcept {
  switch (x) {
  case message_kind::request:
    return "request";
  case message_kind::reply:
    return "reply";
  }
  return "<unknown message_kind>";
}

message message::make_reply(p2p0mq::payload body,
                            time_point reply_deadline) const {
  message result;
  result.source = to;
  result.to = source;
  result.next_hop = previous_hop;
  result.command = command;
  result.kind = message_kind::reply;
  result.id = id;
  result.payload = std::move(body);
  result.deadline = reply_deadline;
  return result;
}

std::array<std::string_view, frame_count>
message::frame_views(std::string_view local_uuid, std::string& id_frame) const {
  // One byte each, for the kind frame to point into.
  static constexpr char kinds[] = {static_cast<char>(message_kind::request),
                                   static_cast<char>(message_kind::reply)};
  id_frame = encode_message_id(id);
  return {next_hop,
          source == local_uuid ? std::string_view{} : std::string_view{source},
          to == next_hop ? std::string_view{} : std::string_view{to},
          std::string_view{is_request() ? &kinds[0] : &kinds[1], 1},
          command,
          id_frame,
          payload.bytes()};
}

frames message::encode(std::string_view local_uuid) const {
  std::string id_frame;
  auto views = frame_views(local_uuid, id_frame);
  frames result;
  for (std::size_t i = 0; i < frame_count; ++i)
    result[i].assign(views[i].data(), views[i].size());
  return result;
}

bool operator==(const message& x, const message& y) noexcept {
  return x.source == y.source && x.to == y.to &&
         x.previous_hop == y.previous_hop && x.next_hop == y.next_hop &&
         x.command == y.command && x.kind == y.kind && x.id == y.id &&
         x.payload == y.payload && x.deadline == y.deadline;
}

message make_request(std::string local_uuid, std::string to,
                     std::string command, std::uint64_t id, payload body,
                     time_point deadline) {
  message result;
  result.source = std::move(local_uuid);
  result.next_hop = to;
  result.to = std::move(to);
  result.command = std::move(command);
  result.kind = message_kind::request;
  result.id = id;
  result.payload = std::move(body);
  result.deadline = deadline;
  return result;
}

caf::expected<message> decode(const std::string_view* xs, std::size_t count,
                              std::string_view local_uuid) {
  if (count != frame_count)
    return frame_count_error(count);
  auto previous_hop = xs[0];
  if (previous_hop.empty())
    return make_error(errc::malformed_routing_id,
                      "previous hop (frame 0) is empty");
  auto kind = xs[3];
  if (kind.empty())
    return make_error(errc::malformed_kind, "kind frame is empty");
  if (kind.size() != 1)
    return make_error(errc::malformed_kind, "kind frame has " +
                                                std::to_string(kind.size()) +
                                                " bytes, expected 1");
  auto kind_byte = static_cast<unsigned char>(kind[0]);
  if (kind_byte != static_cast<unsigned char>(message_kind::request) &&
      kind_byte != static_cast<unsigned char>(message_kind::reply))
    return make_error(errc::malformed_kind,
                      "unknown kind " + hex_byte(kind_byte));
  if (xs[4].empty())
    return make_error(errc::malformed_command, "command frame is empty");
  auto id = decode_message_id(xs[5]);
  if (!id)
    return std::move(id.error());
  auto body = payload::parse(xs[6]);
  if (!body)
    return std::move(body.error());
  message result;
  result.source = xs[1].empty() ? previous_hop : xs[1];
  result.to = xs[2].empty() ? local_uuid : xs[2];
  result.previous_hop = previous_hop;
  result.command = xs[4];
  result.kind = static_cast<message_kind>(kind_byte);
  result.id = *id;
  result.payload = std::move(*body);
  return result;
}

caf::expected<message> decode(const std::vector<std::string>& xs,
                              std::string_view local_uuid) {
  if (xs.size() != frame_count)
    return frame_count_error(xs.size());
  std::array<std::string_view, frame_count> views;
  for (std::size_t i = 0; i < frame_count; ++i)
    views[i] = xs[i];
  return decode(views.data(), views.size(), local_uuid);
}

std::string encode_message_id(std::uint64_t id) {
  std::string result;
  string_sink sink{&result};
  msgpack::packer<string_sink> out{sink};
  // pack_uint64 picks the smallest unsigned form, like u-msgpack.
  out.pack_uint64(id);
  return result;
}

} // namespace p2p0mq
