#include "p2p0mq/payload.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include <msgpack.hpp>

#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace detail {

/// The decoded form of a payload. It owns its zone and copies of every str and
/// bin value, so it never points into the `payload`'s own string (whose buffer
/// moves with it under the small-string optimization).
struct parsed_payload {
  msgpack::object_handle handle;

  const msgpack::object_map& map() const noexcept {
    return handle.get().via.map;
  }
};

/// What the copies of one payload share: its bytes, checked by
/// `payload::parse`, and the view, built by the first lookup that needs it
/// (from any thread: the first view stored wins).
struct payload_data {
  explicit payload_data(std::string x) : bytes(std::move(x)) {
    // nop
  }

  payload_data(const payload_data&) = delete;
  payload_data& operator=(const payload_data&) = delete;

  ~payload_data() {
    delete view.load(std::memory_order_acquire);
  }

  std::string bytes;
  mutable std::atomic<const parsed_payload*> view{nullptr};
};

} // namespace detail

namespace {

/// Deepest nesting of containers a payload may have (the map itself counts).
/// Our own payloads nest two levels; the bound keeps hostile input cheap.
constexpr std::size_t max_depth = 32;

/// Minimal output stream for `msgpack::packer`.
struct string_sink {
  std::string* out;

  void write(const char* data, std::size_t size) {
    out->append(data, size);
  }
};

using packer = msgpack::packer<string_sink>;

/// A packer appending to `out` (a packer only refers to its stream).
struct string_packer {
  explicit string_packer(std::string& out) : sink{&out}, pk{sink} {
    // nop
  }

