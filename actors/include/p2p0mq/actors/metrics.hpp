#pragma once

// A snapshot of what one local peer is doing, for programs and for scrapers:
// `local_peer::metrics()` takes it; `to_json` and `to_prometheus` render it.

#include <cstdint>
#include <string>
#include <vector>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"
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
  /// How the local peer first learnt of it.
  peer_origin origin = peer_origin::flag;
  /// Time since the peer entered `state`.
  double seconds_in_state = 0;
  /// Time since anything was heard from it; negative if never.
  double seconds_since_heard = -1;
  /// What unanswered heart-beats add to its heart-beat interval now.
  double heart_beat_slow_down_seconds = 0;
  /// Round-trip times of its last answered heart-beats (see
  /// `round_trip_times`); empty until it answered one.
  round_trip_times round_trips;
  /// Messages it handed to us (it was their previous hop), for us or to
  /// forward, and their bytes.
  traffic in;
  /// What became of the messages that went, or were to go, to it: those
  /// whose next hop it was, or whose destination it was while they had no
  /// next hop (e.g. dropped while waiting for a route).
  outgoing_traffic out;
};

/// The traffic of one command id on a local peer's sockets.
struct concern_metrics {
  std::string command;
  /// Messages of this command received, also those for other peers.
  traffic in;
  /// What became of the messages of this command handed to the sender,
  /// also those forwarded for other peers.
  outgoing_traffic out;
};

/// A snapshot of one local peer.
struct local_peer_metrics {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
  bool encryption = false;
  /// The sender's counters and queue lengths. Its counters by peer and by
  /// command are in `peers` and `concerns` (its own maps are left empty).
  sender_stats sender;
  /// Messages decoded and handed to the dispatcher.
  std::uint64_t received = 0;
  /// Messages dropped as malformed.
  std::uint64_t malformed = 0;
  /// Messages dropped because their previous hop was not the peer its key
  /// belongs to.
  std::uint64_t impostors = 0;
  /// Failed handshakes (rejected keys, encryption mismatches, ...).
  std::uint64_t handshake_failures = 0;
  /// Messages dropped because no concern serves their command.
  std::uint64_t unknown_command = 0;
  /// The router's counters: messages for other peers that we forwarded.
  router_stats router;
  /// The ask-around concern's counters (zero when another concern serves
  /// `r`).
  ask_around_stats ask_around;
  /// Traffic by command id, ordered by command: every registered command
  /// and every command seen on the wire (at most `max_traffic_keys`, the
  /// rest under `other_traffic_key`).
  std::vector<concern_metrics> concerns;
  /// Every peer record, ordered by uuid.
  std::vector<peer_metrics> peers;

  /// The number of peers in `x`.
  std::size_t count(peer_state x) const noexcept;
};

/// One JSON object, on one line, with these fields (times in seconds):
///
/// ~~~
/// {"uuid": "...", "host": "...", "port": 1, "encryption": true,
///  "sender": {"sent": 0, "send_failed": 0, "dropped": 0, "queued": 0,
///             "held": 0},
///  "receiver": {"received": 0, "malformed": 0, "impostors": 0,
///               "handshake_failures": 0, "unknown_command": 0},
///  "router": {"received": 0, "sent": 0, "dropped": 0, "looped": 0},
///  "ask_around": {"searches": 0, "questions": 0, "answered": 0,
///                 "passed_on": 0, "routes_found": 0},
///  "concerns": {"<command>": {"in": {"messages": 0, "bytes": 0},
///                             "out": {"messages": 0, "bytes": 0,
///                                     "send_failed": 0, "dropped": 0}}},
///  "peers": {"<uuid>": {"state": "CONNECTED", "host": "...", "port": 1,
///                       "via": null, "seconds_in_state": 1.5,
///                       "seconds_since_heard": 0.2,
///                       "heart_beat_slow_down_seconds": 0,
///                       "rtt": {"last": 0.0002, "min": 0.0001,
///                               "mean": 0.0002, "max": 0.0003,
///                               "samples": 8, "count": 12},
///                       "in": {"messages": 0, "bytes": 0},
///                       "out": {"messages": 0, "bytes": 0,
///                               "send_failed": 0, "dropped": 0}}}}
/// ~~~
///
/// `host` and `via` of a peer are null when empty, `seconds_since_heard`
/// when it was never heard, `rtt` before its first answered heart-beat;
/// `rtt`'s `min`, `mean` and `max` cover its last `samples` answered beats
/// (at most `round_trip_times::window`), `count` all of them. `in` and
/// `out` are `peer_metrics::in` and `out` (`concern_metrics` for
/// concerns). Times in a state are rounded to milliseconds, round trips to
/// microseconds. Uuids and command ids are bytes: a byte above 0x7f is
/// written as `\u00XX`, control bytes as JSON escapes them (`\n`,
/// `\u0001`, ...). Rendered by nlohmann-json, on one line.
std::string to_json(const local_peer_metrics& x);

/// The Prometheus text exposition format (version 0.0.4): every counter and
/// gauge with `# HELP` and `# TYPE` lines, labelled with the local peer's
/// uuid (`local`) and, per peer, its uuid (`peer`; and its state where that
/// says something), per concern its command id (`command`).
std::string to_prometheus(const local_peer_metrics& x);

/// Escapes `x` for the inside of a JSON string.
std::string json_escape(const std::string& x);

} // namespace p2p0mq
