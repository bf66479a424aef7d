#pragma once

// The typed interfaces of the actors of one local peer, and the atoms their
// messages are made of. Each interface is documented like a protocol: every
// message, who sends it, its reply and its errors.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
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

/// Time for a concern to look at its peers.
using tick_atom = caf::atom_constant<caf::atom("tick")>;

/// Outcome: a message was handed to ZeroMQ.
using sent_atom = caf::atom_constant<caf::atom("sent")>;

/// Outcome: a send attempt failed; the concern may ask for a retry.
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

/// A message from a peer arrived.
using heard_atom = caf::atom_constant<caf::atom("heard")>;

/// Change a peer's state.
using state_atom = caf::atom_constant<caf::atom("state")>;

/// Apply the heart-beat rules.
using heart_beat_atom = caf::atom_constant<caf::atom("heartbeat")>;

/// Apply the connector rules.
using greet_atom = caf::atom_constant<caf::atom("greet")>;

/// An actor's own timer fired.
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;

/// Ask an actor for its counters.
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// A route hint: a peer can be reached through another.
using via_atom = caf::atom_constant<caf::atom("via")>;

/// Ask for the destinations that messages wait for and that have no route.
using find_atom = caf::atom_constant<caf::atom("find")>;

/// The round-trip time of a heart-beat.
using round_trip_atom = caf::atom_constant<caf::atom("roundtrip")>;
/// A peer introduced itself (its `hello`): add it, evictable.
using learn_atom = caf::atom_constant<caf::atom("learn")>;

// -- concern ------------------------------------------------------------------

/// A concern: the protocol plugin for one command id.
///
/// | message                                    | from    | reply |
/// |--------------------------------------------|---------|-------|
/// | `(incoming_atom, message)`                 | manager | none: a request or reply for this concern's command |
/// | `(tick_atom)`                              | manager | none: look at the peers, compose messages (the sender also ticks the concern that asks it `find_atom`, when a new destination waits for a route) |
/// | `(sent_atom, message)`                     | sender  | none: final, handed to ZeroMQ |
/// | `(send_failed_atom, message, error)`       | sender  | `bool`: true to have it tried again (while its deadline lasts) |
/// | `(dropped_atom, message, error)`           | sender  | none: final, never sent (deadline passed, queue full, or no retry) |
///
/// Every message a concern hands to the sender ends in exactly one of `sent`
/// and `dropped`; `send_failed` comes before either, zero or more times.
using concern_actor = caf::typed_actor<
    caf::reacts_to<incoming_atom, message>, caf::reacts_to<tick_atom>,
    caf::reacts_to<sent_atom, message>,
    caf::replies_to<send_failed_atom, message, caf::error>::with<bool>,
    caf::reacts_to<dropped_atom, message, caf::error>>;

// -- requests -----------------------------------------------------------------

/// Ask a peer something and wait for its reply.
using request_atom = caf::atom_constant<caf::atom("request")>;

/// Send a request whose reply nobody waits for.
using send_atom = caf::atom_constant<caf::atom("send")>;

/// Register the reply a requester waits for.
using expect_atom = caf::atom_constant<caf::atom("expect")>;

/// Ask a manager what a concern on another node needs to know of it.
using context_atom = caf::atom_constant<caf::atom("context")>;