  string_sink sink;
  packer pk;
};

/// msgpack cannot length-prefix 4 GiB or more.
std::uint32_t checked_length(std::size_t size) {
  if (size > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("p2p0mq::payload_builder: msgpack cannot encode "
                            "a str, bin or array of 2^32 or more elements");
  return static_cast<std::uint32_t>(size);
}

void pack_str(packer& out, std::string_view x) {
  auto n = checked_length(x.size());
  out.pack_str(n);
  out.pack_str_body(x.data(), n);
}

void pack_bin(packer& out, std::string_view x) {
  auto n = checked_length(x.size());
  out.pack_bin(n);
  out.pack_bin_body(x.data(), n);
}

std::string quoted(std::string_view key) {
  std::string result;
  result.reserve(key.size() + 2);
  result += '"';
  result.append(key.data(), key.size());
  result += '"';
  return result;
}

/// Names a msgpack type as error messages show it.
const char* type_name(const msgpack::object& x) noexcept {
  switch (x.type) {
  case msgpack::type::NIL:
    return "nil";
  case msgpack::type::BOOLEAN:
    return "boolean";
  case msgpack::type::POSITIVE_INTEGER:
  case msgpack::type::NEGATIVE_INTEGER:
    return "integer";
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64:
    return "float";
  case msgpack::type::STR:
    return "str";
  case msgpack::type::BIN:
    return "bin";
  case msgpack::type::ARRAY:
    return "array";
  case msgpack::type::MAP:
    return "map";
  case msgpack::type::EXT:
    return "ext";
  }
  return "unknown type";
}

bool is_bytes(const msgpack::object& x) noexcept {
  return x.type == msgpack::type::STR || x.type == msgpack::type::BIN;
}

/// The bytes of a str or bin object (both keep size and pointer in the same
/// layout, but we read each through its own member).
std::string_view bytes_of(const msgpack::object& x) noexcept {
  if (x.type == msgpack::type::STR)
    return {x.via.str.ptr, x.via.str.size};
  return {x.via.bin.ptr, x.via.bin.size};
}

caf::error malformed(std::string what) {
  return make_error(errc::malformed_payload, "payload: " + std::move(what));
}

caf::error wrong_type(std::string_view key, const char* expected,
                      const msgpack::object& actual) {
  return make_error(errc::wrong_field_type, "field " + quoted(key) + " is " +
                                                type_name(actual) +
                                                ", expected " + expected);
}

} // namespace

// -- payload ------------------------------------------------------------------

namespace {

/// Walks msgpack bytes without building anything and accepts exactly what
/// `decode_map` accepts: one map (the caller checks that nothing follows),
/// whose keys are str or bin, with containers nested at most `max_depth`
/// levels. Counts and lengths need no bound of their own here: nothing is
/// allocated for them, and one that goes beyond the frame runs out of
/// bytes.
class map_checker : public msgpack::null_visitor {
public:
  bool visit_nil() {
    return scalar(false);
  }
  bool visit_boolean(bool) {
    return scalar(false);
  }
  bool visit_positive_integer(std::uint64_t) {
    return scalar(false);
  }
  bool visit_negative_integer(std::int64_t) {
    return scalar(false);
  }
  bool visit_float32(float) {
    return scalar(false);
  }
  bool visit_float64(double) {
    return scalar(false);
  }
  bool visit_str(const char*, std::uint32_t) {
    return scalar(true);
  }
  bool visit_bin(const char*, std::uint32_t) {
    return scalar(true);
  }
  bool visit_ext(const char*, std::uint32_t) {
    return scalar(false);
  }
  bool start_array(std::uint32_t) {
    return open(false);
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool start_map(std::uint32_t) {
    return open(true);
  }
  bool start_map_key() {
    key_ = depth_ == 1;
    return true;
  }
  bool end_map() {
    --depth_;
    return true;
  }

private:
  /// A value that is no container: a key of the top map must be bytes, and
  /// the top itself must be a map.
  bool scalar(bool bytes) {
    if (depth_ == 0)
      return false;
    if (key_) {
      key_ = false;
      return bytes;
    }
    return true;
  }

  bool open(bool map) {
    if (depth_ == 0 && !map)
      return false;
    if (key_ || depth_ + 1 > max_depth)
      return false;
    ++depth_;
    return true;
  }

  std::size_t depth_ = 0;
  /// Whether the next value is a key of the top map.
  bool key_ = false;
};

/// Whether `bytes` is a payload `decode_map` accepts, found without
/// decoding it.
bool well_formed(std::string_view bytes) noexcept {
  map_checker checker;
  std::size_t offset = 0;
  try {
    return msgpack::v2::parse(bytes.data(), bytes.size(), offset, checker) &&
           offset == bytes.size();
  } catch (...) {
    return false;
  }
}

/// Decodes `bytes` into a view, or says exactly what is wrong with them.
/// A map without entries has no view (null).
caf::expected<std::unique_ptr<detail::parsed_payload>>
decode_map(std::string_view bytes) {
  // Every element takes at least one byte of the frame, so no honest count
  // exceeds the frame size. Bounding the counts by it stops a forged header
  // from making msgpack allocate room for 2^32 elements up front.
  auto n = bytes.size();
  msgpack::unpack_limit limit{n, n / 2, n, n, n, max_depth};
  std::size_t offset = 0;
  msgpack::object obj;
  // A zone sized for the frame: an object is 24 bytes, and we copy strings.
  auto zone =
      std::make_unique<msgpack::zone>(std::min<std::size_t>(8192, 64 + n * 32));
  try {
    bool referenced = false;
    obj = msgpack::unpack(*zone, bytes.data(), n, offset, referenced, nullptr,
                          nullptr, limit);
  } catch (const msgpack::depth_size_overflow&) {
    return malformed("containers nested deeper than " +
                     std::to_string(max_depth) + " levels");
  } catch (const msgpack::array_size_overflow&) {
    return malformed("array header claims more elements than the " +
                     std::to_string(n) + "-byte frame can hold");
  } catch (const msgpack::map_size_overflow&) {
    return malformed("map header claims more entries than the " +
                     std::to_string(n) + "-byte frame can hold");
  } catch (const msgpack::size_overflow& e) {
    return malformed(std::string{"length beyond the frame ("} + e.what() + ")");
  } catch (const msgpack::insufficient_bytes&) {
    return malformed("truncated msgpack: the " + std::to_string(n) +
                     "-byte frame ends inside a value");
  } catch (const msgpack::parse_error&) {
    return malformed("not valid msgpack (reserved type byte 0xc1)");
  } catch (const std::bad_alloc&) {
    return malformed("out of memory while decoding " + std::to_string(n) +
                     " bytes");
  } catch (const std::exception& e) {
    return malformed(std::string{"msgpack error: "} + e.what());
  } catch (...) {
    return malformed("unknown msgpack error");
  }
  if (obj.type != msgpack::type::MAP)
    return malformed(std::string{"msgpack "} + type_name(obj) +
                     " where a map is expected");
  if (offset != n)
    return malformed("trailing bytes after the map (" +
                     std::to_string(n - offset) + " of " + std::to_string(n) +
                     " bytes)");
  const auto& map = obj.via.map;
  for (std::uint32_t i = 0; i < map.size; ++i)
    if (!is_bytes(map.ptr[i].key))
      return malformed("key " + std::to_string(i) + " is " +
                       type_name(map.ptr[i].key) + ", expected str or bin");
  if (map.size == 0)
    return std::unique_ptr<detail::parsed_payload>{};
  auto view = std::make_unique<detail::parsed_payload>();
  view->handle = msgpack::object_handle{obj, std::move(zone)};
  return view;
}

/// The bytes of `{}`, the single byte `0x80`: those of every payload
/// without data.
const std::string& empty_map_bytes() {
  static const std::string result(1, '\x80');
  return result;
}

} // namespace

payload::payload(std::shared_ptr<const detail::payload_data> data)
    : data_(std::move(data)) {
  // nop
}

const std::string& payload::bytes() const noexcept {
  return data_ ? data_->bytes : empty_map_bytes();
}

caf::expected<payload> payload::parse(std::string_view bytes) {
  if (bytes.empty())
    return malformed("frame is empty");
  // Heart-beats and many replies carry `{}`.
  if (bytes.size() == 1 && static_cast<unsigned char>(bytes[0]) == 0x80)
    return payload{};
  // A well-formed payload is only checked here; its view waits for the
  // first lookup. Anything else is decoded to say what is wrong with it.
  if (!well_formed(bytes)) {
    auto decoded = decode_map(bytes);
    if (!decoded)
      return std::move(decoded.error());
    // Not reached: the two accept the same bytes. Keep the decoded view.
    auto data = std::make_shared<detail::payload_data>(std::string{bytes});
    data->view.store(decoded->release(), std::memory_order_release);
    return payload{std::move(data)};
  }
  return payload{
      std::make_shared<const detail::payload_data>(std::string{bytes})};
}

const detail::parsed_payload* payload::view() const noexcept {
  if (!data_)
    return nullptr; // `{}`
  auto& data = *data_;
  if (auto x = data.view.load(std::memory_order_acquire))
    return x;
  if (data.bytes.size() == 1)
    return nullptr; // `{}`
  caf::expected<std::unique_ptr<detail::parsed_payload>> decoded{nullptr};
  try {
    decoded = decode_map(data.bytes);
  } catch (const std::bad_alloc&) {
    // Out of memory: the lookup finds nothing, as in an empty map.
    return nullptr;
  }
  if (!decoded || !*decoded)
    return nullptr; // a map without entries (`parse` checked the rest)
  const detail::parsed_payload* expected = nullptr;
  if (data.view.compare_exchange_strong(expected, decoded->get(),
                                        std::memory_order_acq_rel))
    return decoded->release();
  return expected;
}

std::size_t payload::size() const noexcept {
  auto x = view();
  return x ? x->map().size : 0;
}

namespace {

/// Finds the value under `key`. A map may repeat a key; like the Python peer
/// (whose decoder builds a dict), the last entry wins.
const msgpack::object* find(const detail::parsed_payload* view,
                            std::string_view key) noexcept {
  if (view == nullptr)
    return nullptr;
  const auto& map = view->map();
  for (auto i = map.size; i > 0; --i) {
    const auto& kv = map.ptr[i - 1];
    if (bytes_of(kv.key) == key)
      return &kv.val;
  }
  return nullptr;
}

caf::error missing(std::string_view key) {
  return make_error(errc::missing_field, "no field " + quoted(key));
}

} // namespace

bool payload::contains(std::string_view key) const noexcept {
  return find(view(), key) != nullptr;
}

caf::expected<std::string> payload::get_string(std::string_view key) const {
  auto val = find(view(), key);
  if (val == nullptr)
    return missing(key);
  if (val->type != msgpack::type::STR)
    return wrong_type(key, "str", *val);
  return std::string{bytes_of(*val)};
}

caf::expected<std::string> payload::get_bytes(std::string_view key) const {
  auto val = find(view(), key);
  if (val == nullptr)
    return missing(key);
  if (!is_bytes(*val))
    return wrong_type(key, "bin or str", *val);
  return std::string{bytes_of(*val)};
}

caf::expected<std::int64_t> payload::get_integer(std::string_view key) const {
  auto val = find(view(), key);
  if (val == nullptr)
    return missing(key);
  switch (val->type) {
  case msgpack::type::NEGATIVE_INTEGER:
    return val->via.i64;
  case msgpack::type::POSITIVE_INTEGER:
    if (val->via.u64 >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return make_error(errc::wrong_field_type,
                        "field " + quoted(key) + " is integer " +
                            std::to_string(val->via.u64) +
                            ", expected an integer within int64 range");
    return static_cast<std::int64_t>(val->via.u64);
  default:
    return wrong_type(key, "integer", *val);
  }
}

caf::expected<std::vector<std::string>>
payload::get_bytes_array(std::string_view key) const {
  auto val = find(view(), key);
  if (val == nullptr)
    return missing(key);
  if (val->type != msgpack::type::ARRAY)
    return wrong_type(key, "array of bin or str", *val);
  const auto& arr = val->via.array;
  std::vector<std::string> result;
  result.reserve(arr.size);
  for (std::uint32_t i = 0; i < arr.size; ++i) {
    const auto& x = arr.ptr[i];
    if (!is_bytes(x))
      return make_error(errc::wrong_field_type,
                        "field " + quoted(key) + " element " +
                            std::to_string(i) + " is " + type_name(x) +
                            ", expected bin or str");
    result.emplace_back(bytes_of(x));
  }
  return result;
}

// -- payload_builder ----------------------------------------------------------

void payload_builder::add_key(std::string_view key) {
  string_packer out{body_};
  pack_str(out.pk, key);
  ++count_;
}

payload_builder& payload_builder::add_string(std::string_view key,
                                             std::string_view value) {
  add_key(key);
  string_packer out{body_};
  pack_str(out.pk, value);
  return *this;
}

payload_builder& payload_builder::add_bytes(std::string_view key,
                                            std::string_view value) {
  add_key(key);
  string_packer out{body_};
  pack_bin(out.pk, value);
  return *this;
}

payload_builder& payload_builder::add_integer(std::string_view key,
                                              std::int64_t value) {
  add_key(key);
  string_packer out{body_};
  // pack_int64 picks the smallest form and uses the unsigned forms for
  // non-negative values, exactly like u-msgpack.
  out.pk.pack_int64(value);
  return *this;
}

payload_builder&
payload_builder::add_bytes_array(std::string_view key,
                                 const std::vector<std::string>& values) {
  add_key(key);
  string_packer out{body_};
  out.pk.pack_array(checked_length(values.size()));
  for (const auto& x : values)
    pack_bin(out.pk, x);
  return *this;
}

payload_builder&
payload_builder::add_string_array(std::string_view key,
                                  const std::vector<std::string>& values) {
  add_key(key);
  string_packer out{body_};
  out.pk.pack_array(checked_length(values.size()));
  for (const auto& x : values)
    pack_str(out.pk, x);
  return *this;
}

payload payload_builder::build() const {
  std::string bytes;
  bytes.reserve(body_.size() + 5);
  string_packer out{bytes};
  out.pk.pack_map(checked_length(count_));
  bytes += body_;
  // The view is built by the same parser that reads received payloads, so a
  // built payload and a received one behave alike. Our own encoding always
  // parses; failing here would be a bug in this file.
  auto result = payload::parse(bytes);
  if (!result)
    throw std::logic_error("p2p0mq::payload_builder produced an invalid map: " +
                           render(result.error()));
  return std::move(*result);
}

} // namespace p2p0mq
