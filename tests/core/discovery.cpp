#include "p2p0mq/discovery.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "support/hex.hpp"

using p2p0mq::beacon;
using p2p0mq::errc;
using p2p0mq::exchange_body;
using p2p0mq::exchanged_peer;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::testing::hex;

namespace {

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  return x.error();
}

/// A sample payload of `uuids` and `addresses`, as a peer might forge it.
payload sample(const std::vector<std::string>& uuids,
               const std::vector<std::string>& addresses) {
  return payload_builder{}
      .add_string("op", "sample")
      .add_integer("degree", 3)
      .add_bytes_array("peers", uuids)
      .add_string_array("addresses", addresses)
      .build();
}

} // namespace

// -- beacons ------------------------------------------------------------------

TEST_CASE("encode_beacon writes magic, version, uuid size, port and uuid",
          "[discovery]") {
  CHECK(hex(p2p0mq::encode_beacon(beacon{"node-1", 8402})) ==
        "50304d5101" // P0MQ, version 1
        "06"         // 6 bytes of uuid
        "20d2"       // port 8402
        "6e6f64652d31");
}

TEST_CASE("parse_beacon reads what encode_beacon writes", "[discovery]") {
  for (auto& uuid : {std::string(4, 'a'), std::string("node-0"),
                     std::string(p2p0mq::max_beacon_uuid, '\xff')}) {
    auto x = p2p0mq::parse_beacon(p2p0mq::encode_beacon(beacon{uuid, 1}));
    REQUIRE(x);
    CHECK(x->uuid == uuid);
    CHECK(x->port == 1);
  }
}

TEST_CASE("parse_beacon refuses a wrong magic, version, size or port",
          "[discovery]") {
  using p2p0mq::parse_beacon;
  auto good = p2p0mq::encode_beacon(beacon{"node-1", 8402});
  auto with = [&](std::size_t i, char c) {
    auto x = good;
    x[i] = c;
    return x;
  };
  CHECK(error_of(parse_beacon("")) == errc::malformed_payload);
  CHECK(error_of(parse_beacon(with(0, 'X'))) == errc::malformed_payload);
  CHECK(error_of(parse_beacon(with(4, '\x02'))) == errc::malformed_payload);
  CHECK(error_of(parse_beacon(with(5, '\x07'))) == errc::malformed_payload);
  CHECK(error_of(parse_beacon(with(6, '\0').substr(0, 6) +
                              std::string(2, '\0') + "node-1")) ==
        errc::malformed_payload);
  CHECK(error_of(parse_beacon(good + "x")) == errc::malformed_payload);
  CHECK(error_of(parse_beacon(good.substr(0, good.size() - 1))) ==
        errc::malformed_payload);
  // A uuid of 3 bytes, and one longer than a beacon may carry.
  auto short_uuid = std::string{"P0MQ\x01\x03\x20\xd2"} + "abc";
  CHECK(error_of(parse_beacon(short_uuid)) == errc::malformed_payload);
  auto long_uuid = std::string{"P0MQ\x01\x41\x20\xd2"} + std::string(65, 'a');
  CHECK(error_of(parse_beacon(long_uuid)) == errc::malformed_payload);
}

TEST_CASE("parse_beacon takes a million random and mutated datagrams without "
          "throwing and accepts only well-formed ones",
          "[discovery]") {
  std::mt19937_64 random{19};
  std::uniform_int_distribution<int> byte{0, 255};
  std::uniform_int_distribution<std::size_t> size{0, 100};
  auto good = p2p0mq::encode_beacon(beacon{"node-1", 8402});
  std::size_t accepted = 0;
  for (int i = 0; i < 1000000; ++i) {
    std::string x;
    if (i % 2 == 0) {
      // Random bytes behind the right magic (else nothing gets past it).
      x = "P0MQ";
      auto n = size(random);
      for (std::size_t j = 0; j < n; ++j)
        x += static_cast<char>(byte(random));
    } else {
      // The good beacon with one byte changed, cut or grown.
      x = good;
      auto at = size(random) % x.size();
      x[at] = static_cast<char>(byte(random));
      if (i % 3 == 0)
        x.resize(size(random) % (x.size() + 2));
    }
    auto parsed = p2p0mq::parse_beacon(x);
    if (!parsed)
      continue;
    ++accepted;
    // Anything accepted is exactly what a peer would have sent.
    CHECK(p2p0mq::encode_beacon(*parsed) == x);
    CHECK(parsed->port > 0);
    CHECK(parsed->uuid.size() >= p2p0mq::min_uuid_size);
  }
  CHECK(accepted > 0);
}

// -- peer exchange ------------------------------------------------------------

