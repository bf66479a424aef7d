#include "p2p0mq/message.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "support/hex.hpp"

using Catch::Matchers::StartsWith;
using p2p0mq::decode;
using p2p0mq::errc;
using p2p0mq::frames;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::time_point;

namespace {

using p2p0mq::testing::hex;
using p2p0mq::testing::unhex;

constexpr std::string_view hello_hex =
    "82a4686f7374a93132372e302e302e31a4706f7274cd20d2";

const std::string uuid_1 = "1~1~1~1";
const std::string uuid_2 = "2~2~2~2";
const std::string uuid_3 = "3~3~3~3";

payload hello_payload() {
  return payload_builder{}
      .add_string("host", "127.0.0.1")
      .add_integer("port", 8402)
      .build();
}

/// What the receiver ROUTER socket of the next hop reads when `sender` hands
/// `xs` to its sender ROUTER socket: ZeroMQ replaces the next hop (frame 0)
/// by the routing id of the connection, i.e. the sender's uuid.
std::vector<std::string> received(const frames& xs, std::string sender) {
  std::vector<std::string> result{xs.begin(), xs.end()};
  result[0] = std::move(sender);
  return result;
}

/// Seven valid frames of a hello request, as received.
std::vector<std::string> valid_frames() {
  return {uuid_1, "", "", "\x01", "hello", "\x01", unhex(hello_hex)};
}

caf::error decode_error(const std::vector<std::string>& xs) {
  auto result = decode(xs, uuid_2);
  REQUIRE_FALSE(result);
  return result.error();
}

caf::error decode_error_with(std::size_t index, std::string frame) {
  auto xs = valid_frames();
  xs[index] = std::move(frame);
  return decode_error(xs);
}

message decoded(const std::vector<std::string>& xs, std::string_view local) {
  auto result = decode(xs, local);
  if (!result)
    FAIL("decode failed: " << p2p0mq::render(result.error()));
  return std::move(*result);
}

} // namespace

// -- basics -------------------------------------------------------------------

TEST_CASE("message kinds print as request and reply", "[message]") {
  CHECK(to_string(message_kind::request) == "request");
  CHECK(to_string(message_kind::reply) == "reply");
  CHECK(static_cast<int>(message_kind::request) == 1);
  CHECK(static_cast<int>(message_kind::reply) == 2);
}

TEST_CASE("message_id_counter starts at 1 and counts per instance",
          "[message]") {
  p2p0mq::message_id_counter a;
  p2p0mq::message_id_counter b;
  CHECK(a.next() == 1);
  CHECK(a.next() == 2);
  CHECK(a.next() == 3);
  CHECK(b.next() == 1);
  CHECK(a.next() == 4);
  CHECK(b.next() == 2);
}

TEST_CASE("a message expires exactly at its deadline", "[message]") {
  auto t0 = time_point{} + std::chrono::seconds{100};
  auto x = p2p0mq::make_request(uuid_1, uuid_2, "hb", 1, {}, t0);
  CHECK_FALSE(x.expired(t0 - std::chrono::nanoseconds{1}));
  CHECK(x.expired(t0));
  CHECK(x.expired(t0 + std::chrono::seconds{1}));
  auto forever = p2p0mq::make_request(uuid_1, uuid_2, "hb", 1, {});
  CHECK(forever.deadline == time_point::max());
  CHECK_FALSE(forever.expired(t0));
}

TEST_CASE("make_request addresses a message straight to its destination",
          "[message]") {
  auto t0 = time_point{} + std::chrono::seconds{5};
  auto x =
      p2p0mq::make_request(uuid_1, uuid_2, "hello", 7, hello_payload(), t0);
  CHECK(x.source == uuid_1);
  CHECK(x.to == uuid_2);
  CHECK(x.next_hop == uuid_2);
  CHECK(x.previous_hop.empty());
  CHECK(x.command == "hello");
  CHECK(x.is_request());
  CHECK_FALSE(x.is_reply());
  CHECK(x.id == 7);
  CHECK(x.payload == hello_payload());
  CHECK(x.deadline == t0);
}

