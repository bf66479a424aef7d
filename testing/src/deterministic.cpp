#include "p2p0mq/testing/deterministic.hpp"

#include <algorithm>

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
  auto n = sched_.run();
  messages_ += n;
  return n;
}

bool deterministic::run_once() {
  if (!sched_.try_run_once())
    return false;
  ++messages_;
  return true;
}

std::optional<time_point> deterministic::next_event() const {
  return std::nullopt;
}

void deterministic::fire_events(time_point) {
  // nop
}

std::size_t deterministic::advance_time(duration d) {
  auto& clock = sched_.clock();
  clock.current_time += d;
  fire_events(clock.current_time);
  run();
  auto fired = sched_.advance_time(duration::zero());
  run();
  return fired;
}

std::size_t deterministic::run_for(duration d) {
  run();
  auto& clock = sched_.clock();
  auto end = clock.current_time + d;
  std::size_t fired = 0;
  for (;;) {
    auto timer = clock.has_pending_timeout() ? clock.schedule().begin()->first
                                             : time_point::max();
    auto own = next_event().value_or(time_point::max());
    if (std::min(timer, own) > end)
      break;
    if (own <= timer) {
      // The subclass's events of an instant come before its timers.
      clock.current_time = std::max(clock.current_time, own);
      fire_events(own);
    } else {
      // Sets the clock to the timeout's own time.
      clock.trigger_timeout();
      ++fired;
    }
    run();
  }
  clock.current_time = end;
  return fired;
}

bool deterministic::run_until(const std::function<bool()>& pred, duration limit,
                              duration step) {
  run();
  for (duration passed{}; !pred(); passed += step) {
    if (passed >= limit)
      return false;
    run_for(std::min(step, limit - passed));
  }
  return true;
}

time_point deterministic::now() const {
  return sched_.clock().now();
}

} // namespace p2p0mq::testing
