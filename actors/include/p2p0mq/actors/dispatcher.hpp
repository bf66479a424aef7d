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
#include "p2p0mq/config.hpp"

namespace p2p0mq {

class receive_credit;

/// Counters of a dispatcher, a snapshot: what the receiver handed it.
struct dispatcher_stats {
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
  /// Messages dropped because their concern had as many waiting as
  /// `config::concern_queue_limit` allows.
  std::uint64_t concern_busy = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dispatcher_stats& x) {
  return f(caf::meta::type_name("dispatcher_stats"), x.commands, x.peers,
           x.unknown_command, x.concern_busy);
}

/// The dispatcher: hands each message the receiver read to whoever handles
/// it. One job, three sources of truth: the table of concerns by command id
/// (kept by the supervisor), the replies requesters wait for, and the grace
/// periods of commands whose concern went down.
///
/// | message | from | reply |
/// |---|---|---|
/// | `(incoming_atom, std::vector<message>)` | receiver | none: dispatch each (see below) |
/// | `(add_atom, command, concern_actor, backlog)` | supervisor | none: `command` goes to the concern from now on (`backlog`, when not null, counts what waits in its mailbox) |
/// | `(remove_atom, command, bool hold)` | supervisor | none: `command` has no concern; with `hold`, its messages are held for the grace period |
/// | `(expect_atom, peer, id, timeout, inbox_actor)` | requester | none: the first reply from `peer` to our message `id` within `timeout` goes to the inbox |
/// | `(stats_atom)` | anyone | `dispatcher_stats` |
///
/// Each message, in order:
/// 1. a message for another peer goes to the router, in one batch per batch
///    received, never to a concern (without a router: logged and dropped);
/// 2. a reply a requester waits for goes to it (first one wins; later ones
///    are logged and dropped until the timeout has passed);
/// 3. a message for a registered command goes to its concern (the messages
///    of one batch for one concern in one `(incoming_atom,
///    std::vector<message>)`, sent once the batch is dispatched), unless the
///    concern counts its backlog and `concern_queue_limit` messages wait in
///    its mailbox: then the message is dropped, counted (`concern_busy`)
///    and logged (as the log limits say), and a request from a peer that
///    announced `capability::reject` is answered with a rejection of code
///    `concern_busy`;
/// 4. a message for a command in its grace period is held (at most
///    `concern_grace_limit`) and handed, in order, to the next concern that
///    registers for it within `concern_grace_period`; the rest is dropped
///    with a log line when the period ends;
/// 5. anything else is logged and dropped (`unknown_command`); a request
///    from a peer that announced `capability::reject` in its `hello` is
///    answered with a rejection of code `unknown_command`
///    (`make_rejection_payload`), so that its caller learns at once. (A
///    legacy peer is never sent a reply it did not ask for.) The dispatcher
///    owns these replies; their outcomes are only counted.
///
/// Reverse paths: a message that reached us through a relay (its source is
/// not its previous hop), whoever it is for, tells the peer table that its
/// source was heard through that relay (`(heard_atom, source, relay)`: a
/// source without a route becomes ROUTED through the relay; a CONNECTED or
/// ROUTED one keeps its route), so that replies find their way back. It is
/// told again only when the relay changes or a heart-beat interval has
/// passed.
///
/// Time: one timer, armed only while a reply is awaited or a command is in
/// its grace period. With a `receive_credit`, it gives one back each time it
/// has dispatched a batch.
using dispatcher_actor =
    owner_actor::extend<caf::reacts_to<incoming_atom, std::vector<message>>,
                        caf::reacts_to<add_atom, std::string, concern_actor,
                                       std::shared_ptr<concern_backlog>>,
                        caf::reacts_to<remove_atom, std::string, bool>,
                        caf::reacts_to<expect_atom, std::string, std::uint64_t,
                                       caf::timespan, inbox_actor>,
                        caf::replies_to<stats_atom>::with<dispatcher_stats>>;

/// Spawns the dispatcher of the local peer `local_uuid`. It tells `peers`
/// the reverse paths it learns, hands messages for other peers to `router`
/// (null: they are dropped) and its rejections of unknown commands to
/// `sender` (null: it sends none).
dispatcher_actor spawn_dispatcher(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  peer_table_actor peers, router_actor router,
                                  std::shared_ptr<receive_credit> credit,
                                  sender_actor sender = {});

} // namespace p2p0mq
