#pragma once

// The typed interfaces shared by the actors of one local peer, and the atoms
// their messages are made of. Each interface is documented like a protocol:
// every message, who sends it, its reply and its errors. The actors that
// implement them, and their spawn functions, have headers of their own
// (`sender.hpp`, `peer_table.hpp`, `dispatcher.hpp`, ...).
//
// The shape of a local peer (see `assembly.hpp`):
//
//   wire -> receiver -> dispatcher --by command id--> concern
//                          |  \--for other peers--> router --> sender -> wire
//                          \--replies awaited--> requester
//   concern --(outgoing)--> sender --(sent | send_failed | dropped)--> owner
//   peer table --(due: greeting, heart-beat; changes)--> concerns
//   supervisor: starts, restarts and registers the concerns

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/inspect.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/peer.hpp"
#include "p2p0mq/send_queues.hpp"

namespace p2p0mq {

// -- atoms --------------------------------------------------------------------

/// A message for a concern (request or reply), or a batch from the receiver.
using incoming_atom = caf::atom_constant<caf::atom("incoming")>;

/// An outgoing message handed to the sender.
using outgoing_atom = caf::atom_constant<caf::atom("outgoing")>;

/// A concern's own periodic or one-shot timer (see `concern_base::tick_every`).
using tick_atom = caf::atom_constant<caf::atom("tick")>;

/// Outcome: a message was handed to ZeroMQ.
using sent_atom = caf::atom_constant<caf::atom("sent")>;

/// Outcome: a send attempt failed; the owner may ask for a retry.
using send_failed_atom = caf::atom_constant<caf::atom("sendfailed")>;

/// Outcome: a message will never be sent.
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;

/// Make (or refresh) a connection to a peer.
using connect_atom = caf::atom_constant<caf::atom("connect")>;

/// The route to a peer changed.
using route_atom = caf::atom_constant<caf::atom("route")>;

/// Read something.
using get_atom = caf::atom_constant<caf::atom("get")>;

/// Add (or update) something.
using add_atom = caf::atom_constant<caf::atom("add")>;

/// Remove something.
using remove_atom = caf::atom_constant<caf::atom("remove")>;

/// Record that a message from a peer arrived.
using heard_atom = caf::atom_constant<caf::atom("heard")>;

/// Change a peer's state.
using state_atom = caf::atom_constant<caf::atom("state")>;

/// Greet a peer now (unless a greeting is in flight).
using greet_atom = caf::atom_constant<caf::atom("greet")>;

/// Work the peer table's rules made due now: peers to greet or to beat.
using due_atom = caf::atom_constant<caf::atom("due")>;

/// Peer records changed.
using changed_atom = caf::atom_constant<caf::atom("changed")>;

/// Destinations that messages wait for, with no route to them.
using wanted_atom = caf::atom_constant<caf::atom("wanted")>;

/// Start telling the sender of this message about something.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;

/// A certificate for a peer became available.
using trusted_atom = caf::atom_constant<caf::atom("trusted")>;

/// An actor's own timer fired.
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;

/// An actor's own timer: time to write the summaries of its `log_limiter`.
using flush_log_atom = caf::atom_constant<caf::atom("flushlog")>;

/// Ask an actor for its counters.
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// A route hint: a peer can be reached through another.
using via_atom = caf::atom_constant<caf::atom("via")>;

/// Ask for the destinations that messages wait for and that have no route.
using find_atom = caf::atom_constant<caf::atom("find")>;

/// A peer introduced itself (its `hello`): add it, evictable.
using learn_atom = caf::atom_constant<caf::atom("learn")>;

/// A connection's session ended for good.
using lost_atom = caf::atom_constant<caf::atom("lost")>;

/// Stop in order: refuse new work, settle what is held, then answer.
using stop_atom = caf::atom_constant<caf::atom("stop")>;

/// Write the peer records to the peer store now.
using sync_atom = caf::atom_constant<caf::atom("sync")>;

/// Ask a peer something and wait for its reply.
using request_atom = caf::atom_constant<caf::atom("request")>;

/// Send a request whose reply nobody waits for.
using send_atom = caf::atom_constant<caf::atom("send")>;

/// Register the reply a requester waits for.
using expect_atom = caf::atom_constant<caf::atom("expect")>;

/// Wait for something to happen.
using await_atom = caf::atom_constant<caf::atom("await")>;

/// Ask what a concern on another node needs to know of a local peer.
using context_atom = caf::atom_constant<caf::atom("context")>;

// -- values in messages -------------------------------------------------------

/// What the peer table's rules made due (see `peer_table_actor`).
enum class due_kind : std::uint8_t {
  /// Peers to greet with a `hello`: the table has told the sender to connect
  /// to each already.
  greeting,
  /// Peers to send a heart-beat: the table has applied the UNREACHABLE and
  /// NO_CONNECTION rules and scheduled the next beat of each.
  heart_beat,
};

/// A printable name of `x`.
const char* to_string(due_kind x) noexcept;

/// What happened to one peer record.
enum class change_kind : std::uint8_t {
  /// The peer is new to the table.
  added,
  /// Its state or route changed.
  changed,
  /// It left the table (removed or evicted).
  removed,
};

/// A change of one peer record, as the peer table tells its watchers.
struct peer_change {
  change_kind what = change_kind::changed;
  /// The record after the change (for `removed`: the last one).
  peer record;
  /// Its state before the change (for `added`: its first state).
  peer_state was = peer_state::initial;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_change& x) {
  auto what = static_cast<std::uint8_t>(x.what);
  auto was = static_cast<std::uint8_t>(x.was);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.what = static_cast<change_kind>(what);
    x.was = static_cast<peer_state>(was);
    return caf::none;
  });
  return f(caf::meta::type_name("peer_change"), what, x.record, was, load);
}

