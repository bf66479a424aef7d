#pragma once

// Chaos on the simulated network: many faults at once, drawn from a seed,
// while concerns send requests, with the invariants checked after every
// step and at the end.
//
// One run (`run_chaos`) lays out a random network of peers with peer stores
// (`sim_network`, real actors in virtual time), gives every peer the `chaos`
// concern, and then takes `steps` steps. Each step applies one fault drawn
// from the seed (kill a peer, restart one killed, partition the network,
// heal it, cut one direction of a link, a burst of loss on some links, a
// peer joining late, or nothing) and lets a random time pass during which
// concerns send requests to random peers: fire-and-forget requests owned by
// the concern, and requests through the requester whose caller waits for
// the answer. After the last step every fault ends at once (the last heal),
// and the run waits for the network to reconnect and for every message to
// settle.
//
// The invariants (`chaos_invariant`), checked after every step and at the
// end; a run stops at the first one broken and says which, and at which
// step:
//
// - one outcome: every message the chaos concern handed to the sender (its
//   requests and its replies) ends in exactly one of sent and dropped, once
//   the run settles; never two. A request dropped is never delivered.
// - one answer: every request through the requester gets exactly one answer,
//   its reply or an error, by its timeout; a reply carries the token of its
//   own request. Requests whose peer was killed before they were answered
//   are left out (their caller died with it), but may not be answered twice.
// - delivered once: no request reaches the concern of its destination twice
//   (counted per source, source incarnation and message id), and none
//   reaches another peer than its destination.
// - hop limit: no message of the chaos concern is put on the wire more
//   often than the number of peers the network ever had, N (refused
//   transfers, which never leave, excepted). The wire carries no hop count;
//   what keeps paths short is the router, which drops a message whose
//   source is its own peer and one it forwarded within the last second, and
//   the sender, which never sends a message back to the peer it came from.
//   A path that visits no peer twice has at most N - 1 transfers, and a
//   transfer that brings a message back to a peer within that second is its
//   last. A message that waits more than a second somewhere on a loop (for
//   a route, up to its time-to-live, which every forwarder starts afresh)
//   can visit a peer again, so N is a bound the runs measure, not one the
//   design guarantees (see RELIABILITY.md).
// - bounds: every peer table holds at most `max_peers` records, none of the
//   local peer itself, no route through the peer itself or the local peer;
//   every sender holds at most `send_queue_limit` messages (queued plus
//   held).
// - reconnect: after the last heal, every link of the layout (the random
//   graph, and the links of peers that joined late) between two live peers
//   is CONNECTED both ways within `reconnect_limit(settings)`; then a
//   request across each such link, both ways, is answered. One kind of
//   link is left out, and named in the report (`forgotten_links`): a late
//   joiner's link whose joiner was killed within a store sync of being
//   told the other's address, and of which, at the last heal, neither end
//   holds an address of the other. The joiner came back from a store that
//   may not have had the address, the other end never heard of it, and
//   discovery is off: no rule greets a peer whose address it does not
//   have. Any other link, including one whose ends both lost each other
//   some other way, must reconnect.
// - same trace: the same seed gives the same digest of the wire (checked by
//   `check_chaos_seed`, which runs a seed twice).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "p2p0mq/config.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq::testing {

/// The invariants of a chaos run (see the top of this header).
enum class chaos_invariant : std::uint8_t {
  one_outcome,
  one_answer,
  delivered_once,
  hop_limit,
  bounds,
  reconnect,
  same_trace,
};

/// A printable name of `x`, e.g. `"one outcome"`.
const char* to_string(chaos_invariant x) noexcept;

/// The settings chaos peers start from: the defaults with every rule's time
/// scaled down (heart-beats every second, UNREACHABLE after 5 s of silence,
/// NO_CONNECTION after 20 s, tried again 10 s later, a time-to-live of 8 s),
/// so that a run of a few virtual minutes goes through many faults and
/// recoveries; peer stores synced every second.
config chaos_settings();