TEST_CASE("an exchange sample survives its encoding", "[discovery]") {
  exchange_body x;
  x.degree = 7;
  x.peers = {exchanged_peer{"node-1", "10.0.0.1", 8402},
             exchanged_peer{std::string("\0\1\2\3", 4), "example.org", 1}};
  auto y = p2p0mq::parse_exchange_payload(p2p0mq::make_exchange_payload(x));
  REQUIRE(y);
  CHECK(y->what == exchange_body::kind::sample);
  CHECK(y->degree == 7);
  CHECK(y->peers == x.peers);
}

TEST_CASE("a leave and its answer survive their encoding", "[discovery]") {
  exchange_body leave;
  leave.what = exchange_body::kind::leave;
  leave.degree = 17;
  auto x = p2p0mq::parse_exchange_payload(p2p0mq::make_exchange_payload(leave));
  REQUIRE(x);
  CHECK(x->what == exchange_body::kind::leave);
  CHECK(x->degree == 17);
  exchange_body answer;
  answer.what = exchange_body::kind::answer;
  answer.degree = 9;
  answer.accepted = true;
  auto y =
      p2p0mq::parse_exchange_payload(p2p0mq::make_exchange_payload(answer));
  REQUIRE(y);
  CHECK(y->what == exchange_body::kind::answer);
  CHECK(y->accepted);
  CHECK(y->degree == 9);
}

TEST_CASE("parse_exchange_payload refuses forged samples", "[discovery]") {
  using p2p0mq::parse_exchange_payload;
  CHECK(error_of(parse_exchange_payload(payload{})) == errc::missing_field);
  auto op = [](const std::string& name, std::int64_t degree) {
    return payload_builder{}
        .add_string("op", name)
        .add_integer("degree", degree)
        .build();
  };
  CHECK(error_of(parse_exchange_payload(op("gossip", 1))) ==
        errc::wrong_field_type);
  CHECK(error_of(parse_exchange_payload(op("leave", -1))) ==
        errc::wrong_field_type);
  CHECK(error_of(parse_exchange_payload(op("answer", 1))) ==
        errc::missing_field);
  // Arrays of different lengths.
  CHECK(error_of(parse_exchange_payload(sample({"node-1"}, {}))) ==
        errc::wrong_field_type);
  // More addresses than a message may carry.
  std::vector<std::string> uuids;
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i <= p2p0mq::max_exchange_sample; ++i) {
    uuids.push_back("node-" + std::to_string(i));
    addresses.push_back("10.0.0.1:" + std::to_string(1000 + i));
  }
  CHECK(error_of(parse_exchange_payload(sample(uuids, addresses))) ==
        errc::wrong_field_type);
  uuids.pop_back();
  addresses.pop_back();
  CHECK(parse_exchange_payload(sample(uuids, addresses)));
  // Bad uuids, hosts and ports.
  for (auto& [uuid, address] : std::vector<std::pair<std::string, std::string>>{
           {"abc", "10.0.0.1:1"},
           {std::string(65, 'u'), "10.0.0.1:1"},
           {"node-1", "10.0.0.1"},
           {"node-1", ":80"},
           {"node-1", "10.0.0.1:0"},
           {"node-1", "10.0.0.1:65536"},
           {"node-1", "10.0.0.1:8x"},
           {"node-1", "10.0.0.1:"},
           {"node-1", "a b:80"},
           {"node-1", "host;rm -rf:80"},
           {"node-1", std::string(300, 'h') + ":80"},
       }) {
    INFO(address);
    CHECK(error_of(parse_exchange_payload(sample({uuid}, {address}))) ==
          errc::wrong_field_type);
  }
}

// -- settings -----------------------------------------------------------------

TEST_CASE("discovery is off by default and its settings are checked",
          "[discovery]") {
  p2p0mq::config c;
  c.encryption = false;
  CHECK_FALSE(c.discovery.beacons);
  CHECK(c.discovery.target_degree == 0);
  CHECK_FALSE(c.validate());
  auto bad = [&](auto change) {
    auto x = c;
    change(x.discovery);
    return x.validate() == errc::invalid_config;
  };
  using settings = p2p0mq::discovery_settings;
  CHECK(bad([](settings& d) {
    d.beacons = true;
    d.port = 0;
  }));
  CHECK(bad([](settings& d) {
    d.beacons = true;
    d.interval = p2p0mq::duration::zero();
  }));
  CHECK(bad([](settings& d) { d.exchange_sample = 0; }));
  CHECK(bad([](settings& d) {
    d.exchange_sample = p2p0mq::max_exchange_sample + 1;
  }));
  CHECK(bad([](settings& d) { d.beacons_per_source = 0; }));
  CHECK(bad([](settings& d) {
    d.target_degree = 8;
    d.exchange_dials = 0;
  }));
}

TEST_CASE("make_exchange_payload writes the golden leave payload",
          "[discovery]") {
  exchange_body x;
  x.what = exchange_body::kind::leave;
  x.degree = 3;
  CHECK(hex(p2p0mq::make_exchange_payload(x).bytes()) ==
        "82a26f70a56c65617665a664656772656503");
}
