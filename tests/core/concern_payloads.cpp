#include "p2p0mq/concern_payloads.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "support/hex.hpp"

using p2p0mq::errc;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::testing::hex;
using p2p0mq::testing::unhex;

namespace {

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  return x.error();
}

payload parsed(const std::string& bytes) {
  auto result = payload::parse(bytes);
  REQUIRE(result);
  return std::move(*result);
}

} // namespace

// -- hello --------------------------------------------------------------------

TEST_CASE("make_hello_payload writes the golden hello payload",
          "[concern_payloads]") {
  CHECK(hex(p2p0mq::make_hello_payload("127.0.0.1", 8402).bytes()) ==
        "82a4686f7374a93132372e302e302e31a4706f7274cd20d2");
}

TEST_CASE("a hello that announces what it speaks has the golden bytes of "
          "the protocol specification",
          "[concern_payloads][capabilities]") {
  p2p0mq::capabilities speaks;
  speaks.announced = true;
  speaks.add(p2p0mq::capability::forward);
  CHECK(hex(p2p0mq::make_hello_payload("127.0.0.1", 8402, speaks).bytes()) ==
        "84a4686f7374a93132372e302e302e31a4706f7274cd20d2a6737065616b7391a7666f"
        "7277617264ae737065616b735f76657273696f6e01");
}

TEST_CASE("what a hello announces reads back, names of a newer version are "
          "ignored, and a speaks that is no array of str announces nothing",
          "[concern_payloads][capabilities]") {
  using p2p0mq::capability;
  auto ours = p2p0mq::capabilities::ours();
  auto back = p2p0mq::parse_hello_payload(
      p2p0mq::make_hello_payload("10.0.0.1", 1, ours));
  REQUIRE(back);
  CHECK(back->speaks.announced);
  CHECK(back->speaks.bits == ours.bits);
  CHECK(ours.has(capability::forward));
  CHECK(ours.has(capability::ask_around));
  CHECK(ours.has(capability::reject));

  auto newer = payload_builder{}
                   .add_string("host", "h")
                   .add_integer("port", 1)
                   .add_string_array("speaks", {"teleport", "reject"})
                   .add_integer("speaks_version", 7)
                   .build();
  auto x = p2p0mq::parse_hello_payload(newer);
  REQUIRE(x);
  CHECK(x->speaks.announced);
  CHECK(x->speaks.bits == static_cast<std::uint32_t>(capability::reject));

  auto odd = payload_builder{}
                 .add_string("host", "h")
                 .add_integer("port", 1)
                 .add_integer("speaks", 3)
                 .build();
  auto y = p2p0mq::parse_hello_payload(odd);
  REQUIRE(y);
  CHECK(y->speaks.announced);
  CHECK(y->speaks.bits == 0);

  auto legacy = p2p0mq::parse_hello_payload(
      parsed(unhex("82a4686f7374a93132372e302e302e31a4706f7274cd20d2")));
  REQUIRE(legacy);
  CHECK(!legacy->speaks.announced);
}

TEST_CASE("parse_hello_payload reads host and port", "[concern_payloads]") {
  auto x = p2p0mq::parse_hello_payload(
      parsed(unhex("82a4686f7374a93132372e302e302e31a4706f7274cd20d2")));
  REQUIRE(x);
  CHECK(x->host == "127.0.0.1");
  CHECK(x->port == 8402);
}

TEST_CASE("parse_hello_payload refuses missing, mistyped and out of range "
          "fields",
          "[concern_payloads]") {
  using p2p0mq::parse_hello_payload;
  CHECK(error_of(parse_hello_payload(payload{})) == errc::missing_field);
  auto no_port = payload_builder{}.add_string("host", "h").build();
  CHECK(error_of(parse_hello_payload(no_port)) == errc::missing_field);
  auto bin_host =
      payload_builder{}.add_bytes("host", "h").add_integer("port", 1).build();
  CHECK(error_of(parse_hello_payload(bin_host)) == errc::wrong_field_type);
  for (auto port : {0, -1, 65536}) {
    auto body = payload_builder{}
                    .add_string("host", "h")
                    .add_integer("port", port)
                    .build();
    CHECK(error_of(parse_hello_payload(body)) == errc::wrong_field_type);
  }
  auto empty_host =
      payload_builder{}.add_string("host", "").add_integer("port", 1).build();
  CHECK(error_of(parse_hello_payload(empty_host)) == errc::wrong_field_type);
  auto edge = payload_builder{}
                  .add_string("host", "h")
                  .add_integer("port", 65535)
                  .build();
  CHECK(parse_hello_payload(edge)->port == 65535);
}

// -- ask-around ---------------------------------------------------------------

TEST_CASE("make_ask_around_payload writes the golden r payload",
          "[concern_payloads]") {
  CHECK(hex(p2p0mq::make_ask_around_payload("3~3~3~3", {"1~1~1~1"}).bytes()) ==
        "82a6746172676574c407337e337e337e33ab62726561646372756d627391c407317e"
        "317e317e31");
}

TEST_CASE("parse_ask_around_payload reads target and breadcrumbs as bin or "
          "str",
          "[concern_payloads]") {
  auto x = p2p0mq::parse_ask_around_payload(
      p2p0mq::make_ask_around_payload("3~3~3~3", {"1~1~1~1", "2~2~2~2"}));
  REQUIRE(x);
  CHECK(x->target == "3~3~3~3");
  CHECK(x->breadcrumbs == std::vector<std::string>{"1~1~1~1", "2~2~2~2"});
  auto str_target = payload_builder{}
                        .add_string("target", "3~3~3~3")
                        .add_bytes_array("breadcrumbs", {})
                        .build();
  auto y = p2p0mq::parse_ask_around_payload(str_target);
  REQUIRE(y);
  CHECK(y->target == "3~3~3~3");
  CHECK(y->breadcrumbs.empty());
}

TEST_CASE("parse_ask_around_payload refuses missing fields and short uuids",
          "[concern_payloads]") {
  using p2p0mq::make_ask_around_payload;
  using p2p0mq::parse_ask_around_payload;
  CHECK(error_of(parse_ask_around_payload(payload{})) == errc::missing_field);
  auto no_crumbs = payload_builder{}.add_bytes("target", "3~3~3~3").build();
  CHECK(error_of(parse_ask_around_payload(no_crumbs)) == errc::missing_field);
  auto int_crumbs = payload_builder{}
                        .add_bytes("target", "3~3~3~3")
                        .add_integer("breadcrumbs", 1)
                        .build();
  CHECK(error_of(parse_ask_around_payload(int_crumbs)) ==
        errc::wrong_field_type);
  CHECK(error_of(parse_ask_around_payload(make_ask_around_payload(
            "abc", {"1~1~1~1"}))) == errc::wrong_field_type);
  CHECK(error_of(parse_ask_around_payload(make_ask_around_payload(
            "3~3~3~3", {"1~1~1~1", "abc"}))) == errc::wrong_field_type);
}

// -- rejections ---------------------------------------------------------------

TEST_CASE("rejection_of tells a rejection and its reason from a reply",
          "[concern_payloads]") {
  using p2p0mq::rejection_of;
  CHECK(rejection_of(payload{}) == std::nullopt);
  CHECK(rejection_of(payload_builder{}.add_string("text", "hi").build()) ==
        std::nullopt);
  CHECK(rejection_of(p2p0mq::make_rejection_payload("no such key")) ==
        std::string{"no such key"});
  auto int_reason =
      payload_builder{}.add_integer(p2p0mq::rejection_field, 7).build();
  CHECK(rejection_of(int_reason) == std::string{});
}
