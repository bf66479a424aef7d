#include "p2p0mq/discovery.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <utility>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

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

beacon_filter::beacon_filter(std::string local_uuid,
                             const discovery_settings& settings,
                             std::function<bool(const std::string&)> trusted)
    : local_uuid_(std::move(local_uuid)),
      interval_(settings.interval),
      per_source_(settings.beacons_per_source),
      new_peers_(settings.beacon_peers_per_interval),
      trusted_(std::move(trusted)) {
}

bool beacon_filter::spend(allowance& x, std::size_t limit, time_point now) {
  if (now - x.since >= interval_) {
    x.since = now;
    x.used = 0;
  }
  if (x.used >= limit)
    return false;
  ++x.used;
  return true;
}

void beacon_filter::remember(std::map<std::string, time_point>& xs,
                             const std::string& uuid, time_point now) {
  if (xs.size() >= max_remembered && xs.count(uuid) == 0) {
    // Forget what is past its quiet period, else the oldest.
    for (auto i = xs.begin(); i != xs.end();)
      i = now - i->second >= quiet_period ? xs.erase(i) : std::next(i);
    if (xs.size() >= max_remembered)
      xs.erase(std::min_element(xs.begin(), xs.end(), [](auto& a, auto& b) {
        return a.second < b.second;
      }));
  }
  xs[uuid] = now;
}

std::optional<beacon> beacon_filter::take(std::string_view bytes,
                                          const std::string& host,
                                          time_point now) {
  ++counts_.received;
  auto source = sources_.find(host);
  if (source == sources_.end() && sources_.size() < max_sources)
    source = sources_.emplace(host, allowance{now, 0}).first;
  auto& allowed = source == sources_.end() ? others_ : source->second;
  if (!spend(allowed, per_source_, now)) {
    ++counts_.rate_limited;
    return std::nullopt;
  }
  auto x = parse_beacon(bytes);
  if (!x) {
    ++counts_.malformed;
    auto logged = malformed_logged_.find(host);
    if (logged == malformed_logged_.end() ||
        now - logged->second >= interval_) {
      if (malformed_logged_.size() < max_sources ||
          logged != malformed_logged_.end()) {
        malformed_logged_[host] = now;
        log(log_level::warning, log_category::connector,
            "dropped a datagram from ", host,
            " on the beacon port: ", render(x.error()), " (", counts_.malformed,
            " so far)");
      }
    }
    return std::nullopt;
  }
  if (x->uuid == local_uuid_) {
    ++counts_.own;
    return std::nullopt;
  }
  if (auto i = heard_.find(x->uuid);
      i != heard_.end() && now - i->second < quiet_period) {
    ++counts_.repeated;
    return std::nullopt;
  }
  if (trusted_ && !trusted_(x->uuid)) {
    ++counts_.untrusted;
    remember(heard_, x->uuid, now);
    if (untrusted_logged_.size() < max_remembered &&
        untrusted_logged_.insert(x->uuid).second)
      log(log_level::warning, log_category::security, "a beacon of ",
          short_uuid(x->uuid), " from ", host, ":", x->port,
          ": no trusted certificate for it, not connecting (logged once)");
    return std::nullopt;
  }
  if (!spend(budget_, new_peers_, now)) {
    ++counts_.over_budget;
    return std::nullopt;
  }
  ++counts_.taken;
  remember(heard_, x->uuid, now);
  return std::move(*x);
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
