#pragma once

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the heart-beat concern.
inline constexpr const char* heart_beat_command = "hb";

/// The heart-beat concern (`hb`): keeps peers alive and notices when they go
/// silent.
///
/// - On each tick it asks the peer table which peers are due
///   (`heart_beat_atom`; the table applies the UNREACHABLE and NO_CONNECTION
///   rules and schedules the next beat) and sends each an `hb` request `{}`
///   with fast priority.
/// - An incoming `hb` request is answered with `{}`; an `hb` request or reply
///   resets the peer's timers and makes it CONNECTED or ROUTED by its path.
concern_factory heart_beat();

} // namespace p2p0mq