/// A destination that messages wait for in the sender, with no route to it:
/// what the ask-around concern looks for.
struct wanted_route {
  /// The destination.
  std::string target;
  /// Peers not to ask about it: the source and previous hop of the oldest
  /// message waiting for it (for a message we forward), never ourselves.
  std::vector<std::string> exclude;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wanted_route& x) {
  return f(caf::meta::type_name("wanted_route"), x.target, x.exclude);
}

/// A concern's counters by name (see `concern_base::counters`).
using concern_counters = std::map<std::string, std::uint64_t>;

// -- owners, inboxes and watchers ---------------------------------------------

/// The owner of an outgoing message: hears its outcome from the sender.
///
/// | message | reply |
/// |---|---|
/// | `(sent_atom, std::vector<message>)` | none: final, each handed to ZeroMQ (the messages of one owner that went in the same round of the sender, in the order they went) |
/// | `(send_failed_atom, message, error)` | `bool`: true to have it tried again while its deadline lasts |
/// | `(dropped_atom, message, error)` | none: final, never sent |
///
/// Every message handed to the sender ends in exactly one of `sent` and
/// `dropped`; `send_failed` comes before either, zero or more times.
using owner_actor = caf::typed_actor<
    caf::reacts_to<sent_atom, std::vector<message>>,
    caf::replies_to<send_failed_atom, message, caf::error>::with<bool>,
    caf::reacts_to<dropped_atom, message, caf::error>>;

/// Takes a reply it waits for from the dispatcher: `(incoming_atom, message)`.
using inbox_actor = caf::typed_actor<caf::reacts_to<incoming_atom, message>>;

/// Hears of changed peer records: `(changed_atom, std::vector<peer_change>)`.
using peer_watcher_actor =
    caf::typed_actor<caf::reacts_to<changed_atom, std::vector<peer_change>>>;

/// Takes the work the peer table's rules make due:
/// `(due_atom, due_kind, std::vector<peer>)`.
using due_watcher_actor =
    caf::typed_actor<caf::reacts_to<due_atom, due_kind, std::vector<peer>>>;