TEST_CASE("make_reply swaps the path of the request", "[message]") {
  // A request from 1 to 3 that reached 3 through 2.
  message request;
  request.source = uuid_1;
  request.to = uuid_3;
  request.previous_hop = uuid_2;
  request.command = "r";
  request.kind = message_kind::request;
  request.id = 42;
  request.payload = hello_payload();
  auto t0 = time_point{} + std::chrono::seconds{30};
  auto body = payload_builder{}.add_integer("answer", 1).build();
  auto reply = request.make_reply(body, t0);
  CHECK(reply.source == uuid_3);
  CHECK(reply.to == uuid_1);
  CHECK(reply.next_hop == uuid_2);
  CHECK(reply.previous_hop.empty());
  CHECK(reply.command == "r");
  CHECK(reply.is_reply());
  CHECK(reply.id == 42);
  CHECK(reply.payload == body);
  CHECK(reply.deadline == t0);
}

TEST_CASE("messages are equal only when every field is", "[message]") {
  auto x = p2p0mq::make_request(uuid_1, uuid_2, "hello", 1, hello_payload());
  auto y = x;
  CHECK(x == y);
  auto differs = [&](auto change) {
    auto z = x;
    change(z);
    return z != x;
  };
  CHECK(differs([](message& m) { m.source = "x"; }));
  CHECK(differs([](message& m) { m.to = "x"; }));
  CHECK(differs([](message& m) { m.previous_hop = "x"; }));
  CHECK(differs([](message& m) { m.next_hop = "x"; }));
  CHECK(differs([](message& m) { m.command = "x"; }));
  CHECK(differs([](message& m) { m.kind = message_kind::reply; }));
  CHECK(differs([](message& m) { m.id = 2; }));
  CHECK(differs([](message& m) { m.payload = payload{}; }));
  CHECK(differs([](message& m) { m.deadline = time_point{}; }));
}

// -- message ids --------------------------------------------------------------

TEST_CASE("message ids encode in the smallest unsigned msgpack form",
          "[message]") {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  const std::pair<std::uint64_t, std::string_view> cases[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "cc80"},
      {255, "ccff"},
      {256, "cd0100"},
      {300, "cd012c"},
      {65535, "cdffff"},
      {65536, "ce00010000"},
      {70000, "ce00011170"},
      {4294967295u, "ceffffffff"},
      {4294967296u, "cf0000000100000000"},
      {max, "cfffffffffffffffff"},
  };
  for (const auto& [id, encoded] : cases) {
    INFO("id " << id);
    CHECK(hex(p2p0mq::encode_message_id(id)) == encoded);
    auto xs = valid_frames();
    xs[5] = unhex(encoded);
    CHECK(decoded(xs, uuid_2).id == id);
  }
}

TEST_CASE("decode accepts a non-negative message id in a signed form",
          "[message]") {
  for (auto encoded : {"d005", "d10005", "d200000005", "d30000000000000005"}) {
    INFO("id bytes " << encoded);
    auto xs = valid_frames();
    xs[5] = unhex(encoded);
    CHECK(decoded(xs, uuid_2).id == 5);
  }
}

// -- golden frames ------------------------------------------------------------

TEST_CASE("a hello request sent straight has empty source and to frames",
          "[message]") {
  auto x = p2p0mq::make_request(uuid_1, uuid_2, "hello", 1, hello_payload());
  auto xs = x.encode(uuid_1);
  CHECK(xs[0] == "2~2~2~2");
  CHECK(xs[1].empty());
  CHECK(xs[2].empty());
  CHECK(hex(xs[3]) == "01");
  CHECK(xs[4] == "hello");
  CHECK(hex(xs[5]) == "01");
  CHECK(hex(xs[6]) == hello_hex);
}

TEST_CASE("a received hello request decodes with the previous hop as source",
          "[message]") {
  std::vector<std::string> xs{
      uuid_1, "", "", unhex("01"), "hello", unhex("01"), unhex(hello_hex)};
  auto x = decoded(xs, uuid_2);
  CHECK(x.source == uuid_1);
  CHECK(x.to == uuid_2);
  CHECK(x.previous_hop == uuid_1);
  CHECK(x.next_hop.empty());
  CHECK(x.command == "hello");
  CHECK(x.kind == message_kind::request);
  CHECK(x.id == 1);
  CHECK(hex(x.payload.bytes()) == hello_hex);
  CHECK(x.payload.get_string("host") == std::string{"127.0.0.1"});
  CHECK(x.payload.get_integer("port") == std::int64_t{8402});
  CHECK(x.deadline == time_point::max());
}

TEST_CASE("decode reads frames held as string views", "[message]") {
  auto owned = valid_frames();
  std::vector<std::string_view> views{owned.begin(), owned.end()};
  auto x = decode(views, uuid_2);
  REQUIRE(x);
  CHECK(*x == decoded(owned, uuid_2));
}

