#include "node/view.hpp"

#include <algorithm>
#include <cstdio>

#include "p2p0mq/uuid.hpp"

namespace p2p0mq::node {

namespace {

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
  else
    std::snprintf(buf, sizeof(buf), "%.0fh", secs / 3600);
  return buf;
}

} // namespace

std::string json_line(double t, const local_peer_metrics& m) {
  char tbuf[32];
  std::snprintf(tbuf, sizeof(tbuf), "%.3f", t);
  auto body = to_json(m);
  return std::string{"{\"t\": "} + tbuf + ", " + body.substr(1);
}

std::string table(double t, const local_peer_metrics& m, bool colour) {
  char line[160];
  std::string out;
  std::snprintf(line, sizeof(line),
                "p2p0mq peer %s on %s:%u, %.1f s, encryption %s\n",
                short_uuid(m.uuid).c_str(), m.host.c_str(),
                static_cast<unsigned>(m.port), t, m.encryption ? "on" : "off");
  out += line;
  std::snprintf(line, sizeof(line),
                "sent %llu  failed %llu  dropped %llu  queued %llu  received "
                "%llu  bad %llu\n",
                static_cast<unsigned long long>(m.sender.sent),
                static_cast<unsigned long long>(m.sender.send_failed),
                static_cast<unsigned long long>(m.sender.dropped),
                static_cast<unsigned long long>(m.sender.queued),
                static_cast<unsigned long long>(m.received),
                static_cast<unsigned long long>(m.malformed + m.impostors));
  out += line;
  std::snprintf(line, sizeof(line), "%-10s %-14s %6s %6s  %-22s %-10s\n",
                "PEER", "STATE", "SINCE", "HEARD", "ADDRESS", "VIA");
  out += line;
  auto peers = m.peers;
  std::stable_sort(peers.begin(), peers.end(),
                   [](const peer_metrics& x, const peer_metrics& y) {
                     return rank(x.state) < rank(y.state);
                   });
  for (auto& p : peers) {
    auto addr = p.host.empty() ? std::string{"-"}
                               : p.host + ":" + std::to_string(p.port);
    std::string state{to_string(p.state)};
    std::snprintf(line, sizeof(line), "%-10s %s%-14s%s %6s %6s  %-22s %-10s\n",
                  short_uuid(p.uuid).c_str(), colour ? colour_of(p.state) : "",
                  state.c_str(), colour ? "\x1b[0m" : "",
                  ago(p.seconds_in_state).c_str(),
                  ago(p.seconds_since_heard).c_str(), addr.c_str(),
                  p.via.empty() ? "-" : short_uuid(p.via).c_str());
    out += line;
  }
  if (peers.empty())
    out += "(no peers yet)\n";
  return out;
}

} // namespace p2p0mq::node