/// Hears of peers whose certificate became trusted:
/// `(trusted_atom, uuid)` (the peer table, from the authenticator).
using trust_watcher_actor =
    caf::typed_actor<caf::reacts_to<trusted_atom, std::string>>;

/// Hears of destinations that start to wait for a route:
/// `(wanted_atom, std::vector<wanted_route>)`.
using route_watcher_actor =
    caf::typed_actor<caf::reacts_to<wanted_atom, std::vector<wanted_route>>>;

// -- concern ------------------------------------------------------------------

/// A concern: the protocol plugin for one command id. Built-in concerns and
/// users' concerns alike (see `concern_base`).
///
/// | message | from | reply |
/// |---|---|---|
/// | `(incoming_atom, std::vector<message>)` | dispatcher | none: requests and replies for its command, in the order they came (those of one batch of the receiver at once) |
/// | outcomes (see `owner_actor`) | sender | as `owner_actor` |
/// | `(tick_atom)` | itself | none: a timer it asked for |
/// | `(changed_atom, std::vector<peer_change>)` | peer table | none: when it watches the peers |
/// | `(due_atom, due_kind, std::vector<peer>)` | peer table | none: when it takes that work |
/// | `(wanted_atom, std::vector<wanted_route>)` | sender | none: when it watches wanted routes |
/// | `(stats_atom)` | anyone | `concern_counters` |
using concern_actor =
    owner_actor::extend<caf::reacts_to<incoming_atom, std::vector<message>>,
                        caf::reacts_to<tick_atom>,
                        caf::reacts_to<changed_atom, std::vector<peer_change>>,
                        caf::reacts_to<due_atom, due_kind, std::vector<peer>>,
                        caf::reacts_to<wanted_atom, std::vector<wanted_route>>,
                        caf::replies_to<stats_atom>::with<concern_counters>>;

// -- requester ----------------------------------------------------------------

/// The requester of a local peer: makes requests on behalf of callers that
/// are not concerns of their command (user code, other concerns, actors on
/// other nodes) and hands each its reply, correlated by message id. See
/// `requester.hpp` for the rules.
///
/// | message | reply |
/// |---|---|
/// | `(request_atom, peer, command, payload, timeout, priority)` | the reply message, or an error (see `spawn_requester`) |
/// | `(send_atom, peer, command, payload, priority)` | none: sent and forgotten |
using requester_actor = caf::typed_actor<
    caf::replies_to<request_atom, std::string, std::string, payload,
                    caf::timespan, priority>::with<message>,
    caf::reacts_to<send_atom, std::string, std::string, payload, priority>>;

/// What takes outgoing messages on behalf of their owner, who learns their
/// outcome: the sender, or the supervisor for concerns on other nodes. A
/// batch is the same as its messages handed over one after the other, in
/// one actor message.
using outgoing_actor = caf::typed_actor<
    caf::reacts_to<outgoing_atom, message, priority, owner_actor>,
    caf::reacts_to<outgoing_atom, std::vector<message>, priority, owner_actor>>;

// -- sender -------------------------------------------------------------------

/// Counters by peer and by command keep at most this many keys each; the
/// messages of any other key are counted under `other_traffic_key`.
inline constexpr std::size_t max_traffic_keys = 1024;

/// The key under which counters by peer or command count the messages of
/// keys beyond the first `max_traffic_keys`.
inline constexpr const char* other_traffic_key = "*";

/// Messages and their bytes, one way. Bytes are those of frames 1 to 6 of
/// each message (source to payload, as docs/PROTOCOL.md lays them out); frame
/// 0, the routing id, and ZeroMQ's own framing are not counted.
struct traffic {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, traffic& x) {
  return f(caf::meta::type_name("traffic"), x.messages, x.bytes);
}

