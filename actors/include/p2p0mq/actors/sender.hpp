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
/// A message that cannot be sent because the next hop is full (back-pressure,
/// not a failure: no `send_failed`) is tried again after
/// `settings->send_retry_delay`. One whose next hop is unreachable, or whose
/// send fails otherwise, is reported `send_failed` to its owner, and queued
/// again after `settings->send_retry_delay` if the owner answers true while
/// its deadline lasts; else (false, or no answer because the owner is gone)
/// it is dropped with the send's error. Messages that wait for a route are
/// dropped at their deadline (`errc::message_expired`), as are queued ones.
/// A message whose next hop the sender picked is routed afresh each time it
/// is queued again. When the last connect to the next hop failed (e.g. its
/// certificate is missing), a send that finds no connection reports that
/// connect's error, which says why.
///
/// Bounds: the sender holds at most `settings->send_queue_limit` messages (0:
/// no limit), counting those queued, waiting for a route, waiting to be tried
/// again and waiting for their owner's answer; a message beyond is dropped at
/// once (`errc::send_queue_full`).
///
/// Time: one timer, set to the earliest route deadline or retry time while
/// any message waits for one. CAF cannot cancel it: if the message it was set
/// for leaves earlier, it still fires once, and sets no other.
///
/// Stop sequence: when the sender exits, every message still queued or
/// waiting (for a route, a retry or its owner's answer) is reported `dropped`
/// to its owner (`errc::local_peer_stopped`), then the transport is destroyed
/// (closing the socket). Messages still in its mailbox when it exits are not
/// seen, so stop the concerns that hand it messages first.
sender_actor spawn_sender(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          std::unique_ptr<transport> wire);

} // namespace p2p0mq
