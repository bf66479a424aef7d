#include "p2p0mq/actors/metrics.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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

namespace {

using json = nlohmann::ordered_json;

/// `x` as a JSON string value: uuids and command ids are bytes, and JSON
/// strings are Unicode, so each byte above 0x7f stands for the code point of
/// the same number (rendered `\u00XX`, as the bytes below 0x20 are).
std::string bytes_text(const std::string& x) {
  std::string utf8;
  utf8.reserve(x.size());
  for (unsigned char c : x) {
    if (c < 0x80) {
      utf8 += static_cast<char>(c);
    } else {
      utf8 += static_cast<char>(0xC0 | (c >> 6));
      utf8 += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return utf8;
}

/// Seconds rounded to `digits` decimals (milliseconds for times in a state,
/// microseconds for round trips): what the clock can tell apart.
double rounded(double seconds, double scale) {
  return std::round(seconds * scale) / scale;
}

json seconds_of(duration x) {
  return rounded(std::chrono::duration<double>(x).count(), 1e6);
}

json in_json(const traffic& t) {
  return {{"messages", t.messages}, {"bytes", t.bytes}};
}

json out_json(const outgoing_traffic& t) {
  return {{"messages", t.messages},
          {"bytes", t.bytes},
          {"send_failed", t.send_failed},
          {"dropped", t.dropped}};
}

json rtt_json(const round_trip_times& t) {
  if (t.empty())
    return nullptr;
  return {{"last", seconds_of(t.last())}, {"min", seconds_of(t.min())},
          {"mean", seconds_of(t.mean())}, {"max", seconds_of(t.max())},
          {"samples", t.size()},          {"count", t.count}};
}

/// The members of the JSON object `x`, in order. Appending to them skips
/// the search for a duplicate key that `operator[]` makes (linear in an
/// ordered object): the keys appended are unique already (uuids of the peer
/// table, command ids).
std::vector<std::pair<const std::string, json>>& members(json& x) {
  return x.get_ref<json::object_t&>();
}

/// One line, with a space after each `:` and `,` (the layout of the lines
/// `p2p0mq-node --json` has always printed): nlohmann's layout with an
/// indentation of 0, its line breaks taken out. A line break inside a
/// string is written as `\n`, so every raw one is layout.
std::string one_line(const json& doc) {
  auto text = doc.dump(0, ' ', true);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n')
      out += text[i];
    else if (i > 0 && text[i - 1] == ',')
      out += ' ';
  }
  return out;
}

} // namespace

std::string json_escape(const std::string& x) {
  auto quoted = json(bytes_text(x)).dump(-1, ' ', true);
  return quoted.substr(1, quoted.size() - 2);
}

std::string to_json(const local_peer_metrics& x) {
  json doc;
  doc["uuid"] = bytes_text(x.uuid);
  doc["host"] = bytes_text(x.host);
  doc["port"] = x.port;
  doc["encryption"] = x.encryption;
  doc["sender"] = {{"sent", x.sender.sent},
                   {"send_failed", x.sender.send_failed},
                   {"dropped", x.sender.dropped},
                   {"queued", x.sender.queued},
                   {"held", x.sender.held}};
  doc["receiver"] = {{"received", x.received},
                     {"malformed", x.malformed},
                     {"impostors", x.impostors},
                     {"handshake_failures", x.handshake_failures},
                     {"unknown_command", x.unknown_command}};
  doc["router"] = {{"received", x.router.received},
                   {"sent", x.router.sent},
                   {"dropped", x.router.dropped},
                   {"looped", x.router.looped}};
  doc["ask_around"] = {{"searches", x.ask_around.searches},
                       {"questions", x.ask_around.questions},
                       {"answered", x.ask_around.answered},
                       {"passed_on", x.ask_around.passed_on},
                       {"routes_found", x.ask_around.routes_found}};
  auto& concerns = members(doc["concerns"] = json::object());
  for (auto& c : x.concerns)
    concerns.emplace_back(
        bytes_text(c.command),
        json{{"in", in_json(c.in)}, {"out", out_json(c.out)}});
  auto& peers = members(doc["peers"] = json::object());
  peers.reserve(x.peers.size());
  for (auto& p : x.peers) {
    json entry;
    entry["state"] = std::string{to_string(p.state)};
    entry["host"] = p.host.empty() ? json(nullptr) : json(bytes_text(p.host));
    entry["port"] = p.port;
    entry["via"] = p.via.empty() ? json(nullptr) : json(bytes_text(p.via));
    entry["learnt"] = std::string{to_string(p.origin)};
    entry["seconds_in_state"] = rounded(p.seconds_in_state, 1e3);
    entry["seconds_since_heard"] =
        p.seconds_since_heard < 0 ? json(nullptr)
                                  : json(rounded(p.seconds_since_heard, 1e3));
    entry["heart_beat_slow_down_seconds"] =
        rounded(p.heart_beat_slow_down_seconds, 1e3);
    entry["rtt"] = rtt_json(p.round_trips);
    entry["in"] = in_json(p.in);
    entry["out"] = out_json(p.out);
    peers.emplace_back(bytes_text(p.uuid), std::move(entry));
  }
  return one_line(doc);
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
