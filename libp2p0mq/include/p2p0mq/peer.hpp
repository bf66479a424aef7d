#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2p0mq/time.hpp"

namespace p2p0mq {

struct config;
struct message;

/// Where a local peer stands with one remote peer.
enum class peer_state : std::uint8_t {
  /// Known, never contacted.
  initial,
  /// A `hello` was sent, its reply has not come yet.
  connecting,
  /// Talks to us directly.
  connected,
  /// Reached through another peer, its `via`.
  routed,
  /// Silent for longer than the unresponsive threshold; only heart-beats go to
  /// it.
  unreachable,
  /// Given up on; the connector tries again after the reconnect wait.
  no_connection,
};

/// Returns the upper-case name used in logs and JSON, e.g. `"NO_CONNECTION"`.
std::string_view to_string(peer_state x) noexcept;

/// Parses an upper-case state name, as returned by `to_string`.
std::optional<peer_state> parse_peer_state(std::string_view name) noexcept;

/// How a local peer first learnt of a remote peer (shown by the tools).
enum class peer_origin : std::uint8_t {
  /// Added by the user: a flag of the node tool, or `add_peer`.
  flag,
  /// Read from the peer store.
  store,
  /// Heard in a LAN beacon (docs/PROTOCOL.md, "Beacons").
  beacon,
  /// Named by a connected peer in a peer exchange (docs/PROTOCOL.md,
  /// "Peer exchange").
  exchange,
  /// It greeted us with its `hello`.
  hello,
  /// A message or an ask-around answer showed a route to it.
  route,
};

/// The lower-case name used in logs and JSON, e.g. `"exchange"`.
std::string_view to_string(peer_origin x) noexcept;

/// What the heart-beat rules ask for a peer at a given time.
enum class heart_beat_action : std::uint8_t {
  /// Nothing to do now.
  none,
  /// Send it a heart-beat (then call `schedule_heart_beat`).
  send,
  /// It became UNREACHABLE: mark it so and send it a heart-beat.
  unreachable,
  /// It became NO_CONNECTION: the connector takes over.
  no_connection,
};

/// What the connector rules ask for a peer at a given time.
enum class connect_action : std::uint8_t {
  /// Nothing to do now.
  none,
  /// Send it a `hello`.
  send_hello,
  /// Its `hello` went unanswered too long: it becomes NO_CONNECTION.
  give_up,
};

/// The round-trip times of the last heart-beats a peer answered, each from
/// when our `hb` request was handed to ZeroMQ to when its reply arrived. A
/// plain value: the last `window` samples in a ring, and how many there were
/// in all.
struct round_trip_times {
  /// How many of the latest samples `min`, `mean` and `max` look at.
  static constexpr std::size_t window = 8;

  /// The latest samples; sample `n` (counting from 0) is at `n % window`.
  std::array<duration, window> samples{};

  /// Samples added in all.
  std::uint64_t count = 0;

  /// Adds a sample (a negative one counts as zero).
  void add(duration x) noexcept;

  /// Whether no sample was ever added.
  bool empty() const noexcept {
    return count == 0;
  }

  /// The number of samples in the window: `min(count, window)`.
  std::size_t size() const noexcept;

  /// The latest sample; zero when empty.
  duration last() const noexcept;

  /// The smallest sample in the window; zero when empty.
  duration min() const noexcept;

  /// The mean of the samples in the window; zero when empty.
  duration mean() const noexcept;

  /// The largest sample in the window; zero when empty.
  duration max() const noexcept;
};

/// What a peer can do for others, as a C++ peer announces it in its `hello`
/// (docs/PROTOCOL.md, "Capabilities"). A Python p2p0mq peer announces
/// nothing: it speaks only what every peer speaks.
enum class capability : std::uint32_t {
  /// It relays messages addressed to other peers (its router).
  forward = 1u << 0,
  /// It answers ask-around questions (`r`).
  ask_around = 1u << 1,
  /// It answers a request for a command it does not serve with a rejection.
  reject = 1u << 2,
  /// It speaks the group protocol.
  groups = 1u << 3,
  /// It exchanges the addresses of its peers.
  exchange = 1u << 4,
};

/// The name of `x` on the wire, e.g. `"ask-around"`.
std::string_view to_string(capability x) noexcept;

/// The capability named `name`, or none for a name this version does not
/// know (a newer peer's: ignored).
std::optional<capability> parse_capability(std::string_view name) noexcept;

/// What a peer said it speaks in a `hello`.
struct capabilities {
  /// The version of the capability field this side writes.
  static constexpr std::int64_t version = 1;