TEST_CASE("a hb reply sent straight carries kind 0x02 and an empty map",
          "[message]") {
  std::vector<std::string> request{
      uuid_1, "", "", unhex("01"), "hb", unhex("cd012c"), unhex("80")};
  auto x = decoded(request, uuid_2);
  CHECK(x.id == 300);
  CHECK(x.payload.empty());
  auto reply = x.make_reply({}, time_point::max());
  auto xs = reply.encode(uuid_2);
  CHECK(xs[0] == uuid_1);
  CHECK(xs[1].empty());
  CHECK(xs[2].empty());
  CHECK(hex(xs[3]) == "02");
  CHECK(xs[4] == "hb");
  CHECK(hex(xs[5]) == "cd012c");
  CHECK(hex(xs[6]) == "80");
  auto back = decoded(received(xs, uuid_2), uuid_1);
  CHECK(back.source == uuid_2);
  CHECK(back.to == uuid_1);
  CHECK(back.previous_hop == uuid_2);
  CHECK(back.is_reply());
  CHECK(back.id == 300);
}

// -- relays -------------------------------------------------------------------

TEST_CASE("a message sent through a relay fills the to frame", "[message]") {
  // 1 reaches 3 only through 2 (like a Python peer's heart-beat to a peer it
  // reaches only through another one).
  auto x = p2p0mq::make_request(uuid_1, uuid_3, "hb", 5, {});
  x.next_hop = uuid_2;
  auto xs = x.encode(uuid_1);
  CHECK(xs[0] == uuid_2);
  CHECK(xs[1].empty());
  CHECK(xs[2] == uuid_3);
  // At the relay, the message is addressed to someone else: to be routed.
  auto at_relay = decoded(received(xs, uuid_1), uuid_2);
  CHECK(at_relay.source == uuid_1);
  CHECK(at_relay.to == uuid_3);
  CHECK(at_relay.previous_hop == uuid_1);
  CHECK(at_relay.id == 5);
}

TEST_CASE("a relay forwards a message with the source frame filled",
          "[message]") {
  // 2 relays a request that 1 originated to its destination 3.
  message x;
  x.source = uuid_1;
  x.to = uuid_3;
  x.previous_hop = uuid_1;
  x.next_hop = uuid_3;
  x.command = "hello";
  x.id = 70000;
  x.payload = hello_payload();
  auto xs = x.encode(uuid_2);
  CHECK(xs[0] == uuid_3);
  CHECK(xs[1] == uuid_1);
  CHECK(xs[2].empty());
  CHECK(hex(xs[3]) == "01");
  CHECK(xs[4] == "hello");
  CHECK(hex(xs[5]) == "ce00011170");
  CHECK(hex(xs[6]) == hello_hex);
  auto at_destination = decoded(received(xs, uuid_2), uuid_3);
  CHECK(at_destination.source == uuid_1);
  CHECK(at_destination.to == uuid_3);
  CHECK(at_destination.previous_hop == uuid_2);
  CHECK(at_destination.next_hop.empty());
  CHECK(at_destination.id == 70000);
  CHECK(at_destination.payload == hello_payload());
}

TEST_CASE("a reply goes back through the relay with the to frame filled",
          "[message]") {
  // 3 received a request of 1 through 2 and answers it.
  std::vector<std::string> request{
      uuid_2, uuid_1, "", unhex("01"), "hello", unhex("01"), unhex(hello_hex)};
  auto at_3 = decoded(request, uuid_3);
  CHECK(at_3.source == uuid_1);
  CHECK(at_3.to == uuid_3);
  CHECK(at_3.previous_hop == uuid_2);
  auto body = payload_builder{}
                  .add_string("host", "127.0.0.3")
                  .add_integer("port", 8403)
                  .build();
  auto reply = at_3.make_reply(body, time_point::max());
  auto xs = reply.encode(uuid_3);
  CHECK(xs[0] == uuid_2);
  CHECK(xs[1].empty());
  CHECK(xs[2] == uuid_1);
  CHECK(hex(xs[3]) == "02");
  CHECK(xs[4] == "hello");
  CHECK(hex(xs[5]) == "01");
  CHECK(xs[6] == body.bytes());
  // The relay 2 reads it, sees it is for 1 and forwards it.
  auto at_2 = decoded(received(xs, uuid_3), uuid_2);
  CHECK(at_2.source == uuid_3);
  CHECK(at_2.to == uuid_1);
  CHECK(at_2.previous_hop == uuid_3);
  CHECK(at_2.is_reply());
  at_2.next_hop = uuid_1;
  auto forwarded = at_2.encode(uuid_2);
  CHECK(forwarded[0] == uuid_1);
  CHECK(forwarded[1] == uuid_3);
  CHECK(forwarded[2].empty());
  CHECK(hex(forwarded[3]) == "02");
  // 1 gets the answer of 3, through 2.
  auto at_1 = decoded(received(forwarded, uuid_2), uuid_1);
  CHECK(at_1.source == uuid_3);
  CHECK(at_1.to == uuid_1);
  CHECK(at_1.previous_hop == uuid_2);
  CHECK(at_1.is_reply());
  CHECK(at_1.id == 1);
  CHECK(at_1.payload == body);
}

