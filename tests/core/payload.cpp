#include "p2p0mq/payload.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "support/hex.hpp"

using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using p2p0mq::errc;
using p2p0mq::payload;
using p2p0mq::payload_builder;

namespace {

using p2p0mq::testing::hex;
using p2p0mq::testing::unhex;

/// Parses bytes that must be a valid payload.
payload parsed(std::string_view hex_bytes) {
  auto result = payload::parse(unhex(hex_bytes));
  if (!result)
    FAIL("parse failed: " << p2p0mq::render(result.error()));
  return std::move(*result);
}

/// Returns the error of a parse that must fail.
caf::error parse_error(const std::string& bytes) {
  auto result = payload::parse(bytes);
  REQUIRE_FALSE(result);
  return result.error();
}

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  return x.error();
}

// The golden payloads of docs/PROTOCOL.md, as u-msgpack encodes them.
constexpr std::string_view hello_hex =
    "82a4686f7374a93132372e302e302e31a4706f7274cd20d2";
constexpr std::string_view r_hex =
    "82a6746172676574c407337e337e337e33ab62726561646372756d627391c407317e317e"
    "317e31";

/// A key followed by `depth` nested one-element arrays around a nil.
std::string nested_arrays(std::size_t depth) {
  std::string result = unhex("81a16b");
  result.append(depth, '\x91');
  result += '\xc0';
  return result;
}

} // namespace

// -- golden bytes -------------------------------------------------------------

TEST_CASE("a default payload is the empty map 0x80", "[payload]") {
  payload x;
  CHECK(hex(x.bytes()) == "80");
  CHECK(x.size() == 0);
  CHECK(x.empty());
  CHECK_FALSE(x.contains(""));
  CHECK(error_of(x.get_string("host")) == errc::missing_field);
}

TEST_CASE("the builder encodes the hb payload as 0x80", "[payload]") {
  auto x = payload_builder{}.build();
  CHECK(hex(x.bytes()) == "80");
  CHECK(x == payload{});
}

TEST_CASE("parse reads the hb payload as the empty map", "[payload]") {
  auto x = parsed("80");
  CHECK(x.empty());
  CHECK(x == payload{});
}

TEST_CASE("the builder encodes the hello payload as u-msgpack does",
          "[payload]") {
  auto x = payload_builder{}
               .add_string("host", "127.0.0.1")
               .add_integer("port", 8402)
               .build();
  CHECK(hex(x.bytes()) == hello_hex);
}

TEST_CASE("parse reads the golden hello payload", "[payload]") {
  auto x = parsed(hello_hex);
  CHECK(x.bytes() == unhex(hello_hex));
  CHECK(x.size() == 2);
  CHECK(x.contains("host"));
  CHECK(x.contains("port"));
  CHECK_FALSE(x.contains("hos"));
  CHECK(x.get_string("host") == std::string{"127.0.0.1"});
  CHECK(x.get_integer("port") == std::int64_t{8402});
}

TEST_CASE("the builder encodes the r payload with bin uuids", "[payload]") {
  auto x = payload_builder{}
               .add_bytes("target", "3~3~3~3")
               .add_bytes_array("breadcrumbs", {"1~1~1~1"})
               .build();
  CHECK(hex(x.bytes()) == r_hex);
}

TEST_CASE("parse reads the golden r payload", "[payload]") {
  auto x = parsed(r_hex);
  CHECK(x.size() == 2);
  CHECK(x.get_bytes("target") == std::string{"3~3~3~3"});
  CHECK(x.get_bytes_array("breadcrumbs") ==
        std::vector<std::string>{"1~1~1~1"});
}

// -- encoding forms -----------------------------------------------------------

