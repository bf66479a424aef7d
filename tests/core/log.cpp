#include "p2p0mq/log.hpp"

#include <catch2/catch.hpp>

#include <string>

using p2p0mq::quote_bytes;

TEST_CASE("quote_bytes shows printable ASCII as it is, between quotes",
          "[log]") {
  CHECK(quote_bytes("peer-0001") == "\"peer-0001\"");
  CHECK(quote_bytes("") == "\"\"");
  CHECK(quote_bytes("a b~") == "\"a b~\"");
}

TEST_CASE("quote_bytes escapes quotes, backslashes, control characters and "
          "bytes beyond ASCII",
          "[log]") {
  CHECK(quote_bytes("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(quote_bytes("a\\b") == "\"a\\\\b\"");
  CHECK(quote_bytes("1\n2\r3\t4") == "\"1\\n2\\r3\\t4\"");
  CHECK(quote_bytes(std::string{"\x00\x1b\x7f\xff", 4}) ==
        "\"\\x00\\x1b\\x7f\\xff\"");
  CHECK(quote_bytes("caf\xc3\xa9") == "\"caf\\xc3\\xa9\"");
}

TEST_CASE("quote_bytes shows the first bytes of a long value and its length",
          "[log]") {
  std::string uuid(300, 'u');
  auto x = quote_bytes(uuid);
  CHECK(x == "\"" + std::string(256, 'u') + "\"... (300 bytes)");
  CHECK(quote_bytes("abcdef", 3) == "\"abc\"... (6 bytes)");
  // Exactly the limit: nothing left out.
  CHECK(quote_bytes(std::string(256, 'u')) ==
        "\"" + std::string(256, 'u') + "\"");
}

TEST_CASE("a quoted value is one line of printable ASCII whatever it holds",
          "[log]") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  auto x = quote_bytes(all, 1000);
  for (auto c : x) {
    auto byte = static_cast<unsigned char>(c);
    CHECK((byte >= 0x20 && byte <= 0x7e));
  }
}