// -- malformed messages -------------------------------------------------------

TEST_CASE("decode rejects a message with six frames", "[message]") {
  auto xs = valid_frames();
  xs.pop_back();
  auto err = decode_error(xs);
  CHECK(err == errc::malformed_frame_count);
  CHECK(p2p0mq::context_of(err) == "got 6 frames, expected 7");
}

TEST_CASE("decode rejects a message with eight frames", "[message]") {
  auto xs = valid_frames();
  xs.emplace_back("extra");
  auto err = decode_error(xs);
  CHECK(err == errc::malformed_frame_count);
  CHECK(p2p0mq::context_of(err) == "got 8 frames, expected 7");
}

TEST_CASE("decode rejects a message with no frames", "[message]") {
  auto err = decode_error({});
  CHECK(err == errc::malformed_frame_count);
  CHECK(p2p0mq::context_of(err) == "got 0 frames, expected 7");
  std::vector<std::string_view> none;
  auto result = decode(none, uuid_2);
  REQUIRE_FALSE(result);
  CHECK(result.error() == errc::malformed_frame_count);
}

TEST_CASE("decode rejects an empty previous hop", "[message]") {
  auto err = decode_error_with(0, "");
  CHECK(err == errc::malformed_routing_id);
  CHECK(p2p0mq::context_of(err) == "previous hop (frame 0) is empty");
}

TEST_CASE("decode rejects an empty kind frame", "[message]") {
  auto err = decode_error_with(3, "");
  CHECK(err == errc::malformed_kind);
  CHECK(p2p0mq::context_of(err) == "kind frame is empty");
}

TEST_CASE("decode rejects a kind frame of two bytes", "[message]") {
  auto err = decode_error_with(3, unhex("0101"));
  CHECK(err == errc::malformed_kind);
  CHECK(p2p0mq::context_of(err) == "kind frame has 2 bytes, expected 1");
}

TEST_CASE("decode rejects an unknown kind", "[message]") {
  for (auto [byte, text] : {std::pair{"00", "0x00"}, std::pair{"03", "0x03"},
                            std::pair{"31", "0x31"}, std::pair{"ff", "0xff"}}) {
    INFO("kind " << text);
    auto err = decode_error_with(3, unhex(byte));
    CHECK(err == errc::malformed_kind);
    CHECK(p2p0mq::context_of(err) == std::string{"unknown kind "} + text);
  }
}

TEST_CASE("decode rejects an empty command frame", "[message]") {
  auto err = decode_error_with(4, "");
  CHECK(err == errc::malformed_command);
  CHECK(p2p0mq::context_of(err) == "command frame is empty");
}

TEST_CASE("decode rejects an empty message id frame", "[message]") {
  auto err = decode_error_with(5, "");
  CHECK(err == errc::malformed_message_id);
  CHECK(p2p0mq::context_of(err) == "message id frame is empty");
}

TEST_CASE("decode rejects a message id that is not an unsigned integer",
          "[message]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ff", "negative integer -1"},
      {"d0fb", "negative integer -5"},
      {"d38000000000000000", "negative integer -9223372036854775808"},
      {"a131", "str"},
      {"c40131", "bin"},
      {"c0", "nil"},
      {"c3", "boolean"},
      {"ca3f800000", "float"},
      {"cb3ff0000000000000", "float"},
      {"9101", "array"},
      {"80", "map"},
      {"d40102", "ext"},
  };
  for (const auto& [bytes, what] : cases) {
    INFO("id bytes " << bytes);
    auto err = decode_error_with(5, unhex(bytes));
    CHECK(err == errc::malformed_message_id);
    CHECK(p2p0mq::context_of(err) ==
          "message id is not a msgpack unsigned integer: got " +
              std::string{what});
  }
}