TEST_CASE("the builder encodes integers in their smallest u-msgpack form",
          "[payload]") {
  constexpr auto min64 = std::numeric_limits<std::int64_t>::min();
  constexpr auto max64 = std::numeric_limits<std::int64_t>::max();
  struct sample {
    std::int64_t value;
    std::string_view encoded;
  };
  const sample samples[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "cc80"},
      {255, "ccff"},
      {256, "cd0100"},
      {65535, "cdffff"},
      {65536, "ce00010000"},
      {4294967295, "ceffffffff"},
      {4294967296, "cf0000000100000000"},
      {max64, "cf7fffffffffffffff"},
      {-1, "ff"},
      {-32, "e0"},
      {-33, "d0df"},
      {-128, "d080"},
      {-129, "d1ff7f"},
      {-32768, "d18000"},
      {-32769, "d2ffff7fff"},
      {-2147483648LL, "d280000000"},
      {-2147483649LL, "d3ffffffff7fffffff"},
      {min64, "d38000000000000000"},
  };
  for (const auto& s : samples) {
    INFO("value " << s.value);
    auto x = payload_builder{}.add_integer("n", s.value).build();
    CHECK(hex(x.bytes()) == "81a16e" + std::string{s.encoded});
    CHECK(x.get_integer("n") == s.value);
  }
}

TEST_CASE("the builder encodes str in fixstr, str8, str16 and str32 forms",
          "[payload]") {
  struct sample {
    std::size_t size;
    std::string_view header;
  };
  const sample samples[] = {
      {0, "a0"},       {31, "bf"},        {32, "d920"},          {255, "d9ff"},
      {256, "da0100"}, {65535, "daffff"}, {65536, "db00010000"},
  };
  for (const auto& s : samples) {
    INFO("size " << s.size);
    std::string value(s.size, 'x');
    auto x = payload_builder{}.add_string("s", value).build();
    auto header = unhex(s.header);
    CHECK(x.bytes().size() == 3 + header.size() + s.size);
    CHECK(hex(x.bytes().substr(0, 3 + header.size())) ==
          "81a173" + std::string{s.header});
    CHECK(x.get_string("s") == value);
  }
}

TEST_CASE("the builder encodes bytes in bin8, bin16 and bin32 forms",
          "[payload]") {
  struct sample {
    std::size_t size;
    std::string_view header;
  };
  const sample samples[] = {
      {0, "c400"},     {1, "c401"},       {255, "c4ff"},
      {256, "c50100"}, {65535, "c5ffff"}, {65536, "c600010000"},
  };
  for (const auto& s : samples) {
    INFO("size " << s.size);
    std::string value(s.size, '\0');
    auto x = payload_builder{}.add_bytes("b", value).build();
    auto header = unhex(s.header);
    CHECK(x.bytes().size() == 3 + header.size() + s.size);
    CHECK(hex(x.bytes().substr(0, 3 + header.size())) ==
          "81a162" + std::string{s.header});
    CHECK(x.get_bytes("b") == value);
  }
}

TEST_CASE("the builder encodes maps and arrays in fix and 16-bit forms",
          "[payload]") {
  payload_builder b;
  for (int i = 0; i < 15; ++i)
    b.add_integer(std::string(1, static_cast<char>('a' + i)), i);
  CHECK(b.size() == 15);
  CHECK(hex(b.build().bytes().substr(0, 1)) == "8f");
  b.add_integer("p", 15);
  CHECK(hex(b.build().bytes().substr(0, 3)) == "de0010");
  CHECK(b.build().size() == 16);
  auto fix = payload_builder{}
                 .add_bytes_array("a", std::vector<std::string>(15))
                 .build();
  CHECK(hex(fix.bytes().substr(0, 4)) == "81a1619f");
  auto wide = payload_builder{}
                  .add_bytes_array("a", std::vector<std::string>(16))
                  .build();
  CHECK(hex(wide.bytes().substr(0, 6)) == "81a161dc0010");
  CHECK(wide.get_bytes_array("a") == std::vector<std::string>(16));
}

TEST_CASE("the builder keeps its entries in order and can build again",
          "[payload]") {
  payload_builder b;
  b.add_string("host", "127.0.0.1");
  auto first = b.build();
  CHECK(first.size() == 1);
  b.add_integer("port", 8402);
  auto second = b.build();
  CHECK(hex(second.bytes()) == hello_hex);
  CHECK(b.build() == second);
  CHECK(first != second);
  CHECK(first.size() == 1);
}