/// What became of the outgoing messages of one peer or one command.
struct outgoing_traffic {
  /// Messages handed to ZeroMQ.
  std::uint64_t messages = 0;
  /// Their bytes (see `traffic`).
  std::uint64_t bytes = 0;
  /// Send attempts that failed.
  std::uint64_t send_failed = 0;
  /// Messages dropped.
  std::uint64_t dropped = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_traffic& x) {
  return f(caf::meta::type_name("outgoing_traffic"), x.messages, x.bytes,
           x.send_failed, x.dropped);
}

/// Counters of a sender, a snapshot.
struct sender_stats {
  /// Messages handed to ZeroMQ (final).
  std::uint64_t sent = 0;
  /// Send attempts that failed and were reported `send_failed`.
  std::uint64_t send_failed = 0;
  /// Messages reported `dropped` (final).
  std::uint64_t dropped = 0;
  /// Messages in the send queues now.
  std::uint64_t queued = 0;
  /// Messages held outside the queues now: waiting for a route, waiting to
  /// be tried again, or waiting for their owner's answer to `send_failed`.
  std::uint64_t held = 0;
  /// The same outcomes by peer: the message's next hop, or its destination
  /// (`to`) while it has none (e.g. a message dropped while it waited for a
  /// route).
  std::map<std::string, outgoing_traffic> peers;
  /// The same outcomes by command id (every message, also those forwarded
  /// for other peers).
  std::map<std::string, outgoing_traffic> commands;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sender_stats& x) {
  return f(caf::meta::type_name("sender_stats"), x.sent, x.send_failed,
           x.dropped, x.queued, x.held, x.peers, x.commands);
}

/// The sender: owns the connecting ROUTER socket (through its transport) and
/// the send queues. See `sender.hpp` for rounds, bounds, routing rules and
/// the stop sequence.
///
/// | message | from | reply |
/// |---|---|---|
/// | `(connect_atom, uuid, endpoint)` | peer table | none: connect to the peer's receiver unless connected to that endpoint |
/// | `(outgoing_atom, message, priority, owner_actor)` | concerns, router, requester | none: queue it; `owner` learns its outcome |
/// | `(outgoing_atom, std::vector<message>, priority, owner_actor)` | concerns, router | none: queue each, then run one round for all |
/// | `(lost_atom, endpoint)` | receiver | none: the next connect to `endpoint` connects anew |
/// | `(remove_atom, uuid)` | peer table | none: the peer left the table: forget its route and connection |
/// | `(route_atom, uuid, peer_state, via, bool relays)` | peer table | none: the peer's route changed (`relays`: it may be a hop for others, see `peer::relays`); waiting messages may go |
/// | `(find_atom)` | ask-around | the destinations messages wait for without a route |
/// | `(subscribe_atom, route_watcher_actor)` | ask-around | none: tell it of each destination that starts to wait |
/// | `(stats_atom)` | anyone | `sender_stats` |
/// | `(stop_atom)` | assembly | the number of messages dropped: everything held is dropped and its owner told, the transport closed; later messages are dropped at once |
using sender_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, std::string, std::string>,
    caf::reacts_to<outgoing_atom, message, priority, owner_actor>,
    caf::reacts_to<outgoing_atom, std::vector<message>, priority, owner_actor>,
    caf::reacts_to<route_atom, std::string, peer_state, std::string, bool>,
    caf::reacts_to<lost_atom, std::string>,
    caf::reacts_to<remove_atom, std::string>,
    caf::replies_to<find_atom>::with<std::vector<wanted_route>>,
    caf::reacts_to<subscribe_atom, route_watcher_actor>,
    caf::replies_to<stats_atom>::with<sender_stats>,
    caf::replies_to<stop_atom>::with<std::uint64_t>>;

// -- peer table ---------------------------------------------------------------