  /// Whether the `hello` carried the field at all: one without it comes from
  /// a legacy peer (the Python p2p0mq), which speaks none of the above.
  bool announced = false;

  /// Bits of `capability`.
  std::uint32_t bits = 0;

  /// What the C++ peers of this version announce: every capability above
  /// but `groups` and `exchange`, which come with their concerns.
  static capabilities ours() noexcept;

  bool has(capability x) const noexcept {
    return (bits & static_cast<std::uint32_t>(x)) != 0;
  }

  capabilities& add(capability x) noexcept {
    bits |= static_cast<std::uint32_t>(x);
    return *this;
  }

  /// The names of the capabilities set, in bit order.
  std::vector<std::string> names() const;

  friend bool operator==(const capabilities& x,
                         const capabilities& y) noexcept {
    return x.announced == y.announced && x.bits == y.bits;
  }
};

/// One remote peer as a local peer knows it: identity, address, state and the
/// times its rules run on. A plain value; the rules take the current time as a
/// parameter and never read a clock.
struct peer {
  /// The peer's uuid (opaque bytes).
  std::string uuid;

  /// Host of its receiver; empty when unknown (e.g. a peer only routed to).
  std::string host;

  /// Port of its receiver; 0 when unknown.
  std::uint16_t port = 0;

  /// Where we stand with it.
  peer_state state = peer_state::initial;

  /// Since when it is in `state`.
  time_point state_since{};

  /// The peer we reach it through when ROUTED; empty otherwise.
  std::string via;

  /// Row id in the peer store, once stored.
  std::optional<std::int64_t> db_id;

  /// Last time anything was heard from it.
  time_point last_heard{};

  /// When the next heart-beat is due.
  time_point next_heart_beat{};

  /// What unanswered heart-beats (or connection attempts) currently add to
  /// the interval; grows by the slow-down step up to its maximum.
  duration slow_down{};

  /// When the connector may try a NO_CONNECTION peer again, or greet a
  /// peer reached through a relay straight (see `relayed_with_address`).
  time_point next_connect{};

  /// When we last asked around for it.
  time_point last_ask_around{};

  /// Round-trip times of its last answered heart-beats (not stored in the
  /// peer store).
  round_trip_times round_trips;

  /// What it said it speaks in its last `hello`; none while no `hello` of
  /// its came (not stored in the peer store either).
  std::optional<capabilities> speaks;

  /// How the local peer first learnt of it (not stored in the peer store).
  peer_origin origin = peer_origin::flag;

  /// Whether it said in its `hello` that it speaks none of our capabilities:
  /// a legacy peer, such as the Python p2p0mq.
  bool legacy() const noexcept {
    return speaks && !speaks->announced;
  }

  /// Whether it may be a hop for messages addressed to other peers: not a
  /// legacy peer, nor one that announced it does not relay. (A peer whose
  /// `hello` never came is given the benefit of the doubt: a message that
  /// came through it shows it relays.)
  bool relays() const noexcept {
    return !speaks || speaks->has(capability::forward);
  }

  /// Whether a `hello` is due to (re)establish contact: INITIAL,
  /// NO_CONNECTION or UNREACHABLE.
  bool needs_reconnect() const noexcept;

  /// Whether heart-beats go to it: CONNECTED, ROUTED or UNREACHABLE.
  bool does_heart_beat() const noexcept;

  /// Whether it has an address and is reached through a relay: ROUTED, or
  /// UNREACHABLE with its `via` (it went silent while ROUTED, and its beats
  /// still go through the relay). Such a peer is greeted straight at
  /// `next_connect`, and again every reconnect wait, so that a direct link
  /// that failed and came back is used again: its beats never try it.
  bool relayed_with_address() const noexcept;

  /// Changes the state, recording `now` as the time it changed (a no-op when
  /// the state does not change).
  void set_state(peer_state next, time_point now) noexcept;

