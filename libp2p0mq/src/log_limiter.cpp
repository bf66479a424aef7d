#include "p2p0mq/log_limiter.hpp"

#include <algorithm>
#include <cstdio>

#include <caf/error.hpp>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/message.hpp"

namespace p2p0mq {

namespace {

/// The reason under which reasons beyond a row's or kind's limit count.
constexpr std::string_view other_reasons = "other reasons";

/// `12345` as `12,345`.
std::string with_commas(std::uint64_t x) {
  auto digits = std::to_string(x);
  std::string result;
  result.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      result += ',';
    result += digits[i];
  }
  return result;
}

/// A span of time as a summary shows it: whole seconds from one second up
/// ("10 s"), milliseconds below.
std::string describe(duration x) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(x).count();
  if (ms < 1000)
    return std::to_string(ms) + " ms";
  return std::to_string((ms + 500) / 1000) + " s";
}

} // namespace

log_limits log_limits_of(const config& cfg) {
  return log_limits{cfg.log_summary_interval, cfg.log_max_sources};
}

log_limiter::log_limiter(log_limits limits) : limits_(limits) {
  key_.reserve(64 + source_bytes);
}

void log_limiter::tally(reason_counts& xs, std::string_view reason,
                        std::size_t limit) {
  for (auto& [name, n] : xs)
    if (name == reason) {
      ++n;
      return;
    }
  if (xs.size() + 1 < limit) {
    xs.emplace_back(std::string{reason}, 1);
    return;
  }
  // The last place is for the reasons beyond the limit, together.
  if (xs.size() + 1 == limit)
    xs.emplace_back(std::string{other_reasons}, 0);
  ++xs.back().second;
}

void log_limiter::write(const log_kind& kind, std::string line) const {
  write_log_line(kind.level, kind.category, escape_controls(std::move(line)));
}

void log_limiter::add_pending(row& r, std::string_view reason) {
  if (r.pending++ == 0)
    next_due_ = std::min(next_due_, r.since + limits_.interval);
  tally(r.reasons, reason, row_reasons);
}

void log_limiter::summarise(const std::string& key, row& r, time_point now) {
  if (log_enabled(r.kind.level, r.kind.category)) {
    auto reasons = r.reasons;
    std::stable_sort(
        reasons.begin(), reasons.end(),
        [](const auto& x, const auto& y) { return x.second > y.second; });
    std::string line{r.kind.verb};
    line += ' ';
    line += with_commas(r.pending);
    line += ' ';
    line += r.kind.noun;
    line += ' ';
    line += r.kind.relation;
    line += ' ';
    if (r.overflow) {
      line += "other sources (the log follows ";
      line += std::to_string(limits_.max_sources);
      line += " at once)";
    } else {
      line += quote_bytes(std::string_view{key}.substr(r.kind.name.size() + 1));
    }
    line += " in the last ";
    line += describe(now - r.since);
    line += ':';
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      line += i == 0 ? " " : ", ";
      line += with_commas(reasons[i].second);
      line += ' ';
      line += reasons[i].first;
    }
    write(r.kind, std::move(line));
    ++summary_lines_;
  }
  r.since = now;
  r.pending = 0;
  r.reasons.clear();
}

bool log_limiter::admit(time_point now, std::string_view source,
                        const log_kind& kind, std::string_view reason) {
  auto c = std::find_if(counts_.begin(), counts_.end(),
                        [&](const auto& x) { return x.first == kind.name; });
  if (c == counts_.end()) {
    counts_.emplace_back(std::string{kind.name}, counts{});
    c = counts_.end() - 1;
  }
  ++c->second.total;
  tally(c->second.reasons, reason, kind_reasons);
  if (!log_enabled(kind.level, kind.category))
    return false;
  key_.assign(kind.name.data(), kind.name.size());
  key_ += '\0';
  key_.append(source.data(), std::min(source.size(), source_bytes));
  auto i = rows_.find(key_);
  if (i == rows_.end()) {
    auto overflow = sources_ >= limits_.max_sources;
    if (overflow) {
      key_.resize(kind.name.size() + 1);
      i = rows_.find(key_);
    }
    if (i == rows_.end()) {
      rows_.emplace(key_, row{kind, overflow, now, 0, {}});
      if (!overflow)
        ++sources_;
      next_due_ = std::min(next_due_, now + limits_.interval);
      ++full_lines_;
      return true;
    }
  }
  auto& r = i->second;
  if (now - r.since < limits_.interval) {
    add_pending(r, reason);
    return false;
  }
  if (r.pending == 0) {
    // Quiet for an interval: a line in full again.
    r.since = now;
    next_due_ = std::min(next_due_, now + limits_.interval);
    ++full_lines_;
    return true;
  }
  add_pending(r, reason);
  summarise(i->first, r, now);
  return false;
}