TEST_CASE("keys and values may hold zero bytes", "[payload]") {
  std::string key{"k\0y", 3};
  std::string value{"\0\0v\0", 4};
  auto x = payload_builder{}.add_bytes(key, value).build();
  CHECK(x.contains(key));
  CHECK_FALSE(x.contains("k"));
  CHECK(x.get_bytes(key) == value);
}

// -- getters ------------------------------------------------------------------

TEST_CASE("get_string accepts only str values", "[payload]") {
  auto x = payload_builder{}
               .add_string("s", "text")
               .add_bytes("b", "raw")
               .add_integer("i", 1)
               .build();
  CHECK(x.get_string("s") == std::string{"text"});
  auto err = error_of(x.get_string("b"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) == R"(field "b" is bin, expected str)");
  err = error_of(x.get_string("i"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) == R"(field "i" is integer, expected str)");
}

TEST_CASE("get_bytes accepts bin and str values", "[payload]") {
  auto x = payload_builder{}
               .add_string("s", "2~2~2~2")
               .add_bytes("b", "3~3~3~3")
               .add_integer("i", -7)
               .build();
  CHECK(x.get_bytes("s") == std::string{"2~2~2~2"});
  CHECK(x.get_bytes("b") == std::string{"3~3~3~3"});
  auto err = error_of(x.get_bytes("i"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) ==
        R"(field "i" is integer, expected bin or str)");
}

