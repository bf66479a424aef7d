#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"

namespace p2p0mq {

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
/// | `(tick_atom)` | anyone | none: ticks every concern now |
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
using manager_actor =
    caf::typed_actor<caf::reacts_to<incoming_atom, std::vector<message>>,
                     caf::reacts_to<add_atom, std::string, concern_factory>,
                     caf::reacts_to<add_atom, std::string, concern_actor>,
                     caf::replies_to<remove_atom, std::string>::with<bool>,
                     caf::replies_to<get_atom>::with<std::vector<std::string>>,
                     caf::reacts_to<tick_atom>>;

/// Spawns the manager of a local peer; `ctx` is handed to every concern it
/// spawns. It ticks its concerns every `ctx.settings->tick_interval`, on a
/// timer of its own that no other actor can reach. Messages for other peers
/// go to `router`; without one they are logged and dropped.
manager_actor spawn_manager(caf::actor_system& sys, concern_context ctx,
                            router_actor router = {});

} // namespace p2p0mq
