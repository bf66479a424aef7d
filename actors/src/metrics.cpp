#include "p2p0mq/actors/metrics.hpp"

#include <cstdio>

namespace p2p0mq {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", x);
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
  std::string out = "{\"uuid\": " + str(x.uuid) + ", \"host\": " + str(x.host) +
                    ", \"port\": " + u(x.port) +
                    ", \"encryption\": " + (x.encryption ? "true" : "false");
  out += ", \"sender\": {\"sent\": " + u(x.sender.sent) +
         ", \"send_failed\": " + u(x.sender.send_failed) +
         ", \"dropped\": " + u(x.sender.dropped) +
         ", \"queued\": " + u(x.sender.queued) +
         ", \"held\": " + u(x.sender.held) + "}";
  out += ", \"receiver\": {\"received\": " + u(x.received) +
         ", \"malformed\": " + u(x.malformed) +
         ", \"impostors\": " + u(x.impostors) +
         ", \"handshake_failures\": " + u(x.handshake_failures) + "}";
  out += ", \"peers\": {";
  bool first = true;
  for (auto& p : x.peers) {
    if (!first)
      out += ", ";
    first = false;
    out +=
        str(p.uuid) + ": {\"state\": \"" + std::string{to_string(p.state)} +
        "\", \"host\": " + (p.host.empty() ? "null" : str(p.host)) +
        ", \"port\": " + u(p.port) +
        ", \"via\": " + (p.via.empty() ? "null" : str(p.via)) +
        ", \"seconds_in_state\": " + number(p.seconds_in_state) +
        ", \"seconds_since_heard\": " +
        (p.seconds_since_heard < 0 ? "null" : number(p.seconds_since_heard)) +
        ", \"heart_beat_slow_down_seconds\": " +
        number(p.heart_beat_slow_down_seconds) + "}";
  }
  out += "}}";
  return out;
}

std::string to_prometheus(const local_peer_metrics& x) {
  exposition out{x.uuid};
  out.family("p2p0mq_peers", "gauge", "Peers in the peer table, by state.");
  for (auto state : all_states)
    out.sample("p2p0mq_peers",
               "state=\"" + std::string{to_string(state)} + "\"",
               std::to_string(x.count(state)));
  out.family("p2p0mq_peer_state_seconds", "gauge",
             "Time each peer has been in its current state.");
  for (auto& p : x.peers)
    out.sample("p2p0mq_peer_state_seconds",
               "peer=\"" + label_escape(p.uuid) + "\",state=\"" +
                   std::string{to_string(p.state)} + "\"",
               number(p.seconds_in_state));
  out.family("p2p0mq_peer_last_heard_seconds", "gauge",
             "Time since anything was heard from each peer (peers heard "
             "from).");
  for (auto& p : x.peers)
    if (p.seconds_since_heard >= 0)
      out.sample("p2p0mq_peer_last_heard_seconds",
                 "peer=\"" + label_escape(p.uuid) + "\"",
                 number(p.seconds_since_heard));
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
              "Messages received, decoded and handed to the manager.",
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
  return std::move(out).str();
}

} // namespace p2p0mq
