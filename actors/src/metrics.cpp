#include "p2p0mq/actors/metrics.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace p2p0mq {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", x);
  return buf;
}

/// Seconds with microseconds, for round-trip times.
std::string precise(duration x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f",
                std::chrono::duration<double>(x).count());
  return buf;
}

/// Escapes `x` for a Prometheus label value: backslash, quote and newline as
/// the format says, other bytes that are not printable ASCII as `\xNN` text.
std::string label_escape(const std::string& x) {
  std::string out;
  for (unsigned char c : x) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\\\x%02x", c);
      out += buf;
    } else
      out += static_cast<char>(c);
  }
  return out;
}

/// Writes the Prometheus lines of one metric.
class exposition {
public:
  explicit exposition(std::string local)
      : local_("local=\"" + label_escape(local) + "\"") {
  }

  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(const char* name, const std::string& labels,
              const std::string& value) {
    out_ += name;
    out_ += '{';
    out_ += local_;
    if (!labels.empty()) {
      out_ += ',';
      out_ += labels;
    }
    out_ += "} ";
    out_ += value;
    out_ += '\n';
  }

  void counter(const char* name, const char* help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, {}, std::to_string(value));
  }

  void gauge(const char* name, const char* help, std::uint64_t value) {
    family(name, "gauge", help);
    sample(name, {}, std::to_string(value));
  }

  std::string str() && {
    return std::move(out_);
  }

private:
  std::string local_;
  std::string out_;
};

constexpr peer_state all_states[] = {
    peer_state::initial, peer_state::connecting,  peer_state::connected,
    peer_state::routed,  peer_state::unreachable, peer_state::no_connection,
};

} // namespace

std::size_t local_peer_metrics::count(peer_state x) const noexcept {
  std::size_t result = 0;
  for (auto& p : peers)
    if (p.state == x)
      ++result;
  return result;
}

std::string json_escape(const std::string& x) {
  std::string out;
  out.reserve(x.size() + 2);
  for (unsigned char c : x) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out;
}

std::string to_json(const local_peer_metrics& x) {
  auto str = [](const std::string& s) { return "\"" + json_escape(s) + "\""; };
  auto u = [](std::uint64_t n) { return std::to_string(n); };
  auto in = [&](const traffic& t) {
    return "{\"messages\": " + u(t.messages) + ", \"bytes\": " + u(t.bytes) +
           "}";
  };
  auto out = [&](const outgoing_traffic& t) {
    return "{\"messages\": " + u(t.messages) + ", \"bytes\": " + u(t.bytes) +
           ", \"send_failed\": " + u(t.send_failed) +
           ", \"dropped\": " + u(t.dropped) + "}";
  };
  auto rtt = [&](const round_trip_times& t) -> std::string {
    if (t.empty())
      return "null";
    return "{\"last\": " + precise(t.last()) +
           ", \"min\": " + precise(t.min()) +
           ", \"mean\": " + precise(t.mean()) +
           ", \"max\": " + precise(t.max()) + ", \"samples\": " + u(t.size()) +
           ", \"count\": " + u(t.count) + "}";
  };
  std::string result = "{\"uuid\": " + str(x.uuid) +
                       ", \"host\": " + str(x.host) +
                       ", \"port\": " + u(x.port) +
                       ", \"encryption\": " + (x.encryption ? "true" : "false");
  result += ", \"sender\": {\"sent\": " + u(x.sender.sent) +
            ", \"send_failed\": " + u(x.sender.send_failed) +
            ", \"dropped\": " + u(x.sender.dropped) +
            ", \"queued\": " + u(x.sender.queued) +
            ", \"held\": " + u(x.sender.held) + "}";
  result += ", \"receiver\": {\"received\": " + u(x.received) +
            ", \"malformed\": " + u(x.malformed) +
            ", \"impostors\": " + u(x.impostors) +
            ", \"handshake_failures\": " + u(x.handshake_failures) +
            ", \"unknown_command\": " + u(x.unknown_command) + "}";
  result += ", \"router\": {\"received\": " + u(x.router.received) +
            ", \"sent\": " + u(x.router.sent) +
            ", \"dropped\": " + u(x.router.dropped) +
            ", \"looped\": " + u(x.router.looped) + "}";
  result += ", \"ask_around\": {\"searches\": " + u(x.ask_around.searches) +
            ", \"questions\": " + u(x.ask_around.questions) +
            ", \"answered\": " + u(x.ask_around.answered) +
            ", \"passed_on\": " + u(x.ask_around.passed_on) +
            ", \"routes_found\": " + u(x.ask_around.routes_found) + "}";
  result += ", \"concerns\": {";
  bool first = true;
  for (auto& c : x.concerns) {
    if (!first)
      result += ", ";
    first = false;
    result += str(c.command) + ": {\"in\": " + in(c.in) +
              ", \"out\": " + out(c.out) + "}";
  }
  result += "}, \"peers\": {";
  first = true;
  for (auto& p : x.peers) {
    if (!first)
      result += ", ";
    first = false;
    result +=
        str(p.uuid) + ": {\"state\": \"" + std::string{to_string(p.state)} +
        "\", \"host\": " + (p.host.empty() ? "null" : str(p.host)) +
        ", \"port\": " + u(p.port) +
        ", \"via\": " + (p.via.empty() ? "null" : str(p.via)) +
        ", \"seconds_in_state\": " + number(p.seconds_in_state) +
        ", \"seconds_since_heard\": " +
        (p.seconds_since_heard < 0 ? "null" : number(p.seconds_since_heard)) +
        ", \"heart_beat_slow_down_seconds\": " +
        number(p.heart_beat_slow_down_seconds) +
        ", \"rtt\": " + rtt(p.round_trips) + ", \"in\": " + in(p.in) +
        ", \"out\": " + out(p.out) + "}";
  }
  result += "}}";
  return result;
}

