#pragma once

// A snapshot of what one local peer is doing, for programs and for scrapers:
// `local_peer::metrics()` takes it; `to_json` and `to_prometheus` render it.

#include <cstdint>
#include <string>
#include <vector>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/peer.hpp"

namespace p2p0mq {

/// What a local peer knows of one remote peer.
struct peer_metrics {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
  peer_state state = peer_state::initial;
  /// The peer it is reached through when ROUTED; empty otherwise.
  std::string via;
  /// Time since the peer entered `state`.
  double seconds_in_state = 0;
  /// Time since anything was heard from it; negative if never.
  double seconds_since_heard = -1;
  /// What unanswered heart-beats add to its heart-beat interval now.
  double heart_beat_slow_down_seconds = 0;
};

/// A snapshot of one local peer.
struct local_peer_metrics {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
  bool encryption = false;
  /// The sender's counters and queue lengths.
  sender_stats sender;
  /// Messages decoded and handed to the manager.
  std::uint64_t received = 0;
  /// Messages dropped as malformed.
  std::uint64_t malformed = 0;
  /// Messages dropped because their previous hop was not the peer its key
  /// belongs to.
  std::uint64_t impostors = 0;
  /// Failed handshakes (rejected keys, encryption mismatches, ...).
  std::uint64_t handshake_failures = 0;
  /// Every peer record, ordered by uuid.
  std::vector<peer_metrics> peers;

  /// The number of peers in `x`.
  std::size_t count(peer_state x) const noexcept;
};

/// One JSON object, on one line:
/// `{"uuid": "...", "host": "...", "port": 1, "encryption": true,
/// "sender": {"sent": 0, "send_failed": 0, "dropped": 0, "queued": 0,
/// "held": 0}, "receiver": {"received": 0, "malformed": 0, "impostors": 0,
/// "handshake_failures": 0}, "peers": {"<uuid>": {"state": "CONNECTED",
/// "host": "...", "port": 1, "via": null, "seconds_in_state": 1.5,
/// "seconds_since_heard": 0.2, "heart_beat_slow_down_seconds": 0}}}`.
/// Bytes of uuids that are not printable ASCII are escaped as `\u00XX`.
std::string to_json(const local_peer_metrics& x);

/// The Prometheus text exposition format (version 0.0.4): every counter and
/// gauge with `# HELP` and `# TYPE` lines, labelled with the local peer's
/// uuid (`local`) and, per peer, its uuid (`peer`) and state.
std::string to_prometheus(const local_peer_metrics& x);

/// Escapes `x` for the inside of a JSON string.
std::string json_escape(const std::string& x);

} // namespace p2p0mq
