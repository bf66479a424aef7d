#include "p2p0mq/field.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/payload.hpp"

using Catch::Matchers::Contains;
using p2p0mq::errc;
using p2p0mq::field;
using p2p0mq::fields;
using p2p0mq::payload_builder;

namespace {

/// `{"text": "hi", "count": 300, "neg": -5, "tags": [b"a", b"b"],
///   "blob": b"\x01"}`.
p2p0mq::payload sample() {
  return payload_builder{}
      .add_string("text", "hi")
      .add_integer("count", 300)
      .add_integer("neg", -5)
      .add_bytes_array("tags", {"a", "b"})
      .add_bytes("blob", "\x01")
      .build();
}

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  INFO(p2p0mq::render(x.error()));
  return x.error();
}

} // namespace

TEST_CASE("field reads strings, integers and arrays of bytes", "[field]") {
  auto body = sample();
  CHECK(field<std::string>(body, "text") == std::string{"hi"});
  CHECK(field<std::int64_t>(body, "count") == std::int64_t{300});
  CHECK(field<std::uint16_t>(body, "count") == std::uint16_t{300});
  CHECK(field<int>(body, "neg") == -5);
  CHECK(field<std::vector<std::string>>(body, "tags") ==
        std::vector<std::string>{"a", "b"});
}

TEST_CASE("field of a missing key is missing_field naming the key", "[field]") {
  auto err = error_of(field<std::string>(sample(), "nope"));
  CHECK(err == errc::missing_field);
  CHECK_THAT(p2p0mq::context_of(err), Contains("\"nope\""));
}

TEST_CASE("field of another type is wrong_field_type saying what was found",
          "[field]") {
  auto body = sample();
  auto err = error_of(field<std::string>(body, "count"));
  CHECK(err == errc::wrong_field_type);
  CHECK_THAT(p2p0mq::context_of(err), Contains("\"count\" is integer"));
  CHECK_THAT(p2p0mq::context_of(err), Contains("expected str"));
  // A bin value is not a str.
  CHECK(error_of(field<std::string>(body, "blob")) == errc::wrong_field_type);
  CHECK(error_of(field<int>(body, "text")) == errc::wrong_field_type);
  CHECK(error_of(field<std::vector<std::string>>(body, "text")) ==
        errc::wrong_field_type);
}

TEST_CASE("field of an integer beyond the range of the type is "
          "wrong_field_type",
          "[field]") {
  auto body = sample();
  auto err = error_of(field<std::uint8_t>(body, "count"));
  CHECK(err == errc::wrong_field_type);
  CHECK(p2p0mq::context_of(err) ==
        "field \"count\" is 300, beyond the range of a 8-bit unsigned "
        "integer");
  CHECK(error_of(field<unsigned>(body, "neg")) == errc::wrong_field_type);
  CHECK_THAT(p2p0mq::context_of(error_of(field<std::int8_t>(body, "count"))),
             Contains("8-bit integer"));
}

TEST_CASE("fields reads several fields or returns the first error", "[field]") {
  auto body = sample();
  auto both = fields<std::string, std::uint16_t>(body, "text", "count");
  REQUIRE(both);
  CHECK(std::get<0>(*both) == "hi");
  CHECK(std::get<1>(*both) == 300);
  auto err = error_of(
      fields<std::string, std::string, int>(body, "text", "count", "gone"));
  CHECK(err == errc::wrong_field_type);
  CHECK_THAT(p2p0mq::context_of(err), Contains("\"count\""));
}
