#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/config.hpp"

namespace p2p0mq {

/// Spawns the sender of the local peer `local_uuid`, which becomes the only
/// user of `wire`. See `sender_actor` for its protocol.
///
/// Rounds: when messages are queued the sender runs a round at once (all of
/// fast, the oldest message of each destination in medium, one of slow) and
/// another right after it while messages remain; it never wakes up when idle.
/// A message that cannot be sent because the next hop is full waits for a
/// later round; one whose next hop is unreachable is reported `send_failed`
/// to its owner, and queued again after `settings->send_retry_delay` if the
/// owner says so (while its deadline lasts), else dropped. Messages that wait
/// for a route are dropped at their deadline.
///
/// Stop sequence: when the sender exits, every message still queued or
/// waiting is reported `dropped` to its owner (`errc::local_peer_stopped`),
/// then the transport is destroyed (closing the socket).
sender_actor spawn_sender(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          std::unique_ptr<transport> wire);

} // namespace p2p0mq
