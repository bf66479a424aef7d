#include "p2p0mq/uuid.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <unordered_set>
#include <vector>

TEST_CASE("make_uuid returns 32 lowercase hexadecimal characters", "[uuid]") {
  for (int i = 0; i < 100; ++i) {
    auto x = p2p0mq::make_uuid();
    INFO("uuid " << x);
    REQUIRE(x.size() == 32);
    CHECK(x.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("10,000 generated uuids are all distinct", "[uuid]") {
  std::unordered_set<std::string> seen;
  std::vector<std::set<char>> digits(32);
  for (int i = 0; i < 10000; ++i) {
    auto x = p2p0mq::make_uuid();
    REQUIRE(x.size() == 32);
    REQUIRE(seen.insert(x).second);
    for (std::size_t pos = 0; pos < x.size(); ++pos)
      digits[pos].insert(x[pos]);
  }
  // Random bytes put every hexadecimal digit at every position.
  for (std::size_t pos = 0; pos < digits.size(); ++pos) {
    INFO("position " << pos);
    CHECK(digits[pos].size() == 16);
  }
}

TEST_CASE("short_uuid shortens a generated uuid to its first 8 digits",
          "[uuid]") {
  CHECK(p2p0mq::short_uuid("0123456789abcdef0123456789abcdef") == "01234567");
  auto x = p2p0mq::make_uuid();
  CHECK(p2p0mq::is_generated_uuid(x));
  CHECK(p2p0mq::short_uuid(x) == x.substr(0, 8));
}

TEST_CASE("short_uuid shows a chosen uuid whole, so that names sharing a "
          "prefix stay apart",
          "[uuid]") {
  CHECK(p2p0mq::short_uuid("alice-0001") == "alice-0001");
  CHECK(p2p0mq::short_uuid("alice-0002") == "alice-0002");
  CHECK(p2p0mq::short_uuid("abcd") == "abcd");
  CHECK(p2p0mq::short_uuid("").empty());
  // Almost the generated form: one digit too many, upper case, not hex.
  CHECK(p2p0mq::short_uuid("0123456789abcdef0123456789abcdef0") ==
        "0123456789abcdef0123456789abcdef0");
  CHECK(p2p0mq::short_uuid("0123456789ABCDEF0123456789ABCDEF") ==
        "0123456789ABCDEF0123456789ABCDEF");
  CHECK_FALSE(p2p0mq::is_generated_uuid("0123456789abcdef0123456789abcdeg"));
}

TEST_CASE("short_uuid writes bytes that are not printable as \\xNN, keeping "
          "uuids apart",
          "[uuid]") {
  CHECK(p2p0mq::short_uuid(std::string{"\x01\x7f"
                                       "ab\xff"
                                       "cd\n"
                                       "zz",
                                       10}) == "\\x01\\x7fab\\xffcd\\x0azz");
  CHECK(p2p0mq::short_uuid(std::string{"\0\0\0\0", 4}) ==
        "\\x00\\x00\\x00\\x00");
  CHECK(p2p0mq::short_uuid(std::string{"a\0b", 3}) !=
        p2p0mq::short_uuid(std::string{"a\1b", 3}));
  // The backslash itself is escaped, so no uuid reads like another.
  CHECK(p2p0mq::short_uuid("a\\x01") == "a\\x5cx01");
  CHECK(p2p0mq::short_uuid("1~1~1~1 ") == "1~1~1~1 ");
}
