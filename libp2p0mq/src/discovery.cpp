#include "p2p0mq/discovery.hpp"

#include <limits>
#include <utility>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace {

constexpr std::size_t beacon_header = 8;

/// The longest host an exchange message may name (a DNS name's limit).
constexpr std::size_t max_host_size = 253;

caf::error bad_beacon(std::string why) {
  return make_error(errc::malformed_payload, "beacon: " + std::move(why));
}

caf::error bad_field(std::string why) {
  return make_error(errc::wrong_field_type, std::move(why));
}

std::string address_of(const exchanged_peer& x) {
  return x.host + ":" + std::to_string(x.port);
}

} // namespace

std::string encode_beacon(const beacon& x) {
  std::string result{beacon_magic};
  result += static_cast<char>(beacon_version);
  result += static_cast<char>(x.uuid.size());
  result += static_cast<char>(x.port >> 8);
  result += static_cast<char>(x.port & 0xff);
  result += x.uuid;
  return result;
}

caf::expected<beacon> parse_beacon(std::string_view bytes) {
  if (bytes.size() < beacon_header + min_uuid_size ||
      bytes.size() > max_beacon_size)
    return bad_beacon("size " + std::to_string(bytes.size()));
  if (bytes.substr(0, beacon_magic.size()) != beacon_magic)
    return bad_beacon("not a p2p0mq beacon");
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint8_t>(bytes[i]);
  };
  if (byte(4) != beacon_version)
    return bad_beacon("version " + std::to_string(byte(4)));
  std::size_t uuid_size = byte(5);
  if (uuid_size != bytes.size() - beacon_header)
    return bad_beacon("uuid of " + std::to_string(uuid_size) + " bytes in " +
                      std::to_string(bytes.size()) + " bytes");
  beacon result;
  result.port = static_cast<std::uint16_t>((byte(6) << 8) | byte(7));
  if (result.port == 0)
    return bad_beacon("port 0");
  result.uuid = std::string{bytes.substr(beacon_header)};
  return result;
}

payload make_exchange_payload(const exchange_body& x) {
  payload_builder result;
  switch (x.what) {
  case exchange_body::kind::sample: {
    std::vector<std::string> uuids;
    std::vector<std::string> addresses;
    for (auto& p : x.peers) {
      uuids.emplace_back(p.uuid);
      addresses.emplace_back(address_of(p));
    }
    result.add_string("op", "sample")
        .add_integer("degree", static_cast<std::int64_t>(x.degree))
        .add_bytes_array("peers", uuids)
        .add_string_array("addresses", addresses);
    break;
  }
  case exchange_body::kind::leave:
    result.add_string("op", "leave")
        .add_integer("degree", static_cast<std::int64_t>(x.degree));
    break;
  case exchange_body::kind::answer:
    result.add_string("op", "answer")
        .add_integer("degree", static_cast<std::int64_t>(x.degree))
        .add_integer("accepted", x.accepted ? 1 : 0);
    break;
  }
  return result.build();
}

caf::expected<exchange_body> parse_exchange_payload(const payload& body) {
  auto op = body.get_string("op");
  if (!op)
    return std::move(op.error());
  auto degree = body.get_integer("degree");
  if (!degree)
    return std::move(degree.error());
  if (*degree < 0 || *degree > std::numeric_limits<std::int32_t>::max())
    return bad_field("degree " + std::to_string(*degree) + " out of range");
  exchange_body result;
  result.degree = static_cast<std::size_t>(*degree);
  if (*op == "leave") {
    result.what = exchange_body::kind::leave;
    return result;
  }
  if (*op == "answer") {
    auto accepted = body.get_integer("accepted");
    if (!accepted)
      return std::move(accepted.error());
    if (*accepted != 0 && *accepted != 1)
      return bad_field("accepted is neither 0 nor 1");
    result.what = exchange_body::kind::answer;
    result.accepted = *accepted == 1;
    return result;
  }
  if (*op != "sample")
    return bad_field("unknown op '" + op->substr(0, 16) + "'");
  auto uuids = body.get_bytes_array("peers");
  if (!uuids)
    return std::move(uuids.error());
  auto addresses = body.get_bytes_array("addresses");
  if (!addresses)
    return std::move(addresses.error());
  if (uuids->size() != addresses->size())
    return bad_field(std::to_string(uuids->size()) + " peers but " +
                     std::to_string(addresses->size()) + " addresses");
  if (uuids->size() > max_exchange_sample)
    return bad_field(std::to_string(uuids->size()) + " peers, at most " +
                     std::to_string(max_exchange_sample) + " allowed");
  for (std::size_t i = 0; i < uuids->size(); ++i) {
    auto& uuid = (*uuids)[i];
    auto& address = (*addresses)[i];
    if (uuid.size() < min_uuid_size || uuid.size() > max_beacon_uuid)
      return bad_field("a uuid of " + std::to_string(uuid.size()) + " bytes");
    auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon > max_host_size)
      return bad_field("a bad address");
    for (std::size_t j = 0; j < colon; ++j) {
      auto c = address[j];
      auto ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                c == ':' || c == '[' || c == ']';
      if (!ok)
        return bad_field("a host with a character not allowed");
    }
    auto digits = std::string_view{address}.substr(colon + 1);
    if (digits.empty() || digits.size() > 5)
      return bad_field("a bad port");
    std::uint32_t port = 0;
    for (auto c : digits) {
      if (c < '0' || c > '9')
        return bad_field("a bad port");
      port = port * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (port == 0 || port > std::numeric_limits<std::uint16_t>::max())
      return bad_field("port " + std::to_string(port) + " out of range");
    result.peers.push_back(exchanged_peer{uuid, address.substr(0, colon),
                                          static_cast<std::uint16_t>(port)});
  }
  return result;
}

} // namespace p2p0mq
