#pragma once

// Local peers on 127.0.0.1 in one actor system and one ZeroMQ context, for
// the loopback tests of a test case.

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

namespace p2p0mq::testing {

struct loopback {
  loopback() : sys(cfg) {
  }

  /// Starts a local peer with `settings`, sharing the context.
  std::unique_ptr<local_peer> start(const config& settings) {
    auto result = std::make_unique<local_peer>(sys, settings, zmq_context);
    auto err = result->start();
    INFO(render(err));
    REQUIRE(!err);
    return result;
  }

  /// Starts a local peer with `test_settings(uuid)`.
  std::unique_ptr<local_peer> start(const std::string& uuid) {
    return start(test_settings(uuid));
  }

  /// Whether `a` sees `b` in `state`.
  static bool sees(local_peer& a, const local_peer& b, peer_state state) {
    auto p = a.find_peer(b.uuid());
    return p && p->state == state;
  }

  /// Whether `a` and `b` see each other CONNECTED within `limit`.
  bool connected_both_ways(local_peer& a, local_peer& b,
                           std::chrono::milliseconds limit) {
    return wait_until(
        sys,
        [&] {
          return sees(a, b, peer_state::connected) &&
                 sees(b, a, peer_state::connected);
        },
        limit);
  }

  system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<zmq::context_t> zmq_context =
      std::make_shared<zmq::context_t>(1);
};

} // namespace p2p0mq::testing
