#pragma once

// Log levels changed by a test are global to the test process: a guard puts
// every category's level back as it was when the test ends, so that tests
// run one after the other in one process (the test program run by hand)
// see the levels they expect.

#include <array>
#include <cstddef>

#include "p2p0mq/log.hpp"

namespace p2p0mq::testing {

class log_levels_guard {
public:
  log_levels_guard() {
    for (std::size_t i = 0; i < log_category_count; ++i)
      levels_[i] = level_of(static_cast<log_category>(i));
  }

  ~log_levels_guard() {
    for (std::size_t i = 0; i < log_category_count; ++i)
      set_log_level(static_cast<log_category>(i), levels_[i]);
  }

  log_levels_guard(const log_levels_guard&) = delete;
  log_levels_guard& operator=(const log_levels_guard&) = delete;

private:
  /// The level of `cat`: the most detailed one it writes.
  static log_level level_of(log_category cat) {
    for (auto level : {log_level::trace, log_level::debug, log_level::info,
                       log_level::warning})
      if (log_enabled(level, cat))
        return level;
    return log_level::error;
  }

  std::array<log_level, log_category_count> levels_{};
};

} // namespace p2p0mq::testing