  /// Records that the peer was heard from at `now`: clears the slow-down and
  /// schedules the next heart-beat one interval from now.
  void reset_heart_beat(time_point now, const config& cfg) noexcept;

  /// Schedules the next heart-beat at `now` + interval + slow-down, then grows
  /// the slow-down by one step, up to its maximum. Called when a heart-beat is
  /// sent; unanswered beats thus come 4, 6, 8, 10, 12, 14, 14, ... s apart
  /// with the defaults.
  void schedule_heart_beat(time_point now, const config& cfg) noexcept;

  /// Applies a message received from this peer: CONNECTED (via cleared) when
  /// it came straight from its source, else ROUTED via its previous hop;
  /// then resets the heart-beat. A peer that becomes ROUTED is greeted
  /// straight one reconnect wait later, or sooner when a greeting was due
  /// sooner (an UNREACHABLE peer with a `via` keeps its schedule, a
  /// NO_CONNECTION one its reconnect time when that comes first). A message
  /// that came through a relay from a CONNECTED peer heard straight within
  /// the last heart-beat interval changes nothing: the direct link works,
  /// and the peer sent it before it heard us straight.
  void become_connected(const message& msg, time_point now, const config& cfg);

  /// Applies a route hint: the peer can be reached through `relay` (a
  /// message from it came through `relay`, or `relay` answered an
  /// ask-around for it). A CONNECTED peer keeps its direct route and nothing
  /// changes; any other becomes ROUTED via `relay`, with its heart-beat reset
  /// as by a message heard at `now` (and its next straight greeting as in
  /// `become_connected`). Returns whether the hint was taken.
  /// Precondition: `relay` is neither empty nor the peer itself.
  bool become_routed(const std::string& relay, time_point now,
                     const config& cfg);

  /// Gives up on the peer: NO_CONNECTION (no longer routed through its `via`,
  /// which is cleared), the next connection attempt at
  /// `now` + reconnect wait + slow-down, or at its straight greeting when it
  /// was `relayed_with_address` and that comes sooner; then the slow-down
  /// grows by a step.
  void become_no_connection(time_point now, const config& cfg) noexcept;

  /// The heart-beat rule at `now`, for a peer that does heart-beats and whose
  /// next heart-beat is due (`now >= next_heart_beat`): silent for more than
  /// the no-connection threshold → `no_connection`; for more than the
  /// unresponsive threshold → `unreachable` (`send` if it already is);
  /// otherwise `send`. Returns `none` for any other peer.
  heart_beat_action heart_beat_due(time_point now,
                                   const config& cfg) const noexcept;

  /// The connector rule at `now`: an INITIAL peer with a host, or a
  /// NO_CONNECTION peer with a host, or a peer `relayed_with_address`, whose
  /// `next_connect` has come → `send_hello`; a CONNECTING peer whose `hello`
  /// has gone unanswered for more than the unresponsive threshold →
  /// `give_up`; else `none`. (A ROUTED peer greeted straight stays ROUTED
  /// until it answers straight; an UNREACHABLE one becomes CONNECTING, as
  /// any UNREACHABLE peer greeted.)
  connect_action connect_due(time_point now, const config& cfg) const noexcept;

  /// Records that a `hello` to the peer went out at `now`: a peer
  /// `relayed_with_address` is greeted straight again one reconnect wait
  /// later. (Other states change with the greeting's outcome.)
  void greeted(time_point now, const config& cfg) noexcept;

  /// The earliest time at which `heart_beat_due` or `connect_due` can ask for
  /// anything but `none`, so that the owner of the peer arms one timer
  /// instead of asking at every instant: `next_heart_beat` for a peer that
  /// does heart-beats (or `next_connect`, when earlier, for a peer
  /// `relayed_with_address`); `time_point{}` (due at once) for an INITIAL peer with
  /// a host; `next_connect` for a NO_CONNECTION peer with a host; the first
  /// instant after the unresponsive threshold for a CONNECTING peer; and
  /// `time_point::max()` for a peer no rule will act on without news of it.
  time_point next_due(const config& cfg) const noexcept;
};

} // namespace p2p0mq