time_point log_limiter::flush(time_point now) {
  if (now < next_due_)
    return next_due_;
  next_due_ = time_point::max();
  for (auto i = rows_.begin(); i != rows_.end();) {
    auto& r = i->second;
    if (now - r.since >= limits_.interval) {
      if (r.pending == 0) {
        if (!r.overflow)
          --sources_;
        i = rows_.erase(i);
        continue;
      }
      summarise(i->first, r, now);
    }
    next_due_ = std::min(next_due_, r.since + limits_.interval);
    ++i;
  }
  return next_due_;
}

log_limiter::counts log_limiter::count(const log_kind& kind) const {
  for (auto& [name, x] : counts_)
    if (name == kind.name)
      return x;
  return {};
}

std::uint64_t log_limiter::count(const log_kind& kind,
                                 std::string_view reason) const {
  for (auto& [name, x] : counts_)
    if (name == kind.name)
      for (auto& [why, n] : x.reasons)
        if (why == reason)
          return n;
  return 0;
}

std::string log_reason(const caf::error& err) {
  if (err.category() != error_category)
    return "other error";
  switch (static_cast<errc>(err.code())) {
  case errc::malformed_frame_count:
    return "bad frame count";
  case errc::malformed_routing_id:
    return "empty routing id";
  case errc::malformed_kind:
    return "bad kind";
  case errc::malformed_command:
    return "empty command";
  case errc::malformed_message_id:
    return "bad message id";
  case errc::malformed_payload:
    return "bad payload";
  case errc::message_expired:
    return "expired";
  case errc::local_peer_stopped:
    return "stopping";
  default: {
    auto name = to_string(static_cast<errc>(err.code()));
    std::replace(name.begin(), name.end(), '_', ' ');
    return name;
  }
  }
}

const std::string& log_source(const message& msg) noexcept {
  return msg.previous_hop.empty() ? msg.source : msg.previous_hop;
}

bool log_dropped(log_limiter& limiter, time_point now, const log_kind& kind,
                 const message& msg, const caf::error& why) {
  return log_dropped(limiter, now, kind, msg, why, log_reason(why));
}

bool log_dropped(log_limiter& limiter, time_point now, const log_kind& kind,
                 const message& msg, const caf::error& why,
                 std::string_view reason) {
  return limiter.report(now, log_source(msg), kind, reason, [&] {
    std::string line = "dropped ";
    line += quote_bytes(msg.command);
    line += ' ';
    line += to_string(msg.kind);
    line += ' ';
    line += std::to_string(msg.id);
    line += " from ";
    line += quote_bytes(msg.source);
    if (!msg.previous_hop.empty() && msg.previous_hop != msg.source) {
      line += " via ";
      line += quote_bytes(msg.previous_hop);
    }
    line += " to ";
    line += quote_bytes(msg.to);
    line += ": ";
    line += render(why);
    return line;
  });
}

std::string escape_controls(std::string line) {
  auto is_control = [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  };
  if (std::none_of(line.begin(), line.end(), is_control))
    return line;
  std::string result;
  result.reserve(line.size() + 16);
  char buf[8];
  for (auto c : line) {
    if (is_control(c)) {
      std::snprintf(buf, sizeof buf, "\\x%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      result += buf;
    } else {
      result += c;
    }
  }
  return result;
}

} // namespace p2p0mq
