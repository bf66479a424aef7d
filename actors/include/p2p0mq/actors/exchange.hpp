#pragma once

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the peer-exchange concern.
inline constexpr const char* exchange_command = "pex";

/// The peer-exchange concern (`pex`): grows and keeps a well-connected mesh
/// from whatever peers the local peer was told of, by sharing with its
/// direct peers a sample of the addresses of theirs (docs/PROTOCOL.md, "Peer
/// exchange"). The assembly starts it, and announces `exchange` in `hello`,
/// when `discovery_settings::target_degree` is above 0.
///
/// - It talks only to CONNECTED peers that announced `exchange` in their
///   `hello`: never to a legacy (Python) peer, never through relays.
/// - Rounds: below the target degree, one every `config::tick_interval`;
///   at it or above, one every `exchange_interval`. A round sends one
///   random exchanging neighbour a `sample` request carrying our degree and
///   a sample of the addresses we know (at most `exchange_sample`: half of
///   them our direct peers, none the neighbour itself, none whose last
///   reported degree reaches twice the target; none at all once at the
///   target, when the round only asks); the neighbour answers with a
///   sample of its own.
/// - Dialling: with fewer direct links than the target (counting those
///   dialled and not yet answered), it asks the peer table to greet peers
///   named in samples (`learn_atom` with `peer_origin::exchange`): a new
///   peer, or a ROUTED one (a direct link beats a route). At most
///   `exchange_dials` per `tick_interval`; an address or a uuid dialled once
///   is not dialled again for `reconnect_wait`.
/// - Letting go: above twice the target, it asks the neighbours with the
///   most links (reported above the target; never one the user added or the
///   store holds) to `leave`. One that has more than the target itself, and
///   did not get us from the user, accepts; then both remove the other from
///   their peer tables, and neither dials the other for `reconnect_wait`.
/// - Bad input (a payload it cannot parse, a sample larger than the
///   protocol allows) is dropped and logged through `log_dropped`.
///
/// Counters (`stats_atom`): `rounds`, `samples_received`, `dials`,
/// `leaves_asked`, `leaves_accepted`, `links_let_go`, `dropped`.
concern_factory exchange();

} // namespace p2p0mq
