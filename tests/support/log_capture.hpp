#pragma once

// Capturing p2p0mq's log lines in tests. The capture is made once per test
// process, and its sink installed by every call of `install`, before the
// test's actors start: a test run earlier in the same process may have put
// the default sink back (each test case runs in a process of its own under
// ctest, but not when the test program is run by hand). The sink keeps every
// line it sees, beside writing it to standard error as the default sink
// does.

#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "p2p0mq/log.hpp"

namespace p2p0mq::testing {

class log_capture {
public:
  /// Installs the capture sink and returns the capture. Call it before the
  /// test's actors start. The environment variable `P2P0MQ_TEST_LOG_LEVEL`
  /// (e.g. `debug`) raises the level of every category, to see more of a
  /// failing test.
  static log_capture& install() {
    static log_capture* instance = [] {
      if (auto name = std::getenv("P2P0MQ_TEST_LOG_LEVEL"))
        if (auto level = parse_log_level(name))
          set_log_level(*level);
      return new log_capture;
    }();
    set_log_sink([result = instance](log_level level, log_category cat,
                                     std::string_view text) {
      std::string line{to_string(level)};
      line += ' ';
      line += to_string(cat);
      line += ": ";
      line += text;
      std::cerr << line + '\n';
      std::lock_guard<std::mutex> guard{result->mutex_};
      result->lines_.push_back(std::move(line));
    });
    return *instance;
  }

  /// The number of lines seen so far: a mark for `contains`.
  std::size_t mark() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return lines_.size();
  }

  /// Whether a line seen since `from` holds every one of `parts`.
  bool contains(std::size_t from, const std::vector<std::string>& parts) const {
    return count(from, parts) > 0;
  }

  /// The lines seen since `from` that hold every one of `parts`.
  std::size_t count(std::size_t from,
                    const std::vector<std::string>& parts) const {
    std::lock_guard<std::mutex> guard{mutex_};
    std::size_t result = 0;
    for (auto i = from; i < lines_.size(); ++i) {
      auto all = true;
      for (const auto& part : parts)
        all = all && lines_[i].find(part) != std::string::npos;
      if (all)
        ++result;
    }
    return result;
  }

  /// The lines seen since `from` that hold every one of `parts`.
  std::vector<std::string> lines(std::size_t from,
                                 const std::vector<std::string>& parts) const {
    std::lock_guard<std::mutex> guard{mutex_};
    std::vector<std::string> result;
    for (auto i = from; i < lines_.size(); ++i) {
      auto all = true;
      for (const auto& part : parts)
        all = all && lines_[i].find(part) != std::string::npos;
      if (all)
        result.push_back(lines_[i]);
    }
    return result;
  }

private:
  log_capture() = default;

  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

} // namespace p2p0mq::testing
