#pragma once

// The pure parts of discovery: its settings, the LAN beacon's datagram and
// the payloads of the peer exchange (docs/PROTOCOL.md, "Beacons" and "Peer
// exchange"). No sockets, no clocks: the actors in `actors/` use them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// How a local peer finds peers it was not told about (the `discovery`
/// settings group). Both parts are off by default.
struct discovery_settings {
  /// Send and hear LAN beacons (`--discover`).
  bool beacons = false;
  /// The network interface beacons go out on and come in from, by name
  /// (e.g. `eth0`, `lo`); empty: the first interface that is up, can
  /// broadcast and is not the loopback.
  std::string interface;
  /// The UDP port of the beacons, the same for every peer of the LAN.
  std::uint16_t port = 5670;
  /// Time between two beacons of ours.
  duration interval = std::chrono::seconds{1};
  /// The most beacons taken from one source address per interval; the rest
  /// are dropped unread (and counted).
  std::size_t beacons_per_source = 4;
  /// The most peers new to the table that beacons may add per interval: a
  /// flood of forged beacons greets no more than this many peers per
  /// interval.
  std::size_t beacon_peers_per_interval = 4;
  /// The number of direct connections the peer exchange keeps (0: no peer
  /// exchange, and the local peer does not announce it).
  std::size_t target_degree = 0;
  /// Time between two exchanges once the local peer has its target degree;
  /// below it, one exchange every `config::tick_interval`.
  duration exchange_interval = std::chrono::seconds{120};
  /// The most addresses in one exchange message (at most
  /// `max_exchange_sample`).
  std::size_t exchange_sample = 8;
  /// The most peers dialled after one exchange.
  std::size_t exchange_dials = 4;
};

/// The most addresses an exchange message may carry; one with more is
/// dropped whole.
inline constexpr std::size_t max_exchange_sample = 64;

// -- beacons ------------------------------------------------------------------

/// The first bytes of every beacon.
inline constexpr std::string_view beacon_magic = "P0MQ";

/// The version of the beacon format this side writes and reads.
inline constexpr std::uint8_t beacon_version = 1;

/// The longest uuid a beacon carries, in bytes.
inline constexpr std::size_t max_beacon_uuid = 64;

/// The most bytes a beacon has: 8 bytes of header and the longest uuid.
inline constexpr std::size_t max_beacon_size = 8 + max_beacon_uuid;

/// What a beacon says: who sends it, and the port its receiver is bound to.
/// The host is the datagram's source address.
struct beacon {
  std::string uuid;
  std::uint16_t port = 0;
};

/// Encodes a beacon: `P0MQ`, version, uuid length, port (big-endian), uuid.
/// Precondition: a uuid of 4 to `max_beacon_uuid` bytes and a port above 0.
std::string encode_beacon(const beacon& x);

/// Decodes a datagram as a beacon. Fails with `errc::malformed_payload`
/// (its context says why) for anything but the exact format: wrong magic,
/// version, length, uuid size or port 0. Never throws.
caf::expected<beacon> parse_beacon(std::string_view bytes);

/// The rules that every received datagram goes through before its beacon
/// is believed: rate per source, format, not our own, a trusted key, not
/// heard lately, and a budget of new peers per interval. A plain value,
/// handed the time; the beacon's socket actor owns one.
///
/// Memory is bounded whatever arrives: at most `max_sources` sources are
/// followed one by one (the others share one allowance), and at most
/// `max_remembered` uuids are remembered as heard (the oldest forgotten).
class beacon_filter {
public:
  /// The most sources followed one by one.
  static constexpr std::size_t max_sources = 1024;

  /// The most uuids remembered as heard lately, and as logged untrusted.
  static constexpr std::size_t max_remembered = 4096;

  /// How long a beacon of a uuid heard already is ignored.
  static constexpr duration quiet_period = std::chrono::seconds{30};

  /// What became of the datagrams so far.
  struct counters {
    std::uint64_t received = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t malformed = 0;
    std::uint64_t own = 0;
    std::uint64_t repeated = 0;
    std::uint64_t untrusted = 0;
    std::uint64_t over_budget = 0;
    std::uint64_t taken = 0;
  };

  /// `trusted` says whether a uuid may be connected (with CURVE: whether
  /// its public certificate is there; null: every uuid).
  beacon_filter(std::string local_uuid, const discovery_settings& settings,
                std::function<bool(const std::string&)> trusted = nullptr);

  /// The beacon in `bytes`, a datagram from `host` at `now`, if it is to be
  /// learnt; nothing otherwise (counted). Logs a malformed beacon once per
  /// source and interval, and an untrusted uuid once.
  std::optional<beacon> take(std::string_view bytes, const std::string& host,
                             time_point now);

  const counters& counts() const noexcept {
    return counts_;
  }

private:
  struct allowance {
    time_point since;
    std::size_t used = 0;
  };

  bool spend(allowance& x, std::size_t limit, time_point now);

  void remember(std::map<std::string, time_point>& xs, const std::string& uuid,
                time_point now);

  std::string local_uuid_;
  duration interval_;
  std::size_t per_source_;
  std::size_t new_peers_;
  std::function<bool(const std::string&)> trusted_;
  std::map<std::string, allowance> sources_;
  allowance others_;
  allowance budget_;
  std::map<std::string, time_point> heard_;
  std::set<std::string> untrusted_logged_;
  std::map<std::string, time_point> malformed_logged_;
  counters counts_;
};

// -- peer exchange ------------------------------------------------------------

/// One address in an exchange message.
struct exchanged_peer {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const exchanged_peer& x,
                         const exchanged_peer& y) noexcept {
    return x.uuid == y.uuid && x.host == y.host && x.port == y.port;
  }
};

/// What one exchange message says.
struct exchange_body {
  /// What the sender asks or answers.
  enum class kind : std::uint8_t {
    /// A sample of the sender's direct peers (request and reply alike).
    sample,
    /// The sender asks to end the direct link (request only).
    leave,
    /// The answer to `leave`: `accepted` says whether both ends let go.
    answer,
  };

  kind what = kind::sample;
  /// The sender's number of direct (CONNECTED) peers.
  std::size_t degree = 0;
  /// A sample of those peers (`sample` only).
  std::vector<exchanged_peer> peers;
  /// For `answer`.
  bool accepted = false;
};

/// Encodes an exchange message (docs/PROTOCOL.md, "Peer exchange").
payload make_exchange_payload(const exchange_body& x);

/// Decodes an exchange message. Fails with `errc::missing_field` or
/// `errc::wrong_field_type` (context: why) for an unknown operation, a
/// negative degree, arrays of different lengths or of more than
/// `max_exchange_sample` entries, a uuid not of 4 to `max_beacon_uuid`
/// bytes, an empty or over-long host or a port out of range.
caf::expected<exchange_body> parse_exchange_payload(const payload& body);

namespace log_kinds {

/// The exchange concern dropped a message whose payload it cannot use.
inline constexpr log_kind bad_exchange{
    "bad exchange", log_category::connector, log_level::warning,
    "dropped",      "exchange messages",     "from"};

} // namespace log_kinds

} // namespace p2p0mq
