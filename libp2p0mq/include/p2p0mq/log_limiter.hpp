#pragma once

// Log lines whose cause is remote input, limited so that nobody outside can
// multiply them. Every event is counted exactly; per source and kind, the
// first event is logged in full, then at most one summary line per interval
// says how many more came and why:
//
//   warning wire: dropped a message of 6 frames from "evil-0001"
//   warning wire: dropped 12,345 malformed messages from "evil-0001" in the
//   last 10 s: 12,000 bad frame count, 345 bad payload
//
// The limiter is a plain value with one owner (an actor's state, a socket
// thread): no locks, no clock. The owner passes the time in, so tests drive
// it in virtual time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "p2p0mq/log.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

struct config;
struct message;

/// The settings of a `log_limiter`.
struct log_limits {
  /// Per source and kind, the least time between two lines: the events in
  /// between are counted and summarised in the next line.
  duration interval = std::chrono::seconds{10};

  /// The most sources a limiter follows at once; the events of any other
  /// source are counted under one `*` row per kind until one is forgotten
  /// (a source is forgotten once a whole interval passed without an event).
  std::size_t max_sources = 64;
};

/// The limits a local peer's settings ask for: `config::log_summary_interval`
/// and `config::log_max_sources`.
log_limits log_limits_of(const config& cfg);

/// A kind of event caused by remote input, and how its lines read. Kinds
/// are constants with static storage: a limiter keeps views of their text.
struct log_kind {
  /// Names the kind in counters, e.g. `"malformed message"`.
  std::string_view name;

  /// Where its lines go.
  log_category category;

  /// How much its lines matter.
  log_level level;

  /// The words of its summary line: `<verb> <count> <noun> <relation>
  /// <source>`, e.g. "dropped 12 malformed messages from "x"".
  std::string_view verb;
  std::string_view noun;
  std::string_view relation;
};

/// The kinds of remote-caused events of the library.
namespace log_kinds {

/// The receiver dropped a message it could not decode.
inline constexpr log_kind malformed_message{
    "malformed message", log_category::wire,   log_level::warning,
    "dropped",           "malformed messages", "from"};

/// The receiver dropped a message whose previous hop does not own the key
/// its connection was authenticated with.
inline constexpr log_kind impostor{"impostor",
                                   log_category::security,
                                   log_level::warning,
                                   "dropped",
                                   "messages under another peer's uuid",
                                   "from"};

/// A CURVE or ZMTP handshake failed (socket monitor).
inline constexpr log_kind failed_handshake{
    "failed handshake",  log_category::security,
    log_level::warning,  "saw",
    "failed handshakes", "with"};

/// The authenticator rejected a client.
inline constexpr log_kind rejected_client{
    "rejected client",  log_category::security,
    log_level::warning, "rejected",
    "clients",          "at"};

/// The router dropped a message it forwards for other peers.
inline constexpr log_kind dropped_in_transit{
    "dropped in transit",
    log_category::router,
    log_level::warning,
    "dropped",
    "messages on their way to other peers",
    "from"};

/// The sender could not connect to an address a peer announced.
inline constexpr log_kind failed_connect{
    "failed connect", log_category::sender, log_level::warning,
    "failed",         "connects",           "to"};

/// A concern dropped a `hello` whose payload it cannot use.
inline constexpr log_kind bad_hello{"bad hello",        log_category::connector,
                                    log_level::warning, "dropped",
                                    "hello messages",   "from"};

/// A concern dropped an `r` message whose payload it cannot use.
inline constexpr log_kind bad_ask_around{
    "bad r",   log_category::router, log_level::warning,
    "dropped", "r messages",         "from"};

/// The dispatcher dropped a message for a command no concern serves.
inline constexpr log_kind unknown_command{
    "unknown command", log_category::concerns,          log_level::warning,
    "dropped",         "messages for unknown commands", "from"};

} // namespace log_kinds

