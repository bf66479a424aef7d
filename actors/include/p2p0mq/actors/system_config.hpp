#pragma once

#include <caf/actor_system_config.hpp>

#include "p2p0mq/config.hpp"

namespace p2p0mq {

/// An actor system config that knows p2p0mq: its message types and error
/// category are added, and every tunable of `p2p0mq::config` is an option of
/// the group `p2p0mq`, so a config file (CAF's INI format) or the command line
/// can set it:
///
/// ~~~
/// [p2p0mq]
/// heart-beat-interval=4s
/// message-ttl=30s
/// ~~~
///
/// or `--p2p0mq.heart-beat-interval=2s`. After `parse`, `settings` holds the
/// values read; hand it to `local_peer`.
///
/// It also sets scheduler defaults that suit a process bridging sockets into
/// actors: as many workers as hardware threads (at least 2) instead of CAF's
/// minimum of 4; idle workers that skip the stage of polling with short
/// sleeps (`work-stealing.moderate-poll-attempts = 0`) and, once asleep, look
/// for work to steal every 100 ms instead of every 10 ms
/// (`work-stealing.relaxed-sleep-duration`). Each can be overridden as usual
/// (`--scheduler.max-threads=4`, ...).
class system_config : public caf::actor_system_config {
public:
  system_config();

  /// The local peer settings the options write into.
  config settings;

  /// One line per option of the group `p2p0mq`:
  /// `  --p2p0mq.NAME=VALUE  description`, with the value it holds now (the
  /// default, before `parse`).
  std::string options_help() const;
};

} // namespace p2p0mq
