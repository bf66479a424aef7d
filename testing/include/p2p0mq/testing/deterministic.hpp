#pragma once

// A deterministic actor system for tests: CAF's test_coordinator runs every
// scheduled actor on the test's own thread, one message at a time, on a
// virtual clock that moves only when the test says so.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
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
  virtual ~deterministic();

  deterministic(const deterministic&) = delete;
  deterministic& operator=(const deterministic&) = delete;

  /// Runs queued messages until none is left; returns how many ran.
  std::size_t run();

  /// Runs one queued message; returns false when none was queued.
  bool run_once();

  /// Moves virtual time forward by `d` in one jump: every timeout that comes
  /// due on the way fires at the end (a subclass's own events first), then
  /// every message that follows runs. Returns the timeouts fired. See
  /// `run_for` for time that passes evenly.
  std::size_t advance_time(duration d);

  /// Moves virtual time forward by `d`, firing each timeout at its own time
  /// (the clock reads that time while the messages it causes run), so a
  /// periodic timer fires once per period. Returns the timeouts fired.
  std::size_t run_for(duration d);

  /// Runs for `step` at a time (see `run_for`) until `pred` holds or `limit`
  /// of virtual time has passed. Returns whether `pred` held.
  bool run_until(const std::function<bool()>& pred, duration limit,
                 duration step = std::chrono::milliseconds{100});

  /// The current virtual time.
  time_point now() const;

  /// The messages run so far (by `run`, `run_once` and the calls that move
  /// time).
  std::size_t messages_run() const noexcept {
    return messages_;
  }

  caf::actor_system& sys() noexcept {
    return sys_;
  }

  caf::scheduler::test_coordinator& sched() noexcept {
    return sched_;
  }

protected:
  /// The time of the next event a subclass schedules itself (not a CAF
  /// timer), if any: moving time fires it at its own time, before the CAF
  /// timers of the same instant.
  virtual std::optional<time_point> next_event() const;

  /// Fires the subclass's events due by `now`.
  virtual void fire_events(time_point now);

private:
  deterministic_config cfg_;
  caf::actor_system sys_;
  caf::scheduler::test_coordinator& sched_;
  std::size_t messages_ = 0;
};

/// Where `try_ask` puts the answer.
template <class T>
using answer_ptr = std::shared_ptr<std::optional<caf::expected<T>>>;

namespace detail {

/// Sends one request and keeps its answer. (The request goes out with
/// arguments rather than captures: CAF 0.17 misbehaves when a function actor
/// is spawned without any.)
template <class T, class Handle, class... Ts>
void asker(caf::event_based_actor* self, answer_ptr<T> result, Handle dest,
           Ts... xs) {
  self->request(dest, caf::infinite, std::move(xs)...)
      .then([result](T& x) { result->emplace(std::move(x)); },
            [result](caf::error& err) { result->emplace(std::move(err)); });
}

} // namespace detail

/// Sends a request of `xs` to `dest` from a short-lived actor and runs the
/// system until nothing is left to run. Returns the answer (a value or an
/// error), or nothing when no answer came (the request waits for virtual time
/// to pass, or was lost).
template <class T, class Handle, class... Ts>
std::optional<caf::expected<T>> try_ask(deterministic& sys, const Handle& dest,
                                        Ts... xs) {
  auto result = std::make_shared<std::optional<caf::expected<T>>>();
  sys.sys().spawn(detail::asker<T, Handle, Ts...>, result, dest,
                  std::move(xs)...);
  sys.run();
  return std::move(*result);
}

} // namespace p2p0mq::testing