TEST_CASE("decode rejects a truncated message id", "[message]") {
  for (auto bytes : {"cc", "cd01", "ce000111", "cf00000000000000"}) {
    INFO("id bytes " << bytes);
    auto err = decode_error_with(5, unhex(bytes));
    CHECK(err == errc::malformed_message_id);
    CHECK_THAT(p2p0mq::context_of(err),
               StartsWith("message id is truncated msgpack"));
  }
  // A str header whose body is missing is truncated, too.
  CHECK(decode_error_with(5, unhex("a5")) == errc::malformed_message_id);
}

TEST_CASE("decode rejects trailing bytes after the message id", "[message]") {
  auto err = decode_error_with(5, unhex("0100"));
  CHECK(err == errc::malformed_message_id);
  CHECK(p2p0mq::context_of(err) ==
        "message id: trailing bytes after the integer (1 of 2 bytes)");
}

TEST_CASE("decode rejects invalid msgpack as message id", "[message]") {
  auto err = decode_error_with(5, unhex("c1"));
  CHECK(err == errc::malformed_message_id);
  CHECK(p2p0mq::context_of(err) ==
        "message id is not valid msgpack (reserved type byte 0xc1)");
  // An ext32 header claiming 2^32-1 bytes (msgpack-c throws for it on 32-bit
  // targets) is cut short here.
  err = decode_error_with(5, unhex("c9ffffffff01"));
  CHECK(err == errc::malformed_message_id);
  CHECK(p2p0mq::context_of(err) == "message id is truncated msgpack (6 bytes)");
}

TEST_CASE("decode rejects a payload that is not a map with string keys",
          "[message]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "payload: frame is empty"},
      {"90", "payload: msgpack array where a map is expected"},
      {"8000", "payload: trailing bytes after the map (1 of 2 bytes)"},
      {"810101", "payload: key 0 is integer, expected str or bin"},
      {"82a4686f7374", "payload: truncated msgpack: the 6-byte frame ends "
                       "inside a value"},
  };
  for (const auto& [bytes, context] : cases) {
    INFO("payload bytes " << bytes);
    auto err = decode_error_with(6, unhex(bytes));
    CHECK(err == errc::malformed_payload);
    CHECK(p2p0mq::context_of(err) == context);
  }
}

TEST_CASE("decode reports the first problem of a message", "[message]") {
  std::vector<std::string> xs{"", "", "", "", "", "", ""};
  CHECK(decode_error(xs) == errc::malformed_routing_id);
  xs[0] = uuid_1;
  CHECK(decode_error(xs) == errc::malformed_kind);
  xs[3] = unhex("02");
  CHECK(decode_error(xs) == errc::malformed_command);
  xs[4] = "hb";
  CHECK(decode_error(xs) == errc::malformed_message_id);
  xs[5] = unhex("01");
  CHECK(decode_error(xs) == errc::malformed_payload);
  xs[6] = unhex("80");
  CHECK(decode(xs, uuid_2));
}

TEST_CASE("decode never throws or crashes on random frames", "[message]") {
  std::mt19937 rng{7};
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<int> length{0, 12};
  auto valid = valid_frames();
  for (int i = 0; i < 20000; ++i) {
    auto xs = valid;
    // Replace one or two frames by random bytes.
    for (int k = 0; k < 1 + i % 2; ++k) {
      auto& frame = xs[std::uniform_int_distribution<std::size_t>{0, 6}(rng)];
      frame.resize(static_cast<std::size_t>(length(rng)));
      for (auto& c : frame)
        c = static_cast<char>(byte(rng));
    }
    auto x = decode(xs, uuid_2);
    if (x) {
      CHECK_FALSE(x->previous_hop.empty());
      CHECK_FALSE(x->command.empty());
    } else {
      CHECK(x.error().category() == p2p0mq::error_category);
      CHECK_FALSE(p2p0mq::context_of(x.error()).empty());
    }
  }
}

// -- property: round trips ----------------------------------------------------

namespace {

struct random_source {
  std::mt19937 rng{1234567};

  std::size_t between(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>{lo, hi}(rng);
  }

