// The group protocol's pure rules: names, bounds, and the `g` payloads,
// read as hostile input.
#include "p2p0mq/groups.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "p2p0mq/errc.hpp"

using p2p0mq::errc;
using p2p0mq::group_publication;
using p2p0mq::membership_record;
using p2p0mq::payload_builder;

namespace {

group_publication sample() {
  group_publication x;
  x.group = "chat";
  x.publisher = "peer-a-01";
  x.incarnation = 7;
  x.seq = 3;
  x.hops_left = 10;
  x.targets = {"peer-b-02", "peer-c-03"};
  x.previous = {2, 0};
  x.body = payload_builder{}.add_integer("seq", 3).build().bytes();
  return x;
}

bool fails_with(const caf::error& err, errc code) {
  return p2p0mq::is(err, code);
}

} // namespace

TEST_CASE("a group name is 1 to 64 printable ASCII bytes without space",
          "[groups]") {
  CHECK_FALSE(p2p0mq::check_group_name("chat"));
  CHECK_FALSE(p2p0mq::check_group_name("a/b:c-d_e.f@1"));
  CHECK_FALSE(p2p0mq::check_group_name(std::string(64, 'x')));
  CHECK(fails_with(p2p0mq::check_group_name(""), errc::invalid_request));
  CHECK(fails_with(p2p0mq::check_group_name(std::string(65, 'x')),
                   errc::invalid_request));
  CHECK(
      fails_with(p2p0mq::check_group_name("two words"), errc::invalid_request));
  CHECK(fails_with(p2p0mq::check_group_name("line\nbreak"),
                   errc::invalid_request));
  CHECK(fails_with(p2p0mq::check_group_name("caf\xc3\xa9"),
                   errc::invalid_request));
}

TEST_CASE("a publication survives encoding and decoding", "[groups]") {
  auto x = sample();
  auto body = p2p0mq::encode_publication(x);
  auto op = p2p0mq::group_op_of(body);
  REQUIRE(op);
  CHECK(*op == p2p0mq::group_op::publication);
  auto y = p2p0mq::decode_publication(body);
  REQUIRE(y);
  CHECK(*y == x);
}

TEST_CASE("membership records survive encoding and decoding", "[groups]") {
  std::vector<membership_record> xs{
      {"peer-a-01", (1ull << 60) + 5, 0, {"chat", "news"}},
      {"peer-b-02", 1, 3, {}},
  };
  auto body = p2p0mq::encode_membership(xs);
  auto op = p2p0mq::group_op_of(body);
  REQUIRE(op);
  CHECK(*op == p2p0mq::group_op::membership);
  auto ys = p2p0mq::decode_membership(body);
  REQUIRE(ys);
  CHECK(*ys == xs);
}

TEST_CASE("a group payload without a known op is malformed", "[groups]") {
  CHECK(fails_with(p2p0mq::group_op_of(p2p0mq::payload{}).error(),
                   errc::malformed_payload));
  auto other = payload_builder{}.add_string("op", "x").build();
  CHECK(
      fails_with(p2p0mq::group_op_of(other).error(), errc::malformed_payload));
}

TEST_CASE("decode_publication rejects what breaks its rules", "[groups]") {
  auto check = [](group_publication x) {
    auto y = p2p0mq::decode_publication(p2p0mq::encode_publication(x));
    CHECK_FALSE(y);
  };
  auto x = sample();
  x.group = "bad name";
  check(x);
  x = sample();
  x.publisher.clear();
  check(x);
  x = sample();
  x.seq = 0;
  x.previous = {0, 0};
  check(x);
  x = sample();
  x.previous = {3, 0}; // not below its own number
  check(x);
  x = sample();
  x.hops_left = p2p0mq::max_group_hops + 1;
  check(x);
  x = sample();
  x.targets.push_back("peer-d-04"); // one previous number short
  check(x);
  x = sample();
  x.targets[0].clear();
  check(x);
  x = sample();
  x.body = "not msgpack";
  check(x);
  x = sample();
  x.body = std::string(p2p0mq::max_group_payload_size + 1, '\x80');
  check(x);
  x = sample();
  x.targets.assign(p2p0mq::max_group_members + 1, "peer-z-99");
  x.previous.assign(x.targets.size(), 0);
  check(x);
}

TEST_CASE("decode_membership rejects what breaks its rules", "[groups]") {
  auto records = [](std::vector<membership_record> xs) {
    return p2p0mq::decode_membership(p2p0mq::encode_membership(xs));
  };
  CHECK_FALSE(records({{"", 1, 0, {}}}));
  CHECK_FALSE(records({{"peer-a-01", 1, 0, {"bad\x01name"}}}));
  std::vector<std::string> many;
  for (int i = 0; i <= static_cast<int>(p2p0mq::max_groups_per_peer); ++i)
    many.push_back("g" + std::to_string(i));
  CHECK_FALSE(records({{"peer-a-01", 1, 0, many}}));
  std::vector<membership_record> too_many(p2p0mq::max_records_per_message + 1,
                                          {"peer-a-01", 1, 0, {}});
  CHECK_FALSE(records(too_many));
  // Lists of different lengths.
  auto odd = payload_builder{}
                 .add_string("op", "m")
                 .add_bytes_array("o", {"peer-a-01", "peer-b-02"})
                 .add_bytes("v", std::string(8, '\0'))
                 .add_bytes("n", std::string(8, '\0'))
                 .add_string_array("gs", {"", ""})
                 .build();
  CHECK_FALSE(p2p0mq::decode_membership(odd));
  // Packed numbers of the wrong width.
  auto ragged = payload_builder{}
                    .add_string("op", "m")
                    .add_bytes_array("o", {"peer-a-01"})
                    .add_bytes("v", std::string(7, '\0'))
                    .add_bytes("n", std::string(4, '\0'))
                    .add_string_array("gs", {""})
                    .build();
  CHECK_FALSE(p2p0mq::decode_membership(ragged));
}

TEST_CASE("an acknowledgement lists the ids it acknowledges, or its own id",
          "[groups]") {
  std::vector<std::uint64_t> ids{3, 7, (1ull << 40) + 1};
  auto xs =
      p2p0mq::decode_acknowledgement(p2p0mq::encode_acknowledgement(ids), 9);
  REQUIRE(xs);
  CHECK(*xs == ids);
  auto own = p2p0mq::decode_acknowledgement(p2p0mq::payload{}, 9);
  REQUIRE(own);
  CHECK(*own == std::vector<std::uint64_t>{9});
  auto ragged = payload_builder{}.add_bytes("a", std::string(9, '\0')).build();
  CHECK(fails_with(p2p0mq::decode_acknowledgement(ragged, 9).error(),
                   errc::malformed_payload));
  std::vector<std::uint64_t> many(p2p0mq::max_acknowledged_ids + 1, 1);
  CHECK(fails_with(
      p2p0mq::decode_acknowledgement(p2p0mq::encode_acknowledgement(many), 9)
          .error(),
      errc::malformed_payload));
}
