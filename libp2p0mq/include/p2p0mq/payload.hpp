#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace p2p0mq {

namespace detail {
struct payload_data;
struct parsed_payload;
} // namespace detail

/// The body of a message: a msgpack map with string keys, kept in its encoded
/// form (the exact bytes of frame 6) together with a parsed view for lookups.
///
/// A `payload` is immutable and cheap to copy: copies share the bytes and
/// the view. The view is built on the first lookup, so a payload that is
/// only passed on (forwarded, echoed, queued) is checked once, when parsed,
/// and never decoded into objects. Build one with `payload_builder`, or
/// parse received bytes with `payload::parse`. Getters never throw: a
/// missing key is `errc::missing_field`, a value of another type is
/// `errc::wrong_field_type`.
class payload {
public:
  /// The empty map, encoded as the single byte `0x80`.
  payload() noexcept = default;

  /// Parses `bytes` as one msgpack map whose keys are str (or bin) values,
  /// with nothing after it. Values may be of any msgpack type; containers may
  /// nest up to 32 levels (the map counts as one). Fails with
  /// `errc::malformed_payload`, its context saying what is wrong. Never throws
  /// for malformed input.
  static caf::expected<payload> parse(std::string_view bytes);

  /// The encoded map, exactly as it travels on the wire.
  const std::string& bytes() const noexcept;

  /// Number of entries in the map.
  std::size_t size() const noexcept;

  /// Whether the map has no entries.
  bool empty() const noexcept {
    return size() == 0;
  }

  /// Whether the map has an entry under `key`. When a map repeats a key, the
  /// getters see its last entry, as the Python peer's decoder (a dict) does.
  bool contains(std::string_view key) const noexcept;

  /// The msgpack str value under `key`.
  caf::expected<std::string> get_string(std::string_view key) const;

  /// The bytes of the bin or str value under `key`; uuids arrive as either.
  caf::expected<std::string> get_bytes(std::string_view key) const;

  /// The integer under `key`; fails with `errc::wrong_field_type` for a
  /// non-integer or a value beyond the range of `int64_t`.
  caf::expected<std::int64_t> get_integer(std::string_view key) const;

  /// The array under `key`, each element a bin or str value.
  caf::expected<std::vector<std::string>>
  get_bytes_array(std::string_view key) const;

  /// Two payloads are equal when their encoded bytes are.
  friend bool operator==(const payload& x, const payload& y) noexcept {
    return x.data_ == y.data_ || x.bytes() == y.bytes();
  }

  friend bool operator!=(const payload& x, const payload& y) noexcept {
    return !(x == y);
  }

private:
  explicit payload(std::shared_ptr<const detail::payload_data> data);

  /// The parsed map, built on first use; null for a map without entries.
  const detail::parsed_payload* view() const noexcept;

  /// The bytes and their view; null for `{}`, so that making an empty
  /// payload (every message starts with one) touches no shared count.
  std::shared_ptr<const detail::payload_data> data_;
};

/// Builds a `payload`, keeping entries in the order they are added and
/// encoding values as u-msgpack (the Python p2p0mq's encoder) does: Python
/// `str` as msgpack str, `bytes` as bin, integers in their smallest form
/// (non-negative ones in the unsigned forms). Adding a key twice keeps both
/// entries. A key, value or array of 2^32 or more bytes or elements, which
/// msgpack cannot encode, throws `std::length_error`.
///
/// ~~~
/// auto hello = payload_builder{}
///                .add_string("host", "127.0.0.1")
///                .add_integer("port", 8402)
///                .build();
/// ~~~
class payload_builder {
public:
  /// Adds `key` with a msgpack str value (Python `str`).
  payload_builder& add_string(std::string_view key, std::string_view value);

  /// Adds `key` with a msgpack bin value (Python `bytes`).
  payload_builder& add_bytes(std::string_view key, std::string_view value);

  /// Adds `key` with an integer in its smallest msgpack form.
  payload_builder& add_integer(std::string_view key, std::int64_t value);

  /// Adds `key` with an array of bin values.
  payload_builder& add_bytes_array(std::string_view key,
                                   const std::vector<std::string>& values);

  /// Adds `key` with an array of msgpack str, one per value.
  payload_builder& add_string_array(std::string_view key,
                                    const std::vector<std::string>& values);

  /// Number of entries added so far.
  std::size_t size() const noexcept {
    return count_;
  }

  /// Returns the encoded map. The builder may be used again afterwards and
  /// still holds its entries.
  payload build() const;

private:
  void add_key(std::string_view key);

  std::string body_;
  std::size_t count_ = 0;
};

} // namespace p2p0mq
