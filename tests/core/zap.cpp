#include "p2p0mq/zap.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using p2p0mq::decide_zap;
using p2p0mq::make_zap_reply;
using p2p0mq::parse_zap_request;
using p2p0mq::trusted_keys;
using p2p0mq::zap_reply_frames;
using p2p0mq::zap_verdict;

namespace {

const std::string key_a(32, 'a');
const std::string key_b(32, 'b');

std::vector<std::string> curve_request(const std::string& key) {
  return {"1.0", "id-7", "alice-01", "127.0.0.1", "", "CURVE", key};
}

} // namespace

TEST_CASE("parse_zap_request reads the frames of RFC 27", "[zap]") {
  auto x = parse_zap_request(curve_request(key_a));
  CHECK(x.malformed.empty());
  CHECK(x.request_id == "id-7");
  CHECK(x.domain == "alice-01");
  CHECK(x.address == "127.0.0.1");
  CHECK(x.identity.empty());
  CHECK(x.mechanism == "CURVE");
  CHECK(x.client_key() == key_a);
  auto null = parse_zap_request({"1.0", "id-8", "d", "a", "i", "NULL"});
  CHECK(null.malformed.empty());
  CHECK(null.credentials.empty());
  CHECK(null.client_key().empty());
}

TEST_CASE("parse_zap_request calls short requests and other versions "
          "malformed",
          "[zap]") {
  CHECK_FALSE(parse_zap_request({}).malformed.empty());
  auto five = parse_zap_request({"1.0", "id-9", "d", "a", "i"});
  CHECK_FALSE(five.malformed.empty());
  CHECK(five.request_id == "id-9");
  auto v2 = parse_zap_request({"2.0", "id-10", "d", "a", "i", "CURVE", key_a});
  CHECK_FALSE(v2.malformed.empty());
  CHECK(v2.request_id == "id-10");
}

TEST_CASE("decide_zap accepts only CURVE clients with a trusted key", "[zap]") {
  trusted_keys keys{{key_a, "alice-01"}};
  auto ok = decide_zap("CURVE", key_a, keys, "/certs");
  CHECK(ok.accepted);
  CHECK(ok.user_id == "alice-01");
  auto unknown = decide_zap("CURVE", key_b, keys, "/certs");
  CHECK_FALSE(unknown.accepted);
  CHECK(unknown.user_id.empty());
  CHECK(unknown.reason == "no certificate in /certs holds it");
  auto plain = decide_zap("PLAIN", key_a, keys, "/certs");
  CHECK_FALSE(plain.accepted);
  CHECK(plain.reason == "mechanism PLAIN is not allowed, only CURVE");
  CHECK_FALSE(decide_zap("CURVE", "", keys, "/certs").accepted);
}

TEST_CASE("make_zap_reply answers 200, 400 or 500 with the request id",
          "[zap]") {
  auto request = parse_zap_request(curve_request(key_a));
  auto metadata = p2p0mq::encode_zap_metadata(
      {{p2p0mq::zap_key_property, p2p0mq::z85_key(key_a)}});
  CHECK(make_zap_reply(request, zap_verdict{true, "alice-01", {}}) ==
        zap_reply_frames{"1.0", "id-7", "200", "OK", "alice-01", metadata});
  CHECK(make_zap_reply(request, zap_verdict{false, {}, "unknown key"}) ==
        zap_reply_frames{"1.0", "id-7", "400", "unknown key", "", ""});
  auto bad = parse_zap_request({"1.0", "id-11"});
  CHECK(make_zap_reply(bad, zap_verdict{true, "alice-01", {}}) ==
        zap_reply_frames{"1.0", "id-11", "500", "malformed request", "", ""});
}

TEST_CASE("an accepted client's key travels to the receiver as ZAP metadata",
          "[zap]") {
  // RFC 27 metadata: name length, name, 4-byte value length, value.
  auto x = p2p0mq::encode_zap_metadata({{"X-Public-Key", "k3y"}, {"A", ""}});
  CHECK(x == std::string{"\x0cX-Public-Key\0\0\0\x03k3y\x01"
                         "A\0\0\0\0",
                         26});
  CHECK(p2p0mq::encode_zap_metadata({{std::string(256, 'n'), "v"}}).empty());
  CHECK(p2p0mq::z85_key(key_a).size() == 40);
  CHECK(p2p0mq::z85_key("short") == "(5 bytes)");
  // A PLAIN client accepted by someone else's rules gets no key.
  auto plain =
      parse_zap_request({"1.0", "id-12", "alice-01", "127.0.0.1", "", "NULL"});
  CHECK(make_zap_reply(plain, zap_verdict{true, "x", {}})[5].empty());
}
