#pragma once

#include <cstddef>
#include <string>

namespace p2p0mq::bench {

/// Times of peer store syncs with one table size, in milliseconds.
struct sync_times {
  /// The first sync: every peer inserted.
  double first = 0;
  /// A sync with nothing changed (median).
  double unchanged = 0;
  /// A sync with a tenth of the addresses changed (median).
  double changed = 0;
  /// Opening the store and loading every peer, as a restarted peer does.
  double reopen = 0;
};

/// Times syncs of a store holding `peers` peers, in a database under `dir`;
/// medians over `repetitions` syncs.
sync_times time_syncs(const std::string& dir, std::size_t peers,
                      std::size_t repetitions);

/// Makes a fresh directory under the system's temporary directory.
std::string make_temp_dir();

/// Removes `dir` and everything in it.
void remove_dir(const std::string& dir);

} // namespace p2p0mq::bench
