#pragma once

// Waiting for a condition in tests that run real threads: check, then wait a
// little on a scoped actor's mailbox (not a sleep: the wait ends early if a
// message comes), until the condition holds or the time limit passes.

#include <chrono>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>

namespace p2p0mq::testing {

/// Returns whether `pred` held within `limit`.
inline bool
wait_until(caf::actor_system& sys, const std::function<bool()>& pred,
           std::chrono::milliseconds limit,
           std::chrono::milliseconds step = std::chrono::milliseconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  caf::scoped_actor self{sys};
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    self->receive(caf::after(step) >> [] {});
  }
}

} // namespace p2p0mq::testing
