#pragma once

// A deterministic actor system for tests: CAF's test_coordinator runs every
// scheduled actor on the test's own thread, one message at a time, on a
// virtual clock that moves only when the test says so.

#include <chrono>
#include <cstddef>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "p2p0mq/time.hpp"

namespace p2p0mq::testing {

/// Actor system config with the `testing` scheduler and p2p0mq's types.
class deterministic_config : public caf::actor_system_config {
public:
  deterministic_config();
};

/// Owns a deterministic actor system and drives it.
class deterministic {
public:
  deterministic();
  ~deterministic();

  deterministic(const deterministic&) = delete;
  deterministic& operator=(const deterministic&) = delete;

  /// Runs queued messages until none is left; returns how many ran.
  std::size_t run();

  /// Runs one queued message; returns false when none was queued.
  bool run_once();

  /// Moves virtual time forward by `d`, firing the timeouts that come due,
  /// and runs every message that follows. Returns the timeouts fired.
  std::size_t advance_time(duration d);

  /// Advances virtual time in steps of `step` (running messages in between)
  /// until `pred` holds or `limit` of virtual time has passed. Returns whether
  /// `pred` held.
  bool run_until(const std::function<bool()>& pred, duration limit,
                 duration step = std::chrono::milliseconds{100});

  /// The current virtual time.
  time_point now() const;

  caf::actor_system& sys() noexcept {
    return sys_;
  }

  caf::scheduler::test_coordinator& sched() noexcept {
    return sched_;
  }

private:
  deterministic_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
};

} // namespace p2p0mq::testing