  /// Random bytes, zero bytes included.
  std::string bytes(std::size_t lo, std::size_t hi) {
    std::string result(between(lo, hi), '\0');
    for (auto& c : result)
      c = static_cast<char>(between(0, 255));
    return result;
  }

  /// A random unsigned value of a random bit width, so that every msgpack
  /// form is as likely as the others.
  std::uint64_t unsigned_value() {
    auto bits = between(0, 64);
    if (bits == 0)
      return 0;
    auto x = std::uniform_int_distribution<std::uint64_t>{}(rng);
    return x >> (64 - bits);
  }

  std::int64_t signed_value() {
    auto x = unsigned_value();
    if (between(0, 1) == 0)
      return static_cast<std::int64_t>(x >> 1);
    return -static_cast<std::int64_t>(x >> 1) - 1;
  }
};

/// A random payload and the values its builder was given.
struct random_payload {
  payload body;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::string> blobs;
  std::map<std::string, std::int64_t> integers;
  std::map<std::string, std::vector<std::string>> arrays;
};

random_payload make_random_payload(random_source& src) {
  random_payload result;
  payload_builder builder;
  auto entries = src.between(0, 8);
  for (std::size_t i = 0; i < entries; ++i) {
    // A unique key: its index, then random bytes.
    auto key = std::to_string(i) + src.bytes(0, 40);
    // Sometimes a long value, to cover the 16-bit length forms.
    std::size_t max_len = src.between(0, 20) == 0 ? 300 : 40;
    switch (src.between(0, 3)) {
    case 0: {
      auto value = src.bytes(0, max_len);
      builder.add_string(key, value);
      result.strings.emplace(key, value);
      break;
    }
    case 1: {
      auto value = src.bytes(0, max_len);
      builder.add_bytes(key, value);
      result.blobs.emplace(key, value);
      break;
    }
    case 2: {
      auto value = src.signed_value();
      builder.add_integer(key, value);
      result.integers.emplace(key, value);
      break;
    }
    default: {
      std::vector<std::string> values(src.between(0, 20));
      for (auto& x : values)
        x = src.bytes(0, 40);
      builder.add_bytes_array(key, values);
      result.arrays.emplace(key, values);
    }
    }
  }
  result.body = builder.build();
  return result;
}

} // namespace

TEST_CASE("2000 random messages survive encode and decode unchanged",
          "[message]") {
  random_source src;
  for (int i = 0; i < 2000; ++i) {
    INFO("message " << i);
    auto body = make_random_payload(src);
    // The sender may be the originator or a relay, and the next hop the
    // destination or a relay; each case fills other frames.
    auto local = src.bytes(4, 40);
    message x;
    x.source = src.between(0, 1) == 0 ? local : src.bytes(4, 40);
    x.to = src.bytes(4, 40);
    x.next_hop = src.between(0, 1) == 0 ? x.to : src.bytes(4, 40);
    x.command = src.bytes(1, 20);
    x.kind =
        src.between(0, 1) == 0 ? message_kind::request : message_kind::reply;
    x.id = src.unsigned_value();
    x.payload = body.body;
    x.deadline = time_point{} + std::chrono::seconds{src.between(0, 100)};
    auto xs = x.encode(local);
    CHECK(xs[0] == x.next_hop);
    CHECK(xs[1].empty() == (x.source == local));
    CHECK(xs[2].empty() == (x.to == x.next_hop));
    auto y = decoded(received(xs, local), x.next_hop);
    CHECK(y.source == x.source);
    CHECK(y.to == x.to);
    CHECK(y.previous_hop == local);
    CHECK(y.next_hop.empty());
    CHECK(y.command == x.command);
    CHECK(y.kind == x.kind);
    CHECK(y.id == x.id);
    CHECK(y.payload == x.payload);
    CHECK(y.deadline == time_point::max());
    CHECK(y.payload.size() == body.strings.size() + body.blobs.size() +
                                  body.integers.size() + body.arrays.size());
    for (const auto& [key, value] : body.strings) {
      CHECK(y.payload.get_string(key) == value);
      CHECK(y.payload.get_bytes(key) == value);
    }
    for (const auto& [key, value] : body.blobs) {
      CHECK(y.payload.get_bytes(key) == value);
      CHECK(y.payload.get_string(key).error() == errc::wrong_field_type);
    }
    for (const auto& [key, value] : body.integers)
      CHECK(y.payload.get_integer(key) == value);
    for (const auto& [key, value] : body.arrays)
      CHECK(y.payload.get_bytes_array(key) == value);
  }
}
