#pragma once

#include <chrono>

namespace p2p0mq {

/// The clock every time-based rule is measured against. It is the clock of
/// CAF's `actor_clock` (`std::chrono::steady_clock`), so rules evaluated with
/// times read from an actor system also work under CAF's deterministic test
/// coordinator, whose virtual clock uses the same `time_point` type.
using clock_type = std::chrono::steady_clock;

/// A point in time on `clock_type`.
using time_point = clock_type::time_point;

/// A span of time on `clock_type`.
using duration = clock_type::duration;

} // namespace p2p0mq
