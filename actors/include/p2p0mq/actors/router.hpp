#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"

namespace p2p0mq {

/// Counters of a router, a snapshot. Every message the router takes in ends
/// in exactly one of `sent` and `dropped`; `received - sent - dropped`
/// messages are on their way (held by the sender).
struct router_stats {
  /// Messages for other peers the router took in.
  std::uint64_t received = 0;
  /// Messages handed to ZeroMQ towards their next hop (final).
  std::uint64_t sent = 0;
  /// Messages dropped (final): no route before their time-to-live ran out,
  /// a loop, the sender full or stopping.
  std::uint64_t dropped = 0;
  /// Of `dropped`, the messages dropped because they came round a loop.
  std::uint64_t looped = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats& x) {
  return f(caf::meta::type_name("router_stats"), x.received, x.sent, x.dropped,
           x.looped);
}

/// The router: forwards the messages whose final destination is another
/// peer, without handing them to any concern. It owns the messages it
/// forwards and hears their outcomes (see `owner_actor`).
///
/// | message | from | reply |
/// |---|---|---|
/// | `(incoming_atom, std::vector<message>)` | dispatcher | none: forward each message (their `to` is not the local uuid), to the sender in one batch |
/// | `(incoming_atom, message)` | anyone | none: forward one message |
/// | `(sent_atom, std::vector<message>)` | sender | none: counted `sent` |
/// | `(send_failed_atom, message, error)` | sender | `true`: tried again while its deadline lasts (its next hop picked afresh) |
/// | `(dropped_atom, message, error)` | sender | none: logged and counted `dropped` |
/// | `(stats_atom)` | anyone | `router_stats` |
///
/// Forwarding: each message goes to the sender with fast priority, its next
/// hop left to the sender's routing rules (see `sender_actor`: directly when
/// the destination is CONNECTED, through its `via`, through the default
/// route, else held until its deadline while the ask-around concern looks
/// for the destination), its previous hop kept so that it never goes back
/// there, and a deadline one `settings->message_ttl` from when the router
/// took it in (time-to-live is local: it starts afresh at each hop).
///
/// Loops: the wire carries no hop count, so the router drops (counted
/// `looped`) a message whose source is the local peer, and a message it has
/// forwarded already within the last second (same source, destination,
/// kind, id, command and payload): a message that came round a loop of
/// stale routes. It tells the peer table (`(lost_atom, to)`) that the route
/// to the message's destination loops, so that a ROUTED destination loses
/// that route and is looked for afresh.
///
/// Its log: every drop goes through a `log_limiter` (kind
/// `log_kinds::dropped_in_transit`, `settings` giving its limits), keyed by
/// the message's previous hop (the peer that handed it to us, authenticated
/// when encryption is on; its source frame is the sender's to choose): per
/// previous hop, the first drop in full, with every identity quoted, then
/// at most one summary per interval counting drops by reason (`expired`,
/// `loop`, `send queue full`, ...).
///
/// Stop sequence: the router holds no messages itself; the ones it handed to
/// the sender are reported dropped by the sender when that stops.
using router_actor =
    owner_actor::extend<caf::reacts_to<incoming_atom, std::vector<message>>,
                        caf::reacts_to<incoming_atom, message>,
                        caf::replies_to<stats_atom>::with<router_stats>>;

/// Spawns the router of the local peer `local_uuid`; it hands the messages it
/// forwards to `sender`, and tells `peers` of routes that loop (may be null).
router_actor spawn_router(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          sender_actor sender, peer_table_actor peers = {});

} // namespace p2p0mq
