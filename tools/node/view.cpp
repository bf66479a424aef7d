#include "node/view.hpp"

#include <cstdio>

#include "p2p0mq/uuid.hpp"

namespace p2p0mq::node {

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

std::string json_line(double t, const std::string& uuid,
                      const std::vector<peer>& peers) {
  char tbuf[32];
  std::snprintf(tbuf, sizeof(tbuf), "%.3f", t);
  std::string out = "{\"t\": ";
  out += tbuf;
  out += ", \"uuid\": \"" + json_escape(uuid) + "\", \"peers\": {";
  bool first = true;
  for (auto& p : peers) {
    if (!first)
      out += ", ";
    first = false;
    out += "\"" + json_escape(p.uuid) + "\": {\"state\": \"";
    out += to_string(p.state);
    out += "\", \"host\": ";
    out += p.host.empty() ? "null" : "\"" + json_escape(p.host) + "\"";
    out += ", \"port\": " + std::to_string(p.port) + ", \"via\": ";
    out += p.via.empty() ? "null" : "\"" + json_escape(p.via) + "\"";
    out += "}";
  }
  out += "}}";
  return out;
}

std::string table(double t, const std::string& uuid, std::uint16_t port,
                  const std::vector<peer>& peers) {
  char line[128];
  std::string out;
  std::snprintf(line, sizeof(line), "p2p0mq peer %s on port %u, %.1f s\n",
                short_uuid(uuid).c_str(), static_cast<unsigned>(port), t);
  out += line;
  std::snprintf(line, sizeof(line), "%-10s %-14s %-22s %-10s\n", "PEER",
                "STATE", "ADDRESS", "VIA");
  out += line;
  for (auto& p : peers) {
    auto addr = p.host.empty() ? std::string{"-"}
                               : p.host + ":" + std::to_string(p.port);
    std::snprintf(line, sizeof(line), "%-10s %-14s %-22s %-10s\n",
                  short_uuid(p.uuid).c_str(),
                  std::string{to_string(p.state)}.c_str(), addr.c_str(),
                  p.via.empty() ? "-" : short_uuid(p.via).c_str());
    out += line;
  }
  if (peers.empty())
    out += "(no peers yet)\n";
  return out;
}

} // namespace p2p0mq::node
