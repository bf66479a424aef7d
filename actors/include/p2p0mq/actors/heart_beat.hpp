#pragma once

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the heart-beat concern.
inline constexpr const char* heart_beat_command = "hb";

/// The heart-beat concern (`hb`): keeps peers alive and notices when they go
/// silent. A `concern_base` like any user's concern.
///
/// - It takes the heart-beats the peer table makes due
///   (`take_due(due_kind::heart_beat)`; the table applies the UNREACHABLE and
///   NO_CONNECTION rules and schedules the next beat) and sends each peer an
///   `hb` request `{}` with fast priority.
/// - An incoming `hb` request from a known peer is answered with `{}` (it
///   watches the peer table to know which peers are known; others get no
///   answer); an `hb` request or reply resets the peer's timers and makes it
///   CONNECTED or ROUTED by its path (`heard_atom`).
/// - Round trips: a reply to one of our beats (same peer and message id)
///   tells the peer table the time from when the sender handed the beat to
///   ZeroMQ (from when the concern handed it to the sender, if the reply
///   comes first) to the reply's arrival, on the actor system's clock. A
///   beat unanswered for a time-to-live is forgotten.
concern_factory heart_beat();

} // namespace p2p0mq