/// Limits the log lines of events caused by remote input, per source and
/// kind, and counts every event exactly.
///
/// For each (source, kind): the first event is admitted, and its caller
/// writes its line in full. The events of the next `interval` are counted,
/// by reason; the first event or `flush` at or after the end of the interval
/// writes one summary line of them (`dropped 12,345 malformed messages from
/// "x" in the last 10 s: 12,000 bad frame count, 345 bad payload`) and
/// starts the next interval. A (source, kind) with nothing to summarise at
/// the end of its interval is forgotten, so its next event is admitted in
/// full again. Lines thus come at most once per interval per (source, kind):
/// over a span of time T, at most `1 + T / interval` lines per source and
/// kind.
///
/// Bounds: the limiter follows at most `max_sources` sources (over all
/// kinds) and keeps at most 8 reasons per row and 32 per kind (the rest
/// count as "other reasons"); a source's first 256 bytes tell it from
/// others. While it follows `max_sources` sources, events of any other
/// source go to the `*` row of their kind, whose first event is admitted
/// (its caller's line names the real source) and whose later ones are
/// summarised as coming "from other sources". A row forgotten frees its
/// place for another source only an interval after its last line, so in any
/// span of one interval the limiter writes at most `max_sources` lines for
/// the sources it follows plus one per kind for its `*` row, however many
/// sources there are; its memory is bounded by `max_sources` rows.
///
/// Nothing is followed while the kind's level is off for its category
/// (`log_enabled`): then events are only counted, and `admit` is false.
///
/// A plain value for one owner; not thread-safe. Time is passed in: the
/// limiter never reads a clock.
class log_limiter {
public:
  /// Exact counts of one kind, whether its events were logged or not.
  struct counts {
    /// Events in all.
    std::uint64_t total = 0;
    /// Events by reason, in the order the reasons first came.
    std::vector<std::pair<std::string, std::uint64_t>> reasons;
  };

  /// A limiter with the default limits.
  log_limiter() : log_limiter(log_limits{}) {
    // nop
  }

  explicit log_limiter(log_limits limits);

  /// The limits in force.
  const log_limits& limits() const noexcept {
    return limits_;
  }

  /// Counts one event of `kind` from `source` at `now`, for `reason` (a
  /// short fixed phrase such as "bad frame count", never bytes from outside:
  /// it shows in summaries and counters as it is). Returns whether the
  /// caller writes its own line for this event now, in full; otherwise the
  /// event is counted for the next summary, which this call may write.
  ///
  /// `source` is who caused the event as far as the caller can tell (for a
  /// message: its previous hop, which the receiver authenticated when
  /// encryption is on, never its source frame). It may hold any bytes:
  /// summaries quote it (`quote_bytes`).
  bool admit(time_point now, std::string_view source, const log_kind& kind,
             std::string_view reason);

  /// `admit`, then, when admitted, writes `make_line()` (a function
  /// returning the line as `std::string`) at the kind's level and category,
  /// with its control characters escaped. Returns whether it wrote it.
  /// `make_line` runs only for admitted events, so building the line costs
  /// nothing for the others.
  template <class F>
  bool report(time_point now, std::string_view source, const log_kind& kind,
              std::string_view reason, F&& make_line) {
    if (!admit(now, source, kind, reason))
      return false;
    write(kind, make_line());
    return true;
  }

  /// Writes the summary line of every (source, kind) whose interval ended
  /// by `now` with events to summarise, and forgets those without. Returns
  /// `next_due()`. Call it at `next_due()` (a timer, or the timeout of a
  /// poll): without it, a summary waits for the next event of its row, and
  /// a quiet source keeps its place until the next `flush`. Costs a walk
  /// over the rows when something is due, nothing otherwise.
  time_point flush(time_point now);

  /// The earliest time `flush` has work: a summary to write, or a quiet
  /// source to forget (which frees its place for another); `time_point::max()`
  /// when the limiter follows nothing. It may be earlier than needed (then
  /// `flush` does nothing and says when to come back), never later.
  time_point next_due() const noexcept {
    return next_due_;
  }

