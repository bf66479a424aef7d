#include "node/topology.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include <spawn.h>
#include <sys/wait.h>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/uuid.hpp"

extern char** environ;

namespace p2p0mq::node {

namespace {

/// `x` escaped for a DOT string literal.
std::string escaped(const std::string& x) {
  std::string out;
  for (unsigned char c : x) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

/// `x` as a DOT string literal.
std::string quoted(const std::string& x) {
  return "\"" + escaped(x) + "\"";
}

const char* colour_of(peer_state x) {
  switch (x) {
  case peer_state::connected:
    return "forestgreen";
  case peer_state::routed:
    return "royalblue";
  case peer_state::connecting:
    return "orange";
  case peer_state::unreachable:
    return "red";
  default:
    return "grey60";
  }
}

/// Runs `dot -Tsvg -o out in`; returns an error saying what failed.
caf::error run_dot(const std::string& in, const std::string& out) {
  std::string prog = "dot";
  std::string type = "-Tsvg";
  std::string flag = "-o";
  auto out_arg = out;
  auto in_arg = in;
  char* argv[] = {prog.data(),    type.data(),   flag.data(),
                  out_arg.data(), in_arg.data(), nullptr};
  pid_t pid = 0;
  auto rc = posix_spawnp(&pid, "dot", nullptr, nullptr, argv, environ);
  if (rc != 0)
    return make_error(errc::invalid_config, "cannot run Graphviz's dot for " +
                                                out + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // Interrupted by a signal: wait again.
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(errc::invalid_config,
                      "Graphviz's dot failed to render " + out);
  return caf::none;
}

} // namespace

std::string topology_dot(const std::string& uuid,
                         const std::vector<peer>& peers) {
  std::string out = "digraph p2p0mq {\n";
  out += "  graph [overlap=false, splines=true, label=" +
         quoted("p2p0mq peers known to " + short_uuid(uuid)) + "];\n";
  out += "  node [shape=box, style=rounded, fontname=monospace];\n";
  out += "  " + quoted(uuid) + " [label=" + quoted(short_uuid(uuid)) +
         ", style=\"rounded,bold\"];\n";
  std::set<std::string> known;
  for (auto& p : peers)
    known.insert(p.uuid);
  for (auto& p : peers) {
    // Two lines: the short uuid, then the state and how it was learnt.
    auto label = "\"" + escaped(short_uuid(p.uuid)) + "\\n" +
                 std::string{to_string(p.state)} + " (" +
                 std::string{to_string(p.origin)} + ")\"";
    out += "  " + quoted(p.uuid) + " [label=" + label +
           ", color=" + colour_of(p.state) + "];\n";
    auto routed = p.state == peer_state::routed && !p.via.empty();
    if (routed) {
      if (!known.count(p.via)) {
        out += "  " + quoted(p.via) + " [label=" + quoted(short_uuid(p.via)) +
               ", color=grey60];\n";
        known.insert(p.via);
      }
      out += "  " + quoted(p.via) + " -> " + quoted(p.uuid) +
             " [color=" + colour_of(p.state) + ", style=dashed];\n";
    } else {
      out += "  " + quoted(uuid) + " -> " + quoted(p.uuid) +
             " [color=" + colour_of(p.state) + "];\n";
    }
  }
  out += "}\n";
  return out;
}

caf::error write_topology(const std::string& path, const std::string& uuid,
                          const std::vector<peer>& peers) {
  auto svg = path.size() >= 4 && path.compare(path.size() - 4, 4, ".svg") == 0;
  auto dot_path = svg ? path + ".dot.tmp" : path + ".tmp";
  {
    std::ofstream out{dot_path, std::ios::trunc};
    out << topology_dot(uuid, peers);
    if (!out)
      return make_error(errc::invalid_config, "cannot write " + dot_path);
  }
  if (svg) {
    auto tmp = path + ".tmp";
    auto err = run_dot(dot_path, tmp);
    std::remove(dot_path.c_str());
    if (err)
      return err;
    dot_path = tmp;
  }
  if (std::rename(dot_path.c_str(), path.c_str()) != 0)
    return make_error(errc::invalid_config,
                      "cannot write " + path + ": " + std::strerror(errno));
  return caf::none;
}

} // namespace p2p0mq::node
