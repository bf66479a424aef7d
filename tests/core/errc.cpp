#include "p2p0mq/errc.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>

#include <caf/make_message.hpp>
#include <caf/message.hpp>

using p2p0mq::errc;

namespace {

errc nth(int x) {
  return static_cast<errc>(x);
}

constexpr int last = static_cast<int>(p2p0mq::last_errc);

} // namespace

TEST_CASE("every errc value from 1 to last_errc has its own name", "[errc]") {
  std::set<std::string> names;
  for (int i = 1; i <= last; ++i) {
    auto name = to_string(nth(i));
    INFO("errc value " << i << " is named " << name);
    CHECK(name != "<unknown errc>");
    CHECK_FALSE(name.empty());
    CHECK(names.insert(name).second);
  }
  CHECK(names.size() == static_cast<std::size_t>(last));
}

TEST_CASE("values outside the enumeration are unknown errc values", "[errc]") {
  CHECK(to_string(nth(0)) == "<unknown errc>");
  CHECK(to_string(nth(last + 1)) == "<unknown errc>");
  CHECK(to_string(nth(255)) == "<unknown errc>");
}

TEST_CASE("make_error carries the code in the p2p0mq category", "[errc]") {
  for (int i = 1; i <= last; ++i) {
    INFO("errc value " << i);
    auto err = make_error(nth(i));
    REQUIRE(err);
    CHECK(err.code() == i);
    CHECK(err.category() == p2p0mq::error_category);
    CHECK(err.context().empty());
    CHECK(p2p0mq::context_of(err).empty());
    CHECK(p2p0mq::render(err) == "p2p0mq." + to_string(nth(i)));
  }
}

TEST_CASE("make_error with a context round trips through context_of and "
          "render",
          "[errc]") {
  for (int i = 1; i <= last; ++i) {
    INFO("errc value " << i);
    auto err = make_error(nth(i), "got 6 frames, expected 7");
    REQUIRE(err);
    CHECK(err.code() == i);
    CHECK(err.category() == p2p0mq::error_category);
    CHECK(p2p0mq::context_of(err) == "got 6 frames, expected 7");
    CHECK(p2p0mq::render(err) ==
          "p2p0mq." + to_string(nth(i)) + ": got 6 frames, expected 7");
  }
}

TEST_CASE("an errc converts to a caf::error that compares equal to it",
          "[errc]") {
  caf::error err = errc::invalid_config;
  CHECK(err == errc::invalid_config);
  CHECK(err != errc::send_queue_full);
  CHECK(p2p0mq::render(err) == "p2p0mq.invalid_config");
}

TEST_CASE("render says none for no error", "[errc]") {
  CHECK(p2p0mq::render(caf::error{}) == "none");
  CHECK(p2p0mq::context_of(caf::error{}).empty());
}

TEST_CASE("render leaves errors of other categories to CAF", "[errc]") {
  caf::error err{3, caf::atom("other"), caf::make_message(std::string{"x"})};
  CHECK(p2p0mq::render(err) == caf::to_string(err));
  CHECK_THAT(p2p0mq::render(err), !Catch::Matchers::StartsWith("p2p0mq."));
}

TEST_CASE("context_of is empty unless the context is exactly one string",
          "[errc]") {
  auto code = static_cast<std::uint8_t>(errc::malformed_payload);
  auto cat = p2p0mq::error_category;
  CHECK(
      p2p0mq::context_of(caf::error{code, cat, caf::make_message(42)}).empty());
  CHECK(p2p0mq::context_of(
            caf::error{code, cat,
                       caf::make_message(std::string{"a"}, std::string{"b"})})
            .empty());
  caf::error odd{code, cat, caf::make_message(42)};
  CHECK(p2p0mq::render(odd) == "p2p0mq.malformed_payload");
}