/// How long after the last heal every link between live peers must be
/// CONNECTED both ways: the longest a link end can wait before it tries the
/// other end straight again, plus 10 s for the exchange. At the heal a link
/// end that holds the other's address holds it
/// - CONNECTED, or UNREACHABLE without a `via`: its beats go straight, the
///   next within the interval plus the maximum slow-down;
/// - ROUTED, or UNREACHABLE with a `via` (silent while ROUTED; its beats
///   go through the relay and never try the direct link): greeted straight
///   at its next connect time, at most the reconnect wait after it became
///   ROUTED or was last greeted. A route hint, going silent, or giving up
///   on it (NO_CONNECTION) never puts that greeting off (`peer`);
/// - NO_CONNECTION: greeted at its next connect time, at most the
///   reconnect wait plus the maximum slow-down after it gave up (a route
///   hint before then never puts it off);
/// - CONNECTING (a `hello` lost before the heal): given up on after the
///   unresponsive threshold, then as NO_CONNECTION; or ROUTED by a route
///   hint before that, then greeted straight a reconnect wait later.
/// So: unresponsive threshold + reconnect wait + maximum slow-down + 10 s
/// (27 s with `chaos_settings`). A straight `hello` or beat that arrives is
/// answered straight, and the answer makes both ends CONNECTED: a message
/// of the other end that still comes through a relay right after leaves a
/// CONNECTED record as it is (`peer::become_connected`). Not covered, and
/// reported as broken when it happens: a link end whose other end forgot it
/// (killed before its store synced a peer it had just learned) is not
/// answered until it gives up on the silent end, after the no-connection
/// threshold. A link neither end holds an address of is left out (see the
/// reconnect invariant at the top).
duration reconnect_limit(const config& settings);

/// What a chaos run is made of.
struct chaos_options {
  /// Draws the layout, the faults, the requests and the wire's losses.
  std::uint64_t seed = 1;
  /// Peers at the start, laid out as a random graph of this degree.
  std::size_t peers = 8;
  std::size_t degree = 3;
  /// The most peers that join later, each told one or two live peers.
  std::size_t late_peers = 2;
  /// Fault steps.
  std::size_t steps = 30;
  /// Each step lasts a random time between these.
  duration min_step = std::chrono::milliseconds{200};
  duration max_step = std::chrono::seconds{6};
  /// Requests per step, on average (half of them through the requester).
  std::size_t requests_per_step = 4;
  /// The settings every peer starts from (`database` is set per peer).
  config settings = chaos_settings();
  /// Where the peer stores go; empty: a temporary directory of the run's
  /// own, removed at the end.
  std::string store_dir;
  /// When set, every step is written to it as it is taken.
  std::ostream* steps_out = nullptr;
  /// When set, every transfer on the wire is written to it
  /// (`sim_network::write_trace`'s format).
  std::ostream* trace_out = nullptr;
};

/// What a chaos run saw.
struct chaos_report {
  std::uint64_t seed = 0;
  /// Whether every invariant held.
  bool ok = true;
  /// The first invariant broken, at which step (1 to `steps`; `steps` + 1
  /// for the checks at the end), when, and what exactly.
  chaos_invariant invariant = chaos_invariant::one_outcome;
  std::size_t step = 0;
  duration at{};
  std::string detail;
  /// The steps taken, one line each ("step 3 at 12.345 s: kill sim-000004").
  std::vector<std::string> steps;
  /// The digest of every transfer on the wire (`sim_network::digest`).
  std::uint64_t digest = 0;
  std::uint64_t transfers = 0;
  /// The faults applied.
  std::size_t kills = 0;
  std::size_t restarts = 0;
  std::size_t partitions = 0;
  std::size_t heals = 0;
  std::size_t cuts = 0;
  std::size_t loss_bursts = 0;
  std::size_t joins = 0;
  /// Requests of the chaos concern: sent (handed to ZeroMQ), dropped,
  /// replied to, and left out because their peer was killed first.
  std::size_t requests = 0;
  std::size_t requests_sent = 0;
  std::size_t requests_dropped = 0;
  std::size_t requests_replied = 0;
  /// Requests through the requester: answered by a reply, by an error
  /// (timeout, rejection, drop), and left out (their peer was killed).
  std::size_t asks = 0;
  std::size_t asks_replied = 0;
  std::size_t asks_failed = 0;
  std::size_t abandoned = 0;
  /// The most transfers of one message, its path ("a>b b>c ...", in the
  /// order they were handed to the wire), and the limit.
  std::size_t max_hops = 0;
  std::string longest_path;
  std::size_t hop_limit = 0;
  /// The time from the last heal until every link between live peers was
  /// CONNECTED both ways, and the limit.
  duration reconnected_after{};
  duration reconnect_limit{};
  /// The links left out of the reconnect check because no rule can bring
  /// them back ("a - b"; see the reconnect invariant at the top).
  std::vector<std::string> forgotten_links;
  /// The largest peer table and the most messages a sender held.
  std::size_t max_table = 0;
  std::size_t max_held = 0;
  /// Virtual time from the first step to the end.
  duration length{};
};

/// Runs one chaos run (see the top of this header). Never throws for a
/// broken invariant: the report says which.
chaos_report run_chaos(const chaos_options& options);

/// Runs `options` twice and checks, besides every invariant of each run,
/// that both gave the same trace digest. Returns the first run's report.
chaos_report check_chaos_seed(const chaos_options& options);

/// Writes a report of `x` in a few lines: the counts, and for a broken
/// invariant the step, the invariant and the steps up to it.
void write_report(std::ostream& out, const chaos_report& x);

} // namespace p2p0mq::testing