std::string to_prometheus(const local_peer_metrics& x) {
  exposition out{x.uuid};
  auto peer_label = [](const peer_metrics& p) {
    return "peer=\"" + label_escape(p.uuid) + "\"";
  };
  auto command_label = [](const concern_metrics& c) {
    return "command=\"" + label_escape(c.command) + "\"";
  };
  out.family("p2p0mq_peers", "gauge", "Peers in the peer table, by state.");
  for (auto state : all_states)
    out.sample("p2p0mq_peers",
               "state=\"" + std::string{to_string(state)} + "\"",
               std::to_string(x.count(state)));
  out.family("p2p0mq_peer_state_seconds", "gauge",
             "Time each peer has been in its current state.");
  for (auto& p : x.peers)
    out.sample("p2p0mq_peer_state_seconds",
               peer_label(p) + ",state=\"" + std::string{to_string(p.state)} +
                   "\"",
               number(p.seconds_in_state));
  out.family("p2p0mq_peer_last_heard_seconds", "gauge",
             "Time since anything was heard from each peer (peers heard "
             "from).");
  for (auto& p : x.peers)
    if (p.seconds_since_heard >= 0)
      out.sample("p2p0mq_peer_last_heard_seconds", peer_label(p),
                 number(p.seconds_since_heard));
  // Round trips, of the peers that answered a heart-beat.
  using rtt_getter = duration (round_trip_times::*)() const noexcept;
  struct {
    const char* name;
    const char* help;
    rtt_getter get;
  } rtts[] = {
      {"p2p0mq_peer_rtt_seconds",
       "Round-trip time of the last heart-beat each peer answered.",
       &round_trip_times::last},
      {"p2p0mq_peer_rtt_min_seconds",
       "Shortest round trip of each peer's last answered heart-beats (at "
       "most 8).",
       &round_trip_times::min},
      {"p2p0mq_peer_rtt_mean_seconds",
       "Mean round trip of each peer's last answered heart-beats (at most "
       "8).",
       &round_trip_times::mean},
      {"p2p0mq_peer_rtt_max_seconds",
       "Longest round trip of each peer's last answered heart-beats (at most "
       "8).",
       &round_trip_times::max},
  };
  for (auto& r : rtts) {
    out.family(r.name, "gauge", r.help);
    for (auto& p : x.peers)
      if (!p.round_trips.empty())
        out.sample(r.name, peer_label(p), precise((p.round_trips.*r.get)()));
  }
  out.family("p2p0mq_peer_heart_beats_answered_total", "counter",
             "Heart-beats each peer answered (round trips measured).");
  for (auto& p : x.peers)
    out.sample("p2p0mq_peer_heart_beats_answered_total", peer_label(p),
               std::to_string(p.round_trips.count));
  // Traffic by peer and by command.
  struct traffic_family {
    const char* suffix;
    const char* help;
    std::uint64_t (*get)(const traffic&, const outgoing_traffic&);
  };
  const traffic_family traffic_families[] = {
      {"received_messages_total", "Messages received.",
       [](const traffic& in, const outgoing_traffic&) { return in.messages; }},
      {"received_bytes_total",
       "Bytes of the messages received (frames 1 to 6).",
       [](const traffic& in, const outgoing_traffic&) { return in.bytes; }},
      {"sent_messages_total", "Messages handed to ZeroMQ.",
       [](const traffic&, const outgoing_traffic& o) { return o.messages; }},
      {"sent_bytes_total",
       "Bytes of the messages handed to ZeroMQ (frames 1 to 6).",
       [](const traffic&, const outgoing_traffic& o) { return o.bytes; }},
      {"failed_sends_total", "Send attempts that failed.",
       [](const traffic&, const outgoing_traffic& o) { return o.send_failed; }},
      {"dropped_messages_total", "Messages dropped by the sender.",
       [](const traffic&, const outgoing_traffic& o) { return o.dropped; }},
  };
  for (auto& f : traffic_families) {
    auto peer_name = std::string{"p2p0mq_peer_"} + f.suffix;
    auto peer_help = std::string{f.help} +
                     " By peer: the previous hop of a message received, the "
                     "next hop (else the destination) of one sent.";
    out.family(peer_name.c_str(), "counter", peer_help.c_str());
    for (auto& p : x.peers)
      out.sample(peer_name.c_str(), peer_label(p),
                 std::to_string(f.get(p.in, p.out)));
  }
  for (auto& f : traffic_families) {
    auto concern_name = std::string{"p2p0mq_concern_"} + f.suffix;
    auto concern_help = std::string{f.help} +
                        " By command id, also messages forwarded for other "
                        "peers.";
    out.family(concern_name.c_str(), "counter", concern_help.c_str());
    for (auto& c : x.concerns)
      out.sample(concern_name.c_str(), command_label(c),
                 std::to_string(f.get(c.in, c.out)));
  }
  out.counter("p2p0mq_messages_sent_total",
              "Messages handed to ZeroMQ by the sender.", x.sender.sent);
  out.counter("p2p0mq_send_failures_total",
              "Send attempts reported send_failed to their concern.",
              x.sender.send_failed);
  out.counter("p2p0mq_messages_dropped_total",
              "Messages dropped by the sender (expired, queue full, no "
              "retry, stopped).",
              x.sender.dropped);
  out.gauge("p2p0mq_send_queue_messages",
            "Messages in the sender's queues now.", x.sender.queued);
  out.gauge("p2p0mq_held_messages",
            "Messages the sender holds outside its queues now.", x.sender.held);
  out.counter("p2p0mq_messages_received_total",
              "Messages received, decoded and handed to the dispatcher.",
              x.received);
  out.counter("p2p0mq_messages_malformed_total",
              "Messages received and dropped as malformed.", x.malformed);
  out.counter("p2p0mq_messages_impostor_total",
              "Messages dropped because their previous hop was not the peer "
              "their key belongs to.",
              x.impostors);
  out.counter("p2p0mq_handshake_failures_total",
              "Failed ZeroMQ handshakes (rejected keys, encryption "
              "mismatches, ...).",
              x.handshake_failures);
  out.counter("p2p0mq_messages_unknown_command_total",
              "Messages dropped because no concern serves their command.",
              x.unknown_command);
  out.counter("p2p0mq_routed_messages_total",
              "Messages for other peers the router took in.",
              x.router.received);
  out.counter("p2p0mq_routed_sent_total",
              "Messages for other peers handed to ZeroMQ towards their next "
              "hop.",
              x.router.sent);
  out.counter("p2p0mq_routed_dropped_total",
              "Messages for other peers dropped (no route in time, a loop, "
              "the sender full or stopping).",
              x.router.dropped);
  out.counter("p2p0mq_routed_looped_total",
              "Messages for other peers dropped because they came round a "
              "loop.",
              x.router.looped);
  out.counter("p2p0mq_ask_around_searches_total",
              "Ask-around searches that asked at least one peer.",
              x.ask_around.searches);
  out.counter("p2p0mq_ask_around_questions_total",
              "Ask-around requests sent, one per peer asked.",
              x.ask_around.questions);
  out.counter("p2p0mq_ask_around_answered_total",
              "Ask-around answers sent to questions of other peers.",
              x.ask_around.answered);
  out.counter("p2p0mq_ask_around_passed_on_total",
              "Ask-around questions of other peers passed on.",
              x.ask_around.passed_on);
  out.counter("p2p0mq_ask_around_routes_found_total",
              "Routes learned from ask-around answers.",
              x.ask_around.routes_found);
  return std::move(out).str();
}

} // namespace p2p0mq
