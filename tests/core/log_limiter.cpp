#include "p2p0mq/log_limiter.hpp"

#include <caf/sec.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/message.hpp"
#include "support/log_capture.hpp"

using namespace std::chrono_literals;
using p2p0mq::duration;
using p2p0mq::log_kind;
using p2p0mq::log_limiter;
using p2p0mq::log_limits;
using p2p0mq::time_point;
using p2p0mq::testing::log_capture;

namespace kinds = p2p0mq::log_kinds;

namespace {

/// Virtual time: the limiter never reads a clock, so a test is its clock.
const time_point t0 = time_point{} + 1h;

/// The reasons of the receiver, in turn.
const char* const reasons[] = {"bad frame count", "bad kind", "bad payload"};

/// What the receiver does with the limiter: report each event (with a line
/// of its own when admitted) and flush when a summary is due.
struct driver {
  explicit driver(log_limits limits = {}) : limiter(limits) {
    log_capture::install();
  }

  void event(time_point now, const std::string& source,
             const log_kind& kind = kinds::malformed_message,
             const char* reason = reasons[0]) {
    if (now >= limiter.next_due())
      limiter.flush(now);
    limiter.report(now, source, kind, reason, [&] {
      return "dropped a message from " + p2p0mq::quote_bytes(source) + ": " +
             reason;
    });
  }

  log_limiter limiter;
};

/// The lines since `from` that name `source` (quoted, as every line does).
std::size_t lines_of(std::size_t from, const std::string& source) {
  return log_capture::install().count(from, {p2p0mq::quote_bytes(source)});
}

} // namespace

TEST_CASE("the first event of a source is logged in full, the rest of its "
          "interval in one summary with counts by reason",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  d.event(t0, "evil-0001");
  CHECK(logs.count(mark, {"warning wire: dropped a message from "
                          "\"evil-0001\": bad frame count"}) == 1);
  for (int i = 1; i <= 12; ++i)
    d.event(t0 + i * 100ms, "evil-0001", kinds::malformed_message,
            reasons[i % 3]);
  CHECK(logs.mark() == mark + 1);
  CHECK(d.limiter.next_due() == t0 + 10s);
  // Nothing is due before the interval ends.
  CHECK(d.limiter.flush(t0 + 9s) == t0 + 10s);
  CHECK(logs.mark() == mark + 1);
  // The row stays for another interval, to be forgotten if quiet.
  CHECK(d.limiter.flush(t0 + 10s) == t0 + 20s);
  CHECK(logs.contains(mark, {"warning wire: dropped 12 malformed messages "
                             "from \"evil-0001\" in the last 10 s: 4 bad "
                             "kind, 4 bad payload, 4 bad frame count"}));
  CHECK(logs.mark() == mark + 2);
  auto counts = d.limiter.count(kinds::malformed_message);
  CHECK(counts.total == 13);
  CHECK(d.limiter.count(kinds::malformed_message, "bad frame count") == 5);
  CHECK(d.limiter.count(kinds::malformed_message, "bad kind") == 4);
  CHECK(d.limiter.full_lines() == 1);
  CHECK(d.limiter.summary_lines() == 1);
}

TEST_CASE("a summary lists its reasons by count and uses thousands "
          "separators",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  d.event(t0, "evil-0001");
  for (int i = 0; i < 12000; ++i)
    d.event(t0 + 1ms, "evil-0001", kinds::malformed_message, "bad frame count");
  for (int i = 0; i < 345; ++i)
    d.event(t0 + 2ms, "evil-0001", kinds::malformed_message, "bad payload");
  d.limiter.flush(t0 + 10s);
  CHECK(logs.contains(mark, {"dropped 12,345 malformed messages from "
                             "\"evil-0001\" in the last 10 s: 12,000 bad "
                             "frame count, 345 bad payload"}));
}

TEST_CASE("a summary is written by the first event after the interval when "
          "nobody flushes",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  d.limiter.report(t0, "a-0001", kinds::impostor, "claims another uuid",
                   [] { return std::string{"first"}; });
  d.limiter.admit(t0 + 1s, "a-0001", kinds::impostor, "claims another uuid");
  CHECK(logs.mark() == mark + 1);
  CHECK_FALSE(d.limiter.admit(t0 + 12s, "a-0001", kinds::impostor,
                              "claims another uuid"));
  CHECK(logs.contains(mark, {"warning security: dropped 2 messages under "
                             "another peer's uuid from \"a-0001\" in the last "
                             "12 s: 2 claims another uuid"}));
}

TEST_CASE("a source quiet for a whole interval is forgotten and logged in "
          "full again",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  d.event(t0, "once-0001");
  CHECK(d.limiter.sources() == 1);
  // Nothing to summarise: no line, and the source is forgotten.
  d.limiter.flush(t0 + 10s);
  CHECK(d.limiter.sources() == 0);
  CHECK(logs.mark() == mark + 1);
  d.event(t0 + 25s, "once-0001");
  CHECK(lines_of(mark, "once-0001") == 2);
  // Without a flush in between, an event an interval after the last line
  // is admitted in full too.
  d.event(t0 + 36s, "once-0001");
  CHECK(lines_of(mark, "once-0001") == 3);
  CHECK(d.limiter.full_lines() == 3);
}