/// The requester of a local peer: makes requests on behalf of callers that
/// are not concerns of their command (user code, other concerns, actors on
/// other nodes) and hands each its reply, correlated by message id. The
/// manager spawns it; `local_peer::requester()` and
/// `concern_context::requester` are its handle.
///
/// | message | reply | errors |
/// |---|---|---|
/// | `(request_atom, peer, command, payload, timeout, priority)` | the reply message (first one wins) | `errc::request_timeout` (no reply within `timeout`); the reason the sender dropped the request (`errc::message_expired`, `errc::send_queue_full`, `errc::local_peer_stopped`, ...); the error of a failed send (e.g. `errc::peer_unreachable`: a failed send is not tried again); `errc::rejected` (the reply is a rejection, see `rejection_field`); `errc::invalid_request` (no command, a timeout not above zero, our own uuid or an invalid uuid as `peer`); `errc::local_peer_stopped` (the requester stopped first) |
/// | `(send_atom, peer, command, payload, priority)` | none: sends the request and forgets it; a failed send is tried again while its time-to-live lasts, a drop is logged; a reply goes to the concern of `command` like any other | |
///
/// The request leaves with the local peer's next message id and a deadline
/// of `min(timeout, message_ttl)`. Every request ends in exactly one answer
/// to its caller.
using requester_actor = caf::typed_actor<
    caf::replies_to<request_atom, std::string, std::string, payload,
                    caf::timespan, priority>::with<message>,
    caf::reacts_to<send_atom, std::string, std::string, payload, priority>>;

/// What takes outgoing messages on behalf of their owner, who learns their
/// outcome: the sender, or the manager for concerns on other nodes.
using outgoing_actor = caf::typed_actor<
    caf::reacts_to<outgoing_atom, message, priority, concern_actor>>;

// -- sender -------------------------------------------------------------------

/// A connection's session ended for good.
using lost_atom = caf::atom_constant<caf::atom("lost")>;

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

/// The sender: owns the connecting ROUTER socket and the send queues.
///
/// | message | from | reply |
/// |---|---|---|
/// | `(connect_atom, uuid, endpoint)` | concerns | none: connect to the peer's receiver (`tcp://host:port`) unless already connected to that endpoint; with encryption on, the peer's public certificate is looked up first, and a failure is logged and remembered as the reason of later sends to it that find no connection |
/// | `(outgoing_atom, message, priority, concern_actor owner)` | concerns, router | none: queue it; `owner` learns its outcome |
/// | `(lost_atom, endpoint)` | receiver | none: libzmq gave up the connection to `endpoint` after a failed handshake (rejected key, encryption mismatch): the next connect to it connects anew |
/// | `(remove_atom, uuid)` | peer table | none: the peer left the table (evicted): its route is forgotten and its connection closed (`transport::forget`); messages for it wait for a route again |
/// | `(route_atom, uuid, peer_state, via)` | peer table | none: the peer's state changed; decides the next hop of messages with none, and whether they wait |
/// | `(find_atom)` | ask-around concern | `std::vector<wanted_route>`: the destinations messages wait for, except UNREACHABLE peers (the heart-beat rules decide their fate), in no particular order. The asker is ticked (`tick_atom`) when another destination without a route gets its first waiting message, once until it asks again |
/// | `(stats_atom)` | anyone | `sender_stats` |
///
/// Routing rules, for a message with an empty `next_hop` (one with a
/// `next_hop` goes there as it is):
///
/// 1. to its `to` when that peer is CONNECTED;
/// 2. through the peer's `via` when it is ROUTED;
/// 3. when it is UNREACHABLE, only heart-beats (`hb`) go (through its `via`
///    if it has one), other messages wait;
/// 4. otherwise (unknown, INITIAL, CONNECTING, NO_CONNECTION) through the
///    default route (`config::default_route`) when one is set and that peer
///    is CONNECTED;
/// 5. otherwise the message waits, until its deadline, for a route: the
///    ask-around concern learns of its destination through `find_atom`
///    (on its tick, and at once when the sender ticks it).
///
/// A message never goes back to its `previous_hop` (the peer it came from,
/// for a message we forward): when the rules pick it, the message waits as
/// if there were no route. Waiting messages are looked at again whenever the
/// route to their destination, or to the default route, changes.
using sender_actor = caf::typed_actor<
    caf::reacts_to<connect_atom, std::string, std::string>,
    caf::reacts_to<outgoing_atom, message, priority, concern_actor>,
    caf::reacts_to<route_atom, std::string, peer_state, std::string>,
    caf::reacts_to<lost_atom, std::string>,
    caf::reacts_to<remove_atom, std::string>,
    caf::replies_to<find_atom>::with<std::vector<wanted_route>>,
    caf::replies_to<stats_atom>::with<sender_stats>>;

