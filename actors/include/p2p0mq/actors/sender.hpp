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
/// Rounds: a fast message queued while the queues are empty and no round is
/// pending goes at once (a round would send it first); otherwise a round
/// follows (all of fast, the oldest
/// message of each destination in medium, one of slow), and another right
/// after it while messages remain, so that under load each round takes many
/// messages. It never wakes up when idle. A batch handed over in one actor
/// message is queued whole before its round runs. The owner of messages
/// that one round sent hears of them in one `sent`, in the order they went.
///
/// A full next hop (ZeroMQ's high-water mark: back-pressure, not a failure,
/// so no `send_failed`): the message that found it full waits, and every
/// later message for that hop lines up behind it without a ZeroMQ call.
/// After `settings->send_blocked_delay` only the first of the line is tried
/// again; once it goes, the line follows in order until the pipe is full
/// again. In line, a message past its deadline is dropped (expired), and
/// one whose next hop the routing rules now pick differently leaves the
/// line for its new hop. A slow reader costs the sender one attempt per
/// delay, whatever it holds for it. One whose next hop is unreachable, or whose
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
/// Time: one timer, set to the earliest route deadline or retry time (of a
/// retry its owner asked for, or of a line for a full hop) while any message
/// waits for one. CAF cannot cancel it: if the message it was set
/// for leaves earlier, it still fires once, and sets no other.
///
/// Routing rules, for a message with an empty `next_hop` (one with a
/// `next_hop` goes there as it is):
///
/// 1. to its `to` when that peer is CONNECTED;
/// 2. when it is UNREACHABLE, only heart-beats (`hb`) go (through its `via`
///    if it has one), other messages wait;
/// 3. back the way the peer's messages came, when we forward them: its
///    *reverse path*, the previous hop of a message from it that we
///    forwarded, while one came that way within
///    `config::unresponsive_threshold`. A newer request of the peer (a
///    higher id: a peer numbers its messages) moves the path to the way it
///    came; an older request, or a reply, on another way moves it only once
///    the path is no longer fresh. It is skipped for a message that came
///    that way. Waiting messages for the peer go as soon as it has one;
/// 4. through the peer's `via` when it is ROUTED;
/// 5. otherwise (unknown, INITIAL, CONNECTING, NO_CONNECTION) through the
///    default route (`config::default_route`) when one is set and that peer
///    is CONNECTED and relays for others (not a legacy peer, see
///    `peer::relays`);
/// 6. otherwise the message waits, until its deadline, for a route; each
///    destination that starts to wait is told to the route watchers
///    (`wanted_atom`, the ask-around concern), and `find_atom` lists them
///    all (except UNREACHABLE peers: the heart-beat rules decide their fate).
///
/// A message never goes back to its `previous_hop` (the peer it came from,
/// for a message we forward): when the rules pick it, the message waits as
/// if there were no route. Waiting messages are looked at again whenever the
/// route to their destination, or to the default route, changes.
///
/// Stop sequence: `(stop_atom)` drops every message still queued or waiting
/// (for a route, a retry or its owner's answer) and tells its owner
/// (`errc::local_peer_stopped`), closes the transport (the socket), and
/// answers how many it dropped. From then on it drops every message handed
/// to it at once, telling its owner, until it exits: stop the sender before
/// the concerns that hand it messages, and let it exit after them.
sender_actor spawn_sender(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          std::unique_ptr<transport> wire);

} // namespace p2p0mq
