#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/peer_store.hpp"

namespace p2p0mq {

/// Spawns the peer table of a local peer; it tells `sender` every change of a
/// peer's state or route. See `peer_table_actor` for its protocol.
///
/// With a `store`, the table owns it: it loads the stored peers before it
/// handles its first message, syncs every `store_sync_interval` (see
/// `peer_store::sync`; rows other programs inserted become INITIAL peers, so
/// the connector contacts them), and syncs a last time when it exits, then
/// closes the store. Syncs run inline: they are short (see BENCHMARKS.md) and
/// a periodic sync waits at most 100 ms for a lock another program holds (it
/// tries again at the next interval); the first and the last wait up to
/// `store_lock_wait`. A failed sync is logged (category `store`) and changes
/// nothing.
peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender,
                                  std::unique_ptr<peer_store> store = nullptr);

} // namespace p2p0mq
