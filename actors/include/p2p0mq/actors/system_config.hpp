#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

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
/// values read; hand it to `local_peer`:
///
/// ~~~
/// p2p0mq::system_config cfg;
/// if (auto err = cfg.parse(argc, argv))
///   ... // cfg.render(err) says what is wrong
/// caf::actor_system sys{cfg};
/// p2p0mq::local_peer peer{sys, cfg.settings};
/// ~~~
///
/// A boolean option takes every spelling on the command line: `--NAME`
/// alone (true), `--NAME=true` and `--NAME=false`, e.g.
/// `--p2p0mq.encryption=false`. (CAF's own parser takes only the first.)
/// A value given on the command line wins over the config file.
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

  /// Reads the config file and then the command line `args` (without the
  /// program name), as CAF's `parse` does, and also takes `--NAME=true` and
  /// `--NAME=false` for every boolean option. Errors: CAF's parser errors,
  /// and `errc::invalid_config` for a boolean given another value.
  caf::error parse(string_list args, const char* ini_file_cstr = nullptr);

  /// As above, with the config file read from `ini`.
  caf::error parse(string_list args, std::istream& ini);

  /// As above, with the arguments of `main` (`argv[0]` is the program name).
  caf::error parse(int argc, char** argv, const char* ini_file_cstr = nullptr);

  /// As above, with the arguments of `main` and the config file read from
  /// `ini`.
  caf::error parse(int argc, char** argv, std::istream& ini);

  /// One line per option of the group `p2p0mq`:
  /// `  --p2p0mq.NAME=VALUE  description`, with the value it holds now (the
  /// default, before `parse`).
  std::string options_help() const;

private:
  /// Removes `--NAME=VALUE` of the boolean options from `args` into
  /// `booleans_`, to be set after CAF's parser has run.
  caf::error take_booleans(string_list& args);

  /// Sets what `take_booleans` took.
  void apply_booleans();

  std::vector<std::pair<std::string, bool>> booleans_;
};

} // namespace p2p0mq