/// The peer table: the one owner of the peer records of a local peer, and of
/// the rules that run on them. See `peer_table.hpp` for its timer, its store
/// and its size limit.
///
/// | message | reply | errors |
/// |---|---|---|
/// | `(get_atom)` | all peers, sorted by uuid | |
/// | `(get_atom, uuid)` | that peer | `unknown_peer` |
/// | `(add_atom, uuid, host, port)` | the peer, added INITIAL or its address updated; pinned (never evicted); one not connected is greeted now | `invalid_peer`, `peer_table_full` |
/// | `(learn_atom, uuid, host, port, bool connect, capabilities)` | as `add_atom` for a peer that introduced itself (`hello`), with what it speaks: evictable; with `connect` the sender connects to it first | `invalid_peer`, `peer_table_full` |
/// | `(learn_atom, uuid, host, port, peer_origin)` | the peer: one heard of in a beacon or a peer exchange; a new one is added evictable and greeted, a known one without an address gets this one, a ROUTED one is greeted directly; a known address never changes | `invalid_peer`, `peer_table_full` |
/// | `(remove_atom, uuid)` | whether it was there | |
/// | `(heard_atom, message)` | none: the message's source after `peer::become_connected` | |
/// | `(heard_atom, message, timespan rtt)` | none: the same, and a round-trip time of a heart-beat | |
/// | `(heard_atom, uuid, relay)` | none: a message from the peer came through `relay` (the dispatcher's reverse paths): a peer without a route becomes ROUTED via `relay`; a ROUTED one keeps its route and is heard | |
/// | `(lost_atom, uuid)` | none: a message for the peer came back round a loop (the router): a ROUTED peer loses its route (NO_CONNECTION) | |
/// | `(state_atom, uuid, peer_state)` | the peer after the outcome of a `hello` | `unknown_peer` |
/// | `(via_atom, uuid, relay)` | the peer after a route hint | `invalid_peer`, `peer_table_full` |
/// | `(greet_atom, uuid)` | none: greet the peer now, unless a greeting is in flight | |
/// | `(trusted_atom, uuid)` | none: its certificate appeared: a NO_CONNECTION peer is greeted now | |
/// | `(subscribe_atom, due_kind, due_watcher_actor)` | none: hand it that work from now on | |
/// | `(subscribe_atom, peer_watcher_actor)` | all peers now; their changes follow | |
/// | `(route_atom, uuid)` | whether a message for the peer can find its way: it is known, or unknown but a CONNECTED peer answers ask-around or the default route relays | |
/// | `(await_atom, uuid, timespan, bool routed)` | the peer once it is CONNECTED (or ROUTED, with `routed`), at once if it is | `request_timeout` after the timespan |
/// | `(stop_atom)` | `true`, once the last changes reached the store; then it exits | |
using peer_table_actor = caf::typed_actor<
    caf::replies_to<get_atom>::with<std::vector<peer>>,
    caf::replies_to<get_atom, std::string>::with<peer>,
    caf::replies_to<add_atom, std::string, std::string,
                    std::uint16_t>::with<peer>,
    caf::replies_to<learn_atom, std::string, std::string, std::uint16_t, bool,
                    capabilities>::with<peer>,
    caf::replies_to<learn_atom, std::string, std::string, std::uint16_t,
                    peer_origin>::with<peer>,
    caf::replies_to<remove_atom, std::string>::with<bool>,
    caf::reacts_to<heard_atom, message>,
    caf::reacts_to<heard_atom, message, caf::timespan>,
    caf::reacts_to<heard_atom, std::string, std::string>,
    caf::reacts_to<lost_atom, std::string>,
    caf::replies_to<state_atom, std::string, peer_state>::with<peer>,
    caf::replies_to<via_atom, std::string, std::string>::with<peer>,
    caf::reacts_to<greet_atom, std::string>,
    caf::reacts_to<trusted_atom, std::string>,
    caf::reacts_to<subscribe_atom, due_kind, due_watcher_actor>,
    caf::replies_to<subscribe_atom,
                    peer_watcher_actor>::with<std::vector<peer>>,
    caf::replies_to<route_atom, std::string>::with<bool>,
    caf::replies_to<await_atom, std::string, caf::timespan, bool>::with<peer>,
    caf::replies_to<stop_atom>::with<bool>>;

} // namespace p2p0mq