// -- peer table ---------------------------------------------------------------

/// The peer table: the one owner of the peer records of a local peer. Every
/// rule reads the actor system's clock, so virtual time drives it in tests.
///
/// | message | reply | errors |
/// |---|---|---|
/// | `(get_atom)` | all peers, a snapshot | |
/// | `(get_atom, uuid)` | that peer | `errc::unknown_peer` |
/// | `(add_atom, uuid, host, port)` | the peer, created INITIAL or with its address updated; pinned: never evicted (the user's peers) | `errc::invalid_peer`, `errc::peer_table_full` |
/// | `(learn_atom, uuid, host, port)` | as `add_atom`, for a peer that introduced itself (`hello`): not pinned, so evictable (see below) | `errc::invalid_peer`, `errc::peer_table_full` |
/// | `(remove_atom, uuid)` | whether it was there | |
/// | `(heard_atom, message)` | the message's source after `become_connected`; a peer heard directly while neither CONNECTED nor CONNECTING is first connected to at its address (`connect_atom` to the sender) | `errc::unknown_peer` |
/// | `(state_atom, uuid, peer_state)` | the peer after the outcome of a `hello`: CONNECTING (it was sent) applies to a peer that needs a reconnect, NO_CONNECTION (it failed; schedules the next attempt) to one neither CONNECTED nor ROUTED, any other state as asked | `errc::unknown_peer` |
/// | `(heart_beat_atom)` | the peers to send a heart-beat now; the rules' state changes are applied and their next beat scheduled | |
/// | `(greet_atom)` | the peers to send a `hello` now; CONNECTING peers that never answered become NO_CONNECTION | |
/// | `(round_trip_atom, uuid, timespan)` | none: the round-trip time of a heart-beat the peer answered, added to its `round_trips`; an unknown peer is ignored | |
/// | `(via_atom, uuid, relay)` | the peer after a route hint: it can be reached through `relay`. Created (without an address, not pinned) when unknown; a CONNECTED peer keeps its direct route, any other becomes ROUTED via `relay` with its heart-beat reset (`peer::become_routed`) | `errc::invalid_peer` (a uuid or relay shorter than 4 bytes, our own uuid as either, or a peer as its own relay), `errc::peer_table_full` |
///
/// Every state change is told to the sender (`route_atom`).
///
/// Size: the table keeps at most `config::max_peers` peers (0: no limit). A
/// new peer beyond it evicts the peer that has been evictable longest: one
/// not pinned (added by `add_atom` or from the peer store) and now INITIAL,
/// CONNECTING or NO_CONNECTION; the sender is told (`remove_atom`). With none
/// evictable the new peer is refused with `errc::peer_table_full` (a row of
/// the store, skipped). Evictions and refusals are logged (category
/// `connector`) as one warning at most every 10 s, counting those since the
/// last.
using peer_table_actor = caf::typed_actor<
    caf::replies_to<get_atom>::with<std::vector<peer>>,
    caf::replies_to<get_atom, std::string>::with<peer>,
    caf::replies_to<add_atom, std::string, std::string,
                    std::uint16_t>::with<peer>,
    caf::replies_to<learn_atom, std::string, std::string,
                    std::uint16_t>::with<peer>,
    caf::replies_to<remove_atom, std::string>::with<bool>,
    caf::replies_to<heard_atom, message>::with<peer>,
    caf::replies_to<state_atom, std::string, peer_state>::with<peer>,
    caf::replies_to<heart_beat_atom>::with<std::vector<peer>>,
    caf::replies_to<greet_atom>::with<std::vector<peer>>,
    caf::reacts_to<round_trip_atom, std::string, caf::timespan>,
    caf::replies_to<via_atom, std::string, std::string>::with<peer>>;

} // namespace p2p0mq
