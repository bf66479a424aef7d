// Fuzz target: what discovery reads from the network, both untrusted: a
// datagram on the beacon port (`parse_beacon`, and the whole
// `beacon_filter`), and the payload of a `pex` message
// (`parse_exchange_payload`).
//
// Input: bytes read both as a datagram and as a payload frame.
// Properties: nothing throws or crashes; a beacon accepted encodes back to
// the very bytes; an exchange message read encodes into a payload that
// reads back the same; the filter never lets more beacons through than its
// budget.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "p2p0mq/discovery.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/payload.hpp"

namespace {

using namespace p2p0mq;

void beacon_bytes(std::string_view bytes) {
  auto x = parse_beacon(bytes);
  if (!x)
    return;
  P2P0MQ_FUZZ_CHECK(encode_beacon(*x) == bytes);
  P2P0MQ_FUZZ_CHECK(x->port > 0);
  P2P0MQ_FUZZ_CHECK(x->uuid.size() >= 4 && x->uuid.size() <= max_beacon_uuid);
}

/// The input cut into datagrams at each 0xff byte, from sources picked by
/// the byte after it, through one filter at one instant.
void filtered(std::string_view bytes) {
  discovery_settings settings;
  beacon_filter filter{"fuzz-local-0001", settings};
  time_point now{};
  std::size_t start = 0;
  for (std::size_t i = 0; i <= bytes.size(); ++i) {
    if (i < bytes.size() && bytes[i] != '\xff')
      continue;
    auto source =
        "10.0.0." +
        std::to_string(i < bytes.size() && i + 1 < bytes.size()
                           ? static_cast<std::uint8_t>(bytes[i + 1]) % 8
                           : 0);
    filter.take(bytes.substr(start, i - start), source, now);
    start = i + 1;
  }
  auto& n = filter.counts();
  P2P0MQ_FUZZ_CHECK(n.taken <= settings.beacon_peers_per_interval);
  P2P0MQ_FUZZ_CHECK(n.received == n.rate_limited + n.malformed + n.own +
                                      n.repeated + n.untrusted + n.over_budget +
                                      n.taken);
}

void exchange(std::string_view bytes) {
  auto body = payload::parse(bytes);
  if (!body)
    return;
  auto x = parse_exchange_payload(*body);
  if (!x)
    return;
  P2P0MQ_FUZZ_CHECK(x->peers.size() <= max_exchange_sample);
  auto again = parse_exchange_payload(make_exchange_payload(*x));
  P2P0MQ_FUZZ_CHECK(static_cast<bool>(again));
  P2P0MQ_FUZZ_CHECK(again->what == x->what);
  P2P0MQ_FUZZ_CHECK(again->degree == x->degree);
  P2P0MQ_FUZZ_CHECK(again->accepted == x->accepted);
  P2P0MQ_FUZZ_CHECK(again->peers == x->peers);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  // Malformed beacons are logged; the fuzzer needs no log.
  set_log_level(log_level::error);
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  beacon_bytes(bytes);
  filtered(bytes);
  exchange(bytes);
  return 0;
}