TEST_CASE("1,000,000 malformed messages from one client over 10 s give at "
          "most 20 lines for it, and the counters count every one",
          "[log_limiter][hostile]") {
  driver d;
  auto mark = log_capture::install().mark();
  constexpr std::uint64_t n = 1'000'000;
  // One every 10 µs, the reason changing with every message.
  for (std::uint64_t i = 0; i < n; ++i)
    d.event(t0 + std::chrono::microseconds{10 * i}, "evil-0001",
            kinds::malformed_message, reasons[i % 3]);
  auto during = lines_of(mark, "evil-0001");
  d.limiter.flush(t0 + 10s);
  auto after = lines_of(mark, "evil-0001");
  std::printf("log_limiter: 1,000,000 malformed messages in 10 s: %zu lines "
              "during, %zu with the summary at 10 s\n",
              during, after);
  CHECK(during == 1);
  CHECK(after == 2);
  CHECK(after <= 20);
  auto counts = d.limiter.count(kinds::malformed_message);
  CHECK(counts.total == n);
  CHECK(d.limiter.count(kinds::malformed_message, reasons[0]) == 333'334);
  CHECK(d.limiter.count(kinds::malformed_message, reasons[1]) == 333'333);
  CHECK(d.limiter.count(kinds::malformed_message, reasons[2]) == 333'333);
  CHECK(log_capture::install().contains(
      mark, {"dropped 999,999 malformed messages from \"evil-0001\" in the "
             "last 10 s: 333,333 bad kind, 333,333 bad payload, 333,333 bad "
             "frame count"}));
}

TEST_CASE("10,000 fresh sources in each of three intervals: at most "
          "max_sources + 1 lines per interval and at most max_sources rows, "
          "counters exact",
          "[log_limiter][hostile]") {
  driver d;
  auto max = d.limiter.limits().max_sources;
  REQUIRE(max == p2p0mq::config{}.log_max_sources);
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  // 10,000 fresh sources in each of three intervals of 10 s, 100 messages
  // each, interleaved: 3,000,000 messages from 30,000 sources.
  constexpr int per_interval = 10'000;
  constexpr int messages = 100;
  std::vector<std::size_t> lines;
  std::size_t most_rows = 0;
  for (int round = 0; round < 3; ++round) {
    auto start = t0 + round * 10s;
    auto before = logs.mark();
    for (int m = 0; m < messages; ++m)
      for (int s = 0; s < per_interval; ++s) {
        auto at =
            start + std::chrono::microseconds{10 * (m * per_interval + s)};
        d.event(at, "fresh-" + std::to_string(round * per_interval + s));
        most_rows = std::max(most_rows, d.limiter.sources());
      }
    lines.push_back(logs.mark() - before);
  }
  d.limiter.flush(t0 + 30s);
  auto total = logs.mark() - mark;
  std::printf("log_limiter: 30,000 fresh sources x 100 messages over 30 s: "
              "%zu, %zu and %zu lines in the three intervals, %zu in all; at "
              "most %zu sources followed\n",
              lines[0], lines[1], lines[2], total, most_rows);
  for (auto x : lines)
    CHECK(x <= max + 1);
  CHECK(most_rows <= max);
  CHECK(total <= 3 * (max + 1) + max + 1);
  CHECK(d.limiter.count(kinds::malformed_message).total ==
        3u * per_interval * messages);
  CHECK(logs.contains(mark, {"malformed messages from other sources (the "
                             "log follows 64 at once)"}));
}

TEST_CASE("a legitimate peer's first warning is logged while another source "
          "floods",
          "[log_limiter][hostile]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  for (int i = 0; i < 100000; ++i)
    d.event(t0 + std::chrono::microseconds{50 * i}, "evil-0001");
  d.event(t0 + 6s, "friend-0001", kinds::malformed_message, "bad payload");
  CHECK(logs.count(mark, {"\"friend-0001\": bad payload"}) == 1);
}

TEST_CASE("the interval and the number of sources are settings",
          "[log_limiter]") {
  p2p0mq::config cfg;
  cfg.log_summary_interval = 1s;
  cfg.log_max_sources = 2;
  REQUIRE_FALSE(cfg.validate());
  driver d{p2p0mq::log_limits_of(cfg)};
  CHECK(d.limiter.limits().interval == 1s);
  CHECK(d.limiter.limits().max_sources == 2);
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  // Three sources: the third goes to the `*` row, in full for its first.
  d.event(t0, "a-000001");
  d.event(t0, "b-000002");
  d.event(t0, "c-000003");
  d.event(t0, "d-000004");
  CHECK(logs.mark() == mark + 3);
  CHECK(d.limiter.sources() == 2);
  // a again within its second; then the summaries.
  d.event(t0 + 500ms, "a-000001");
  d.limiter.flush(t0 + 1s);
  CHECK(logs.contains(mark, {"dropped 1 malformed messages from \"a-000001\" "
                             "in the last 1 s"}));
  CHECK(logs.contains(mark, {"dropped 1 malformed messages from other "
                             "sources (the log follows 2 at once) in the "
                             "last 1 s"}));
  // b was quiet: forgotten, its place free for another source.
  CHECK(d.limiter.sources() == 1);
  d.event(t0 + 1500ms, "e-000005");
  CHECK(lines_of(mark, "e-000005") == 1);
  CHECK(d.limiter.sources() == 2);
}

TEST_CASE("events of a kind whose level is off are counted and nothing else",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  constexpr log_kind quiet{"quiet",
                           p2p0mq::log_category::app,
                           p2p0mq::log_level::debug,
                           "saw",
                           "events",
                           "from"};
  for (int i = 0; i < 1000; ++i)
    CHECK_FALSE(d.limiter.admit(t0, "x-" + std::to_string(i), quiet, "why"));
  CHECK(d.limiter.count(quiet).total == 1000);
  CHECK(d.limiter.sources() == 0);
  CHECK(d.limiter.next_due() == time_point::max());
  CHECK(logs.mark() == mark);
}

TEST_CASE("a row keeps 8 reasons apart and counts the rest together",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  std::vector<std::string> whys;
  for (int i = 0; i < 40; ++i)
    whys.push_back("reason " + std::to_string(i));
  d.event(t0, "many-0001");
  for (auto& why : whys)
    d.limiter.admit(t0 + 1s, "many-0001", kinds::malformed_message, why);
  d.limiter.flush(t0 + 10s);
  CHECK(logs.contains(
      mark, {"dropped 40 malformed messages", "reason 6", "33 other reasons"}));
  CHECK_FALSE(logs.contains(mark, {"reason 7,"}));
  auto counts = d.limiter.count(kinds::malformed_message);
  CHECK(counts.total == 41);
  CHECK(counts.reasons.size() == log_limiter::kind_reasons);
  CHECK(counts.reasons.back().first == "other reasons");
  CHECK(counts.reasons.back().second == 10);
}

TEST_CASE("summaries quote their source and lines have no control "
          "characters",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  std::string evil = "evil\n\x1b[2Jwarning wire: forged";
  d.limiter.report(t0, evil, kinds::malformed_message, "bad kind",
                   [&] { return "raw line " + evil; });
  d.limiter.admit(t0 + 1s, evil, kinds::malformed_message, "bad kind");
  d.limiter.flush(t0 + 10s);
  CHECK(logs.contains(mark, {"raw line evil\\x0a\\x1b[2Jwarning"}));
  CHECK(logs.contains(mark, {"from \"evil\\n\\x1b[2Jwarning wire: forged\""}));
  CHECK(logs.count(mark, {"\n"}) == 0);
  CHECK(logs.count(mark, {"\x1b"}) == 0);
}

TEST_CASE("log_dropped keys a message by its previous hop and quotes every "
          "identity",
          "[log_limiter]") {
  driver d;
  auto& logs = log_capture::install();
  auto mark = logs.mark();
  p2p0mq::message msg;
  msg.source = "made-up\x01";
  msg.previous_hop = "relay-0001";
  msg.to = "local-0001";
  msg.command = "hello";
  msg.id = 7;
  auto why =
      p2p0mq::make_error(p2p0mq::errc::missing_field, "no field \"port\"");
  CHECK(p2p0mq::log_dropped(d.limiter, t0, kinds::bad_hello, msg, why));
  CHECK(logs.contains(mark, {"warning connector: dropped \"hello\" request 7 "
                             "from \"made-up\\x01\" via \"relay-0001\" to "
                             "\"local-0001\": p2p0mq.missing_field"}));
  // Fresh made-up sources through the same relay are one source.
  for (int i = 0; i < 1000; ++i) {
    msg.source = "ghost-" + std::to_string(i);
    CHECK_FALSE(
        p2p0mq::log_dropped(d.limiter, t0 + 1ms, kinds::bad_hello, msg, why));
  }
  CHECK(d.limiter.sources() == 1);
  CHECK(d.limiter.count(kinds::bad_hello, "missing field") == 1001);
}

TEST_CASE("log_reason names the p2p0mq codes briefly", "[log_limiter]") {
  using p2p0mq::errc;
  using p2p0mq::log_reason;
  using p2p0mq::make_error;
  CHECK(log_reason(make_error(errc::malformed_frame_count)) ==
        "bad frame count");
  CHECK(log_reason(make_error(errc::malformed_payload, "x")) == "bad payload");
  CHECK(log_reason(make_error(errc::message_expired)) == "expired");
  CHECK(log_reason(make_error(errc::wrong_field_type)) == "wrong field type");
  CHECK(log_reason(caf::make_error(caf::sec::request_timeout)) ==
        "other error");
}