TEST_CASE("get_integer accepts every integer within the int64 range",
          "[payload]") {
  // 0xd0 05 and 0xd3 with a positive value are signed forms holding
  // non-negative numbers; other encoders may produce them.
  auto x = parsed("86"
                  "a17a00"
                  "a16eff"
                  "a173d005"
                  "a177d30000000000000005"
                  "a16dcf7fffffffffffffff"
                  "a16cd38000000000000000");
  CHECK(x.get_integer("z") == std::int64_t{0});
  CHECK(x.get_integer("n") == std::int64_t{-1});
  CHECK(x.get_integer("s") == std::int64_t{5});
  CHECK(x.get_integer("w") == std::int64_t{5});
  CHECK(x.get_integer("m") == std::numeric_limits<std::int64_t>::max());
  CHECK(x.get_integer("l") == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("get_integer rejects an unsigned value above INT64_MAX",
          "[payload]") {
  auto x = parsed("82a175cf8000000000000000a176cfffffffffffffffff");
  auto err = error_of(x.get_integer("u"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) ==
        R"(field "u" is integer 9223372036854775808, expected an )"
        "integer within int64 range");
  CHECK(error_of(x.get_integer("v")) == errc::wrong_field_type);
}

TEST_CASE("get_integer rejects values of every other type", "[payload]") {
  auto x = parsed("89"
                  "a173a131"               // str "1"
                  "a162c40131"             // bin
                  "a163c0"                 // nil
                  "a164c3"                 // true
                  "a166cb3ff0000000000000" // float64 1.0
                  "a167ca3f800000"         // float32 1.0
                  "a16191"
                  "01"           // array [1]
                  "a16d81a16101" // map
                  "a165d40102"); // fixext1
  const std::pair<const char*, const char*> cases[] = {
      {"s", "str"},     {"b", "bin"},   {"c", "nil"},
      {"d", "boolean"}, {"f", "float"}, {"g", "float"},
      {"a", "array"},   {"m", "map"},   {"e", "ext"},
  };
  for (const auto& [key, type] : cases) {
    INFO("key " << key);
    auto err = error_of(x.get_integer(key));
    CHECK(err == errc::wrong_field_type);
    CHECK(p2p0mq::context_of(err) == "field \"" + std::string{key} + "\" is " +
                                         type + ", expected integer");
  }
}

TEST_CASE("get_bytes_array accepts an array of bin and str elements",
          "[payload]") {
  // ["a" as str, b"b" as bin, "" as str]
  auto x = parsed("82a17893a161c40162a0a17990");
  CHECK(x.get_bytes_array("x") == std::vector<std::string>{"a", "b", ""});
  CHECK(x.get_bytes_array("y") == std::vector<std::string>{});
}

TEST_CASE("get_bytes_array rejects an element of another type, naming it",
          "[payload]") {
  auto x = parsed("81a17893a161c4016201");
  auto err = error_of(x.get_bytes_array("x"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) ==
        R"(field "x" element 2 is integer, expected bin or str)");
}

TEST_CASE("get_bytes_array rejects a value that is not an array", "[payload]") {
  auto x = payload_builder{}.add_bytes("x", "1~1~1~1").build();
  auto err = error_of(x.get_bytes_array("x"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) ==
        R"(field "x" is bin, expected array of bin or str)");
}

TEST_CASE("every getter reports a missing key by name", "[payload]") {
  auto x = parsed(hello_hex);
  const std::string context = R"(no field "target")";
  auto e1 = error_of(x.get_string("target"));
  auto e2 = error_of(x.get_bytes("target"));
  auto e3 = error_of(x.get_integer("target"));
  auto e4 = error_of(x.get_bytes_array("target"));
  for (const auto& err : {e1, e2, e3, e4}) {
    CHECK(err == errc::missing_field);
    CHECK(p2p0mq::context_of(err) == context);
  }
}

TEST_CASE("parse accepts bin keys and lookups find them", "[payload]") {
  // {b"host": "h", "port": 1}
  auto x = parsed("82c404686f7374a168a4706f727401");
  CHECK(x.contains("host"));
  CHECK(x.get_string("host") == std::string{"h"});
  CHECK(x.get_integer("port") == std::int64_t{1});
}

TEST_CASE("a repeated key resolves to its last entry, as in Python",
          "[payload]") {
  auto x = payload_builder{}.add_integer("n", 1).add_integer("n", 2).build();
  CHECK(x.size() == 2);
  CHECK(x.get_integer("n") == std::int64_t{2});
}

TEST_CASE("parse accepts values of any msgpack type", "[payload]") {
  auto x = parsed("84a166cb3ff0000000000000a16ec0a174c3a16d81a16180");
  CHECK(x.size() == 4);
  CHECK(x.contains("m"));
}

TEST_CASE("an empty map in a wider form keeps its bytes", "[payload]") {
  auto x = parsed("de0000");
  CHECK(x.empty());
  CHECK(hex(x.bytes()) == "de0000");
  CHECK(x != payload{});
}

TEST_CASE("a copied or moved payload reads its fields after the original "
          "is gone",
          "[payload]") {
  std::vector<payload> kept;
  {
    auto x = parsed(hello_hex);
    kept.push_back(x);
    kept.push_back(std::move(x));
  }
  // Reallocations move the elements again.
  for (int i = 0; i < 100; ++i)
    kept.push_back(kept[0]);
  for (const auto& y : kept) {
    CHECK(y.get_string("host") == std::string{"127.0.0.1"});
    CHECK(y.get_integer("port") == std::int64_t{8402});
  }
}

// -- malformed payloads -------------------------------------------------------

TEST_CASE("parse rejects an empty frame", "[payload]") {
  auto err = parse_error("");
  CHECK(err == errc::malformed_payload);
  CHECK(p2p0mq::context_of(err) == "payload: frame is empty");
}

TEST_CASE("parse rejects trailing bytes after the map", "[payload]") {
  for (auto bytes : {unhex("8000"), unhex(std::string{hello_hex} + "80")}) {
    auto err = parse_error(bytes);
    CHECK(err == errc::malformed_payload);
    CHECK_THAT(p2p0mq::context_of(err),
               StartsWith("payload: trailing bytes after the map"));
  }
  CHECK(p2p0mq::context_of(parse_error(unhex("800102"))) ==
        "payload: trailing bytes after the map (2 of 3 bytes)");
}

TEST_CASE("parse rejects a truncated map", "[payload]") {
  auto full = unhex(hello_hex);
  for (std::size_t n = 1; n < full.size(); ++n) {
    INFO("first " << n << " bytes");
    auto err = parse_error(full.substr(0, n));
    CHECK(err == errc::malformed_payload);
    // Cut short enough, the map header itself promises more than fits.
    CHECK_THAT(
        p2p0mq::context_of(err),
        StartsWith("payload: truncated msgpack: the " + std::to_string(n) +
                   "-byte frame ends inside") ||
            EndsWith("the " + std::to_string(n) + "-byte frame can hold"));
  }
}

TEST_CASE("parse rejects msgpack values that are not maps", "[payload]") {
  const std::pair<std::string_view, const char*> cases[] = {
      {"90", "array"},   {"01", "integer"},
      {"ff", "integer"}, {"a0", "str"},
      {"c400", "bin"},   {"c0", "nil"},
      {"c2", "boolean"}, {"cb0000000000000000", "float"},
      {"d40000", "ext"},
  };
  for (const auto& [bytes, type] : cases) {
    INFO("bytes " << bytes);
    auto err = parse_error(unhex(bytes));
    CHECK(err == errc::malformed_payload);
    CHECK(p2p0mq::context_of(err) ==
          "payload: msgpack " + std::string{type} + " where a map is expected");
  }
}

TEST_CASE("parse rejects a key that is neither str nor bin", "[payload]") {
  auto err = parse_error(unhex("82a16101"
                               "0102"));
  CHECK(err == errc::malformed_payload);
  CHECK(p2p0mq::context_of(err) ==
        "payload: key 1 is integer, expected str or bin");
  CHECK(parse_error(unhex("81c0c0")) == errc::malformed_payload);
  CHECK(parse_error(unhex("818080")) == errc::malformed_payload);
}

TEST_CASE("parse rejects the reserved byte 0xc1", "[payload]") {
  for (auto bytes : {unhex("c1"), unhex("81a161c1")}) {
    auto err = parse_error(bytes);
    CHECK(err == errc::malformed_payload);
    CHECK(p2p0mq::context_of(err) ==
          "payload: not valid msgpack (reserved type byte 0xc1)");
  }
}

TEST_CASE("parse accepts containers nested 32 levels deep", "[payload]") {
  // The map is level 1, so 31 arrays make 32 levels.
  auto x = payload::parse(nested_arrays(31));
  CHECK(x);
}

TEST_CASE("parse rejects deeply nested msgpack without crashing", "[payload]") {
  for (std::size_t depth : {32u, 100u, 100000u}) {
    INFO("depth " << depth);
    auto err = parse_error(nested_arrays(depth));
    CHECK(err == errc::malformed_payload);
    CHECK(p2p0mq::context_of(err) ==
          "payload: containers nested deeper than 32 levels");
  }
  // Nested maps, too.
  std::string maps;
  for (int i = 0; i < 100000; ++i)
    maps += unhex("81a16b");
  maps += '\xc0';
  CHECK(parse_error(maps) == errc::malformed_payload);
}

TEST_CASE("parse rejects a forged huge length without allocating it",
          "[payload]") {
  // An array, a map, a str and a bin claiming 2^32-1 elements or bytes.
  auto err = parse_error(unhex("81a161ddffffffff"));
  CHECK(err == errc::malformed_payload);
  CHECK(p2p0mq::context_of(err) ==
        "payload: array header claims more elements than the 8-byte "
        "frame can hold");
  err = parse_error(unhex("dfffffffff"));
  CHECK(p2p0mq::context_of(err) ==
        "payload: map header claims more entries than the 5-byte frame "
        "can hold");
  CHECK(parse_error(unhex("81a161dbffffffff")) == errc::malformed_payload);
  CHECK(parse_error(unhex("81a161c6ffffffff")) == errc::malformed_payload);
  CHECK(parse_error(unhex("81a161c9ffffffff01")) == errc::malformed_payload);
}

TEST_CASE("parse never throws or crashes on random bytes", "[payload]") {
  std::mt19937 rng{20240611};
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<std::size_t> length{1, 64};
  auto valid = unhex(r_hex);
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      // Random garbage, most of it rejected early.
      bytes.resize(length(rng));
      for (auto& c : bytes)
        c = static_cast<char>(byte(rng));
    } else {
      // A valid payload with a few bytes flipped, to reach deeper.
      bytes = valid;
      for (int k = 0; k < 3; ++k)
        bytes[std::uniform_int_distribution<std::size_t>{0, bytes.size() - 1}(
            rng)] = static_cast<char>(byte(rng));
    }
    auto x = payload::parse(bytes);
    if (x) {
      ++accepted;
      CHECK(x->bytes() == bytes);
      // Getters of an accepted payload never fail except with field errors.
      auto s = x->get_string("target");
      CHECK((s || s.error() == errc::missing_field ||
             s.error() == errc::wrong_field_type));
      auto a = x->get_bytes_array("breadcrumbs");
      CHECK((a || a.error() == errc::missing_field ||
             a.error() == errc::wrong_field_type));
    } else {
      CHECK(x.error() == errc::malformed_payload);
      CHECK_THAT(p2p0mq::context_of(x.error()), StartsWith("payload: "));
    }
  }
  CHECK(accepted > 0);
}

