#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace p2p0mq {

/// How much a log line matters; a category logs the lines at or above its
/// level.
enum class log_level : std::uint8_t {
  error,
  warning,
  info,
  debug,
  trace,
};

/// The part of p2p0mq a log line comes from.
enum class log_category : std::uint8_t {
  wire,
  connector,
  heart_beat,
  router,
  security,
  store,
  concerns,
  sender,
  app,
};

/// Number of `log_category` values.
inline constexpr std::size_t log_category_count = 9;

/// Returns `"error"`, `"warning"`, `"info"`, `"debug"` or `"trace"`.
std::string_view to_string(log_level x) noexcept;

/// Returns the category's name, e.g. `"heart-beat"`.
std::string_view to_string(log_category x) noexcept;

/// Parses a level name as returned by `to_string`.
std::optional<log_level> parse_log_level(std::string_view name) noexcept;

/// Parses a category name as returned by `to_string`.
std::optional<log_category> parse_log_category(std::string_view name) noexcept;

/// Whether a line of `level` in `cat` is written. Cheap: one atomic load.
bool log_enabled(log_level level, log_category cat) noexcept;

/// Sets the level of every category (default: `warning`).
void set_log_level(log_level level) noexcept;

/// Sets the level of one category.
void set_log_level(log_category cat, log_level level) noexcept;

/// Receives each finished line (without trailing newline). The default sink
/// writes the line and a newline to standard error in one call.
using log_sink = std::function<void(log_level, log_category, std::string_view)>;

/// Replaces the sink; an empty function restores the default. Call it before
/// actors run (it is not synchronised with logging threads).
void set_log_sink(log_sink sink);

/// Writes one line through the sink: `"<level> <category>: <text>"` for the
/// default sink.
void write_log_line(log_level level, log_category cat, std::string_view text);

/// The most bytes of a value `quote_bytes` shows by default: more than any
/// routing id (255 bytes), uuid file name or Z85 key holds.
inline constexpr std::size_t quote_limit = 256;

/// Quotes bytes that came from outside for a log line, where an attacker
/// chooses them: `"` + the bytes + `"`, printable ASCII as it is (`"` and
/// `\` preceded by `\`), `\n`, `\r` and `\t` for those, every other byte
/// as `\xNN`. A value longer than `limit` bytes shows its first `limit`
/// bytes, then `...` and its length: `"abc"... (300 bytes)`. The result is
/// printable ASCII, on one line, whatever `x` holds.
std::string quote_bytes(std::string_view x, std::size_t limit = quote_limit);

/// Logs the concatenation of `xs` (anything `std::ostream` prints) when
/// `log_enabled(level, cat)`.
template <class... Ts>
void log(log_level level, log_category cat, const Ts&... xs) {
  if (!log_enabled(level, cat))
    return;
  std::ostringstream out;
  (out << ... << xs);
  write_log_line(level, cat, out.str());
}

} // namespace p2p0mq
