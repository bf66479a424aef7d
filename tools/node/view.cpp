#include "node/view.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "p2p0mq/uuid.hpp"

namespace p2p0mq::node {

namespace {

/// The columns the view fits in.
constexpr std::size_t view_width = 80;

/// The columns left for a peer's address, after the others.
constexpr std::size_t address_width = view_width - 57;

/// The order of states in the table: working links first.
int rank(peer_state x) {
  switch (x) {
  case peer_state::connected:
    return 0;
  case peer_state::routed:
    return 1;
  case peer_state::connecting:
    return 2;
  case peer_state::unreachable:
    return 3;
  case peer_state::no_connection:
    return 4;
  default:
    return 5;
  }
}

const char* colour_of(peer_state x) {
  switch (x) {
  case peer_state::connected:
    return "\x1b[32m";
  case peer_state::routed:
    return "\x1b[34m";
  case peer_state::connecting:
    return "\x1b[33m";
  case peer_state::unreachable:
    return "\x1b[31m";
  default:
    return "\x1b[2m";
  }
}

/// Seconds as a short text: "3.2s", "47s", "12m", "5h".
std::string ago(double secs) {
  char buf[16];
  if (secs < 0)
    return "-";
  if (secs < 10)
    std::snprintf(buf, sizeof(buf), "%.1fs", secs);
  else if (secs < 600)
    std::snprintf(buf, sizeof(buf), "%.0fs", secs);
  else if (secs < 36000)
    std::snprintf(buf, sizeof(buf), "%.0fm", secs / 60);
  else if (secs < 360000)
    std::snprintf(buf, sizeof(buf), "%.0fh", secs / 3600);
  else
    std::snprintf(buf, sizeof(buf), "%.0fd", std::min(secs / 86400, 9999.0));
  return buf;
}

/// A round-trip time in at most 6 characters: "0.21ms", "123ms", "1.2s".
std::string round_trip(const round_trip_times& x) {
  if (x.empty())
    return "-";
  char buf[16];
  auto ms = std::chrono::duration<double, std::milli>(x.last()).count();
  if (ms < 9.995)
    std::snprintf(buf, sizeof(buf), "%.2fms", ms);
  else if (ms < 999.5)
    std::snprintf(buf, sizeof(buf), "%.0fms", ms);
  else if (ms < 99950)
    std::snprintf(buf, sizeof(buf), "%.1fs", ms / 1000);
  else
    std::snprintf(buf, sizeof(buf), "%.0fs", std::min(ms / 1000, 99999.0));
  return buf;
}

/// A byte count in at most 6 characters: "999B", "9.9kB", "123kB", "1.2MB".
std::string bytes(std::uint64_t n) {
  char buf[16] = "";
  if (n < 1000) {
    std::snprintf(buf, sizeof(buf), "%uB", static_cast<unsigned>(n));
    return buf;
  }
  auto x = static_cast<double>(n);
  for (auto unit : {'k', 'M', 'G', 'T', 'P'}) {
    x /= 1000;
    if (x < 9.95) {
      std::snprintf(buf, sizeof(buf), "%.1f%cB", x, unit);
      return buf;
    }
    if (x < 999.5 || unit == 'P') {
      std::snprintf(buf, sizeof(buf), "%.0f%cB", x, unit);
      return buf;
    }
  }
  return buf;
}

/// `x` with bytes that are not printable ASCII as '?', cut to `width`.
std::string printable(const std::string& x, std::size_t width) {
  auto result = x.substr(0, width);
  for (auto& c : result) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E)
      c = '?';
  }
  return result;
}

/// Appends `line`, cut to the width of the view, and a newline.
void add_line(std::string& out, const std::string& line) {
  out += printable(line, view_width);
  out += '\n';
}

std::string count(std::uint64_t n) {
  return std::to_string(n);
}

} // namespace

std::string json_line(double t, const local_peer_metrics& m) {
  char tbuf[32];
  std::snprintf(tbuf, sizeof(tbuf), "%.3f", t);
  auto body = to_json(m);
  return std::string{"{\"t\": "} + tbuf + ", " + body.substr(1);
}

std::string table(double t, const local_peer_metrics& m, bool colour) {
  char line[256];
  std::string out;
  std::snprintf(line, sizeof(line),
                "p2p0mq peer %s on %s:%u, %.1f s, encryption %s",
                short_uuid(m.uuid).c_str(), m.host.c_str(),
                static_cast<unsigned>(m.port), t, m.encryption ? "on" : "off");
  add_line(out, line);
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  for (auto& c : m.concerns) {
    bytes_in += c.in.bytes;
    bytes_out += c.out.bytes;
  }
  add_line(out, "out " + count(m.sender.sent) + " (" + bytes(bytes_out) +
                    ")  failed " + count(m.sender.send_failed) + "  dropped " +
                    count(m.sender.dropped) + "  queued " +
                    count(m.sender.queued) + "  held " + count(m.sender.held));
  add_line(out, "in " + count(m.received) + " (" + bytes(bytes_in) + ")  bad " +
                    count(m.malformed + m.impostors) + "  unknown " +
                    count(m.unknown_command) + "  routed " +
                    count(m.router.sent) + "  asked " +
                    count(m.ask_around.searches));
  std::string by_concern = "in/out by concern:";
  for (auto& c : m.concerns)
    by_concern += "  " + printable(c.command, 16) + " " + count(c.in.messages) +
                  "/" + count(c.out.messages);
  add_line(out, by_concern);
  // The peer column is as wide as the longest name: names are never cut, so
  // alice-0001 and alice-0002 stay apart.
  int width = 8;
  for (auto& p : m.peers)
    width = std::max(width, static_cast<int>(short_uuid(p.uuid).size()));
  // The address gives the names their room, down to 12 columns (long names
  // then widen the view past 80).
  auto wider = static_cast<std::size_t>(width - 8);
  auto address_room =
      wider + 12 < address_width ? address_width - wider : std::size_t{12};
  std::snprintf(line, sizeof(line), "%-*s %-13s %5s %5s %6s %6s %6s  %s", width,
                "PEER", "STATE", "SINCE", "HEARD", "RTT", "IN", "OUT",
                "ADDRESS");
  add_line(out, line);
  auto peers = m.peers;
  std::stable_sort(peers.begin(), peers.end(),
                   [](const peer_metrics& x, const peer_metrics& y) {
                     return rank(x.state) < rank(y.state);
                   });
  for (auto& p : peers) {
    // Routed peers show their via, the others their address.
    auto where = !p.via.empty()   ? "via " + short_uuid(p.via)
                 : p.host.empty() ? std::string{"-"}
                                  : p.host + ":" + std::to_string(p.port);
    std::string state{to_string(p.state)};
    std::snprintf(
        line, sizeof(line), "%-*s %s%-13s%s %5s %5s %6s %6s %6s  %s", width,
        short_uuid(p.uuid).c_str(), colour ? colour_of(p.state) : "",
        state.c_str(), colour ? "\x1b[0m" : "", ago(p.seconds_in_state).c_str(),
        ago(p.seconds_since_heard).c_str(), round_trip(p.round_trips).c_str(),
        bytes(p.in.bytes).c_str(), bytes(p.out.bytes).c_str(),
        printable(where, address_room).c_str());
    out += line;
    out += '\n';
  }
  if (peers.empty())
    out += "(no peers yet)\n";
  return out;
}

} // namespace p2p0mq::node