namespace {

/// The entry count a map header at the start of `bytes` announces, or none
/// when `bytes` does not start with one.
std::optional<std::size_t> announced_entries(const std::string& bytes) {
  auto b = static_cast<unsigned char>(bytes[0]);
  auto at = [&](std::size_t i) {
    return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i]));
  };
  if (b >= 0x80 && b <= 0x8f)
    return b - 0x80u;
  if (b == 0xde && bytes.size() >= 3)
    return (at(1) << 8) | at(2);
  if (b == 0xdf && bytes.size() >= 5)
    return (at(1) << 24) | (at(2) << 16) | (at(3) << 8) | at(4);
  return std::nullopt;
}

} // namespace

TEST_CASE("an accepted payload decodes to the map its header announces",
          "[payload]") {
  // parse only checks the bytes; the view is decoded at the first lookup.
  // Whatever parse accepts must decode, into as many entries as announced:
  // a check that let through what the decoder refuses would leave a
  // payload that looks empty.
  std::mt19937 rng{20261203};
  std::uniform_int_distribution<int> byte{0, 255};
  const std::string sources[] = {unhex(r_hex), unhex(hello_hex),
                                 payload_builder{}
                                     .add_integer("n", -5)
                                     .add_bytes_array("xs", {"a", "bc"})
                                     .add_string("s", "text")
                                     .build()
                                     .bytes()};
  std::size_t accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    auto bytes = sources[i % 3];
    for (int k = 0; k < 1 + i % 3; ++k)
      bytes[std::uniform_int_distribution<std::size_t>{0, bytes.size() - 1}(
          rng)] = static_cast<char>(byte(rng));
    auto x = payload::parse(bytes);
    if (!x)
      continue;
    ++accepted;
    INFO("bytes " << hex(bytes));
    auto entries = announced_entries(bytes);
    REQUIRE(entries);
    CHECK(x->size() == *entries);
  }
  CHECK(accepted > 1000);
}

TEST_CASE("copies share one view, decoded once whichever thread looks first",
          "[payload]") {
  for (int round = 0; round < 20; ++round) {
    auto original = parsed(hello_hex);
    // Copies made before anyone looked: all share the view built later.
    std::vector<payload> copies(8, original);
    std::vector<std::string> hosts(copies.size());
    std::vector<std::int64_t> ports(copies.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < copies.size(); ++i)
      threads.emplace_back([&, i] {
        if (auto host = copies[i].get_string("host"))
          hosts[i] = *host;
        if (auto port = copies[i].get_integer("port"))
          ports[i] = *port;
      });
    for (auto& t : threads)
      t.join();
    for (std::size_t i = 0; i < copies.size(); ++i) {
      CHECK(hosts[i] == "127.0.0.1");
      CHECK(ports[i] == 8402);
    }
    CHECK(original.size() == 2);
  }
}
