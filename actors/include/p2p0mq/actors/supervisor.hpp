#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/actors/interfaces.hpp"

namespace p2p0mq {

/// What a concern on another node needs to know of the local peer whose
/// supervisor it registers with: the supervisor's answer to `(context_atom)`.
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
  /// Its sender, for what concerns ask of it besides outgoing messages
  /// (those go through the supervisor, see `supervisor_actor`).
  sender_actor sender;
  /// What it announces it speaks.
  capabilities speaks;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_context& x) {
  return f(caf::meta::type_name("remote_context"), x.local_uuid, x.host, x.port,
           x.message_ttl, x.requester, x.peers, x.sender, x.speaks);
}

/// The supervisor: starts, restarts and stops the concerns of one local
/// peer and keeps the dispatcher's table of them; the face a concern on
/// another node talks to (see `remote.hpp`).
///
/// | message | from | reply | errors |
/// |---|---|---|---|
/// | `(add_atom, command, concern_factory)` | local peer | none: the concern is spawned now and restarted whenever it fails | `duplicate_concern` |
/// | `(add_atom, command, concern_actor)` | anyone, also on another node | none: a running concern registered; monitored, unregistered when it goes down | `duplicate_concern` |
/// | `(remove_atom, command)` | anyone | whether a concern was registered; a spawned one is stopped | |
/// | `(get_atom)` | anyone | the registered command ids, sorted | |
/// | `(get_atom, command)` | anyone | its concern; an invalid handle when there is none | |
/// | `(context_atom)` | concerns on other nodes | `remote_context` | |
/// | `(outgoing_atom, message, priority, owner_actor)` | concerns on other nodes | none: to the sender on the owner's behalf, with the local uuid as source and a deadline one time-to-live from now on the local clock; a request with id 0 gets the local peer's next id | |
/// | `(outgoing_atom, std::vector<message>, priority, owner_actor)` | concerns on other nodes | none: the same for each, to the sender in one batch | |
///
/// Restarts: a spawned concern that fails is restarted from its factory, at
/// most `concern_max_restarts` times within `concern_restart_window`; then
/// it stays down and the dispatcher drops its messages. A registered one
/// that goes down is unregistered, and its command enters its grace period
/// (see `dispatcher_actor`).
///
/// Stop sequence: when the supervisor exits, its spawned concerns (linked to
/// it) exit with it.
using supervisor_actor = caf::typed_actor<
    caf::reacts_to<add_atom, std::string, concern_factory>,
    caf::reacts_to<add_atom, std::string, concern_actor>,
    caf::replies_to<remove_atom, std::string>::with<bool>,
    caf::replies_to<get_atom>::with<std::vector<std::string>>,
    caf::replies_to<get_atom, std::string>::with<concern_actor>,
    caf::replies_to<context_atom>::with<remote_context>,
    caf::reacts_to<outgoing_atom, message, priority, owner_actor>,
    caf::reacts_to<outgoing_atom, std::vector<message>, priority, owner_actor>>;

/// Spawns the supervisor of a local peer. `ctx` is what every concern it
/// spawns gets (with its `command` filled in); `dispatcher` is told which
/// concern serves which command.
supervisor_actor spawn_supervisor(caf::actor_system& sys, concern_context ctx,
                                  dispatcher_actor dispatcher);

} // namespace p2p0mq
