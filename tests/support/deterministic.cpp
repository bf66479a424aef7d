#include "support/deterministic.hpp"

#include <caf/atom.hpp>
#include <caf/detail/test_actor_clock.hpp>

#include "p2p0mq/actors/types.hpp"

namespace p2p0mq::testing {

deterministic_config::deterministic_config() {
  set("scheduler.policy", caf::atom("testing"));
  p2p0mq::add_message_types(*this);
}

deterministic::deterministic()
    : sys_(cfg_),
      sched_(
          dynamic_cast<caf::scheduler::test_coordinator&>(sys_.scheduler())) {
  // Start from an arbitrary point well away from the clock's epoch, so rules
  // that subtract durations never meet the epoch.
  sched_.clock().current_time += std::chrono::hours{24};
}

deterministic::~deterministic() {
  run();
}

std::size_t deterministic::run() {
  return sched_.run();
}

bool deterministic::run_once() {
  return sched_.try_run_once();
}

std::size_t deterministic::advance_time(duration d) {
  auto fired = sched_.advance_time(d);
  run();
  return fired;
}

bool deterministic::run_until(const std::function<bool()>& pred, duration limit,
                              duration step) {
  run();
  for (duration passed{}; !pred(); passed += step) {
    if (passed >= limit)
      return false;
    advance_time(step);
  }
  return true;
}

time_point deterministic::now() const {
  return sched_.clock().now();
}

} // namespace p2p0mq::testing
