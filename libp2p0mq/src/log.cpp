#include "p2p0mq/log.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <string>

namespace p2p0mq {

namespace {

/// The level of each category, `warning` until set.
struct level_table {
  level_table() {
    for (auto& x : levels)
      x.store(static_cast<std::uint8_t>(log_level::warning));
  }
  std::array<std::atomic<std::uint8_t>, log_category_count> levels;
};

level_table table;

log_sink& current_sink() {
  static log_sink sink;
  return sink;
}

constexpr std::array<log_level, 5> all_levels = {
    log_level::error, log_level::warning, log_level::info, log_level::debug,
    log_level::trace};

} // namespace

std::string_view to_string(log_level x) noexcept {
  switch (x) {
  case log_level::error:
    return "error";
  case log_level::warning:
    return "warning";
  case log_level::info:
    return "info";
  case log_level::debug:
    return "debug";
  case log_level::trace:
    return "trace";
  }
  return "<unknown log_level>";
}

std::string_view to_string(log_category x) noexcept {
  switch (x) {
  case log_category::wire:
    return "wire";
  case log_category::connector:
    return "connector";
  case log_category::heart_beat:
    return "heart-beat";
  case log_category::router:
    return "router";
  case log_category::security:
    return "security";
  case log_category::store:
    return "store";
  case log_category::concerns:
    return "concerns";
  case log_category::sender:
    return "sender";
  case log_category::app:
    return "app";
  }
  return "<unknown log_category>";
}

std::optional<log_level> parse_log_level(std::string_view name) noexcept {
  for (auto x : all_levels)
    if (to_string(x) == name)
      return x;
  return std::nullopt;
}

std::optional<log_category> parse_log_category(std::string_view name) noexcept {
  for (std::size_t i = 0; i < log_category_count; ++i) {
    auto x = static_cast<log_category>(i);
    if (to_string(x) == name)
      return x;
  }
  return std::nullopt;
}

bool log_enabled(log_level level, log_category cat) noexcept {
  auto i = static_cast<std::size_t>(cat);
  return i < log_category_count &&
         static_cast<std::uint8_t>(level) <=
             table.levels[i].load(std::memory_order_relaxed);
}

void set_log_level(log_level level) noexcept {
  for (auto& x : table.levels)
    x.store(static_cast<std::uint8_t>(level), std::memory_order_relaxed);
}

void set_log_level(log_category cat, log_level level) noexcept {
  auto i = static_cast<std::size_t>(cat);
  if (i < log_category_count)
    table.levels[i].store(static_cast<std::uint8_t>(level),
                          std::memory_order_relaxed);
}

void set_log_sink(log_sink sink) {
  current_sink() = std::move(sink);
}

std::string quote_bytes(std::string_view x, std::size_t limit) {
  static constexpr char digits[] = "0123456789abcdef";
  auto shown = x.substr(0, limit);
  std::string result;
  result.reserve(shown.size() + 2);
  result += '"';
  for (auto c : shown) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
    case '\\':
      result += '\\';
      result += c;
      break;
    case '\n':
      result += "\\n";
      break;
    case '\r':
      result += "\\r";
      break;
    case '\t':
      result += "\\t";
      break;
    default:
      if (byte < 0x20 || byte > 0x7e) {
        result += "\\x";
        result += digits[byte >> 4];
        result += digits[byte & 0x0f];
      } else {
        result += c;
      }
    }
  }
  result += '"';
  if (shown.size() < x.size()) {
    result += "... (";
    result += std::to_string(x.size());
    result += " bytes)";
  }
  return result;
}

void write_log_line(log_level level, log_category cat, std::string_view text) {
  if (auto& sink = current_sink()) {
    sink(level, cat, text);
    return;
  }
  std::string line;
  line.reserve(text.size() + 24);
  line += to_string(level);
  line += ' ';
  line += to_string(cat);
  line += ": ";
  line += text;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace p2p0mq
