#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"

namespace p2p0mq {

class receive_credit;

/// What a concern on another node needs to know of the local peer whose
/// manager it serves; the manager's answer to `(context_atom)`.
struct remote_context {
  /// The local peer's uuid.
  std::string local_uuid;
  /// Host its receiver announces.
  std::string host;
  /// Port its receiver is bound to.
  std::uint16_t port = 0;
  /// Its message time-to-live.
  caf::timespan message_ttl{};
  /// Its requester.
  requester_actor requester;
  /// Its peer table.
  peer_table_actor peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_context& x) {
  return f(caf::meta::type_name("remote_context"), x.local_uuid, x.host, x.port,
           x.message_ttl, x.requester, x.peers);
}

/// Counters of a manager, a snapshot: what the receiver handed it.
struct manager_stats {
  /// Messages received and their bytes by command id: every message the
  /// receiver handed over, also those for other peers. Every registered
  /// command is listed, with or without traffic. (Bytes as laid out by
  /// the rules of docs/PROTOCOL.md, see `traffic`: the message id counted in
  /// its smallest msgpack form.)
  std::map<std::string, traffic> commands;
  /// The same by previous hop: the peer that handed each message to us.
  std::map<std::string, traffic> peers;
  /// Messages dropped because no concern serves their command.
  std::uint64_t unknown_command = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, manager_stats& x) {
  return f(caf::meta::type_name("manager_stats"), x.commands, x.peers,
           x.unknown_command);
}

/// The manager: supervisor of one local peer's concerns and router of its
/// incoming messages by command id.
///
/// | message | from | reply | errors |
/// |---|---|---|---|
/// | `(incoming_atom, std::vector<message>)` | receiver | none: each message for us goes to the concern of its command (unknown commands are logged and dropped); the messages for other peers go to the router, in one batch, never to a concern | |
/// | `(add_atom, command, concern_factory)` | local peer | none: spawns the concern now, restarts it whenever it fails | `errc::duplicate_concern` |
/// | `(add_atom, command, concern_actor)` | anyone, also on another node | none: registers a running concern; it is monitored and unregistered when it goes down | `errc::duplicate_concern` |
/// | `(remove_atom, command)` | anyone | whether a concern was registered; a spawned one is stopped |
/// | `(get_atom)` | anyone | the registered command ids, sorted |
/// | `(get_atom, command)` | anyone | the concern registered for `command`; an invalid handle when there is none |
/// | `(stats_atom)` | anyone | `manager_stats` |
/// | `(tick_atom)` | anyone | none: ticks every concern now |
/// | `(expect_atom, peer, id, timeout, concern_actor who)` | a requester | none: the first reply from `peer` to our message `id` within `timeout` goes to `who` (as `(incoming_atom, message)`) instead of to the concern of its command; later replies to it are logged and dropped until `timeout` has passed |
/// | `(outgoing_atom, message, priority, concern_actor owner)` | concerns on other nodes | none: hands the message to the sender on `owner`'s behalf, with the local uuid as its source and its deadline one time-to-live from now on the local clock; a request with id 0 gets the local peer's next id |
/// | `(context_atom)` | concerns on other nodes, the local peer | `remote_context` |
///
/// Replies: a reply that a requester registered for goes to that requester
/// (first one wins); any other reply goes to the concern of its command.
///
/// Grace period: when a concern registered as a running actor goes down,
/// the messages for its command are held for `concern_grace_period` (at
/// most `concern_grace_limit` of them) and handed, in order, to the next
/// concern that registers for the command within that time; then the rest
/// is dropped with a log line. With a period of zero (the default) they are
/// dropped at once, as are those of a command no concern serves.
///
/// Reverse paths: a message that reached us through a relay (its source is
/// not its previous hop), whoever it is for, tells the peer table that its
/// source can be reached through that relay (`via_atom`; a CONNECTED source
/// keeps its direct route). So the replies to a message we forwarded, and
/// our own replies and heart-beats, find their way back. The hint for one
/// source is repeated only when the relay changes or a heart-beat interval
/// has passed.
///
/// A concern that fails is restarted from its factory, at most
/// `max_restarts` times within `restart_window`; then it stays down and its
/// messages are dropped with a log line. Stop sequence: the manager exits
/// (e.g. `exit_reason::user_shutdown`); its spawned concerns are linked and
/// exit with it.
using manager_actor = caf::typed_actor<
    caf::reacts_to<incoming_atom, std::vector<message>>,
    caf::reacts_to<add_atom, std::string, concern_factory>,
    caf::reacts_to<add_atom, std::string, concern_actor>,
    caf::replies_to<remove_atom, std::string>::with<bool>,
    caf::replies_to<get_atom>::with<std::vector<std::string>>,
    caf::replies_to<get_atom, std::string>::with<concern_actor>,
    caf::replies_to<stats_atom>::with<manager_stats>, caf::reacts_to<tick_atom>,
    caf::reacts_to<expect_atom, std::string, std::uint64_t, caf::timespan,
                   concern_actor>,
    caf::reacts_to<outgoing_atom, message, priority, concern_actor>,
    caf::replies_to<context_atom>::with<remote_context>>;

/// Spawns the manager of a local peer; `ctx` is handed to every concern it
/// spawns. It ticks its concerns every `ctx.settings->tick_interval`, on a
/// timer of its own that no other actor can reach. It spawns the local
/// peer's requester, linked to it, and hands it to its concerns in
/// `concern_context::requester`. Messages for other peers go to `router`;
/// without one they are logged and dropped.
///
/// With a `credit` (the receiver's, see `receive_credit`), the manager gives
/// one back each time it has handled a batch of incoming messages.
manager_actor spawn_manager(caf::actor_system& sys, concern_context ctx,
                            router_actor router = {},
                            std::shared_ptr<receive_credit> credit = nullptr);

} // namespace p2p0mq