  /// Exact counts of `kind` (by its name) since the limiter was made.
  counts count(const log_kind& kind) const;

  /// Exact count of `kind`'s events for `reason`.
  std::uint64_t count(const log_kind& kind, std::string_view reason) const;

  /// Events admitted in full so far.
  std::uint64_t full_lines() const noexcept {
    return full_lines_;
  }

  /// Summary lines written so far.
  std::uint64_t summary_lines() const noexcept {
    return summary_lines_;
  }

  /// Sources followed now (the `*` rows not counted).
  std::size_t sources() const noexcept {
    return sources_;
  }

  /// The most bytes of a source that tell it from others.
  static constexpr std::size_t source_bytes = 256;

  /// The most reasons a row keeps apart; further ones count together.
  static constexpr std::size_t row_reasons = 8;

  /// The most reasons a kind's counts keep apart.
  static constexpr std::size_t kind_reasons = 32;

private:
  using reason_counts = std::vector<std::pair<std::string, std::uint64_t>>;

  /// One (source, kind): when its interval started, what came since.
  struct row {
    log_kind kind;
    bool overflow = false;
    time_point since;
    std::uint64_t pending = 0;
    reason_counts reasons;
  };

  static void tally(reason_counts& xs, std::string_view reason,
                    std::size_t limit);

  void write(const log_kind& kind, std::string line) const;

  void summarise(const std::string& key, row& r, time_point now);

  void add_pending(row& r, std::string_view reason);

  log_limits limits_;
  /// Rows by key: the kind's name, a NUL, the source's first bytes (or
  /// nothing after the NUL for the `*` row).
  std::unordered_map<std::string, row> rows_;
  /// Exact counts by kind name.
  std::vector<std::pair<std::string, counts>> counts_;
  std::size_t sources_ = 0;
  time_point next_due_ = time_point::max();
  std::uint64_t full_lines_ = 0;
  std::uint64_t summary_lines_ = 0;
  /// Reused for lookups, so counting an event allocates nothing.
  std::string key_;
};

/// A short reason phrase for `err`, for `log_limiter::admit`: e.g. "bad
/// frame count" for `errc::malformed_frame_count`, "expired" for
/// `errc::message_expired`; the code's name with spaces for the other
/// p2p0mq codes, "other error" for errors of other categories.
std::string log_reason(const caf::error& err);

/// Who a line about `msg`, a received message, is to be keyed by: its
/// previous hop (the connection it came on, authenticated when encryption
/// is on), or its source when it has none. Never the source frame alone,
/// which the sender writes as it likes.
const std::string& log_source(const message& msg) noexcept;

/// Logs, through `limiter`, that a concern (or the router) dropped `msg`
/// for `why`: in full at most once per interval per previous hop and kind,
/// e.g. `dropped hello request 7 from "a" via "b" to "c": <why>`, every
/// identity quoted; summarised otherwise. Returns whether the full line was
/// written. This is what a concern calls where it drops a message it
/// cannot use:
///
/// ~~~
/// if (auto body = parse_hello_payload(msg.payload); !body) {
///   log_dropped(st.log, self->clock().now(), log_kinds::bad_hello, msg,
///               body.error());
///   return;
/// }
/// ~~~
bool log_dropped(log_limiter& limiter, time_point now, const log_kind& kind,
                 const message& msg, const caf::error& why);

/// As above, with `reason` for the counters instead of `log_reason(why)`.
bool log_dropped(log_limiter& limiter, time_point now, const log_kind& kind,
                 const message& msg, const caf::error& why,
                 std::string_view reason);

/// Replaces the control characters of `line` (below 0x20, and 0x7f) with
/// `\xNN`, so that a log line stays one line and cannot drive a terminal.
std::string escape_controls(std::string line);

} // namespace p2p0mq
