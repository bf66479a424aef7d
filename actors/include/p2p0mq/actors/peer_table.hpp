#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"

namespace p2p0mq {

/// Spawns the peer table of a local peer; it tells `sender` every change of a
/// peer's state or route. See `peer_table_actor` for its protocol.
peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender);

} // namespace p2p0mq
