#pragma once

#include <caf/fwd.hpp>

namespace p2p0mq {

/// Adds everything p2p0mq's actors exchange to `cfg`: its message types (so
/// they can cross nodes through CAF's middleman) and the renderer of its error
/// category. Call it once on every actor system config that runs local peers
/// or talks to them.
void add_message_types(caf::actor_system_config& cfg);

} // namespace p2p0mq
