// chat: peers named on the command line exchange the lines typed into them.
//
// Each process is one local peer running the `chat` concern, written in the
// function-based form: it prints every line it receives and acknowledges it
// with a reply. Each line read from standard input goes, as a `chat`
// request, to every peer CONNECTED at that moment; the sender waits for the
// acknowledgements before reading the next line. At the end of the input,
// the program waits until it has received `--expect` lines and every
// acknowledgement it owes has left, prints "chat: success ..." and exits 0;
// after `--timeout` seconds without that, it exits 1.
//
// Run it in two terminals (peers that share a certificate directory trust
// each other; type lines, end with Ctrl-D):
//
//   build/examples/chat/chat --uuid alice-0001 --port 7001 --certs /tmp/chat
//   build/examples/chat/chat --uuid bob-0002 --certs /tmp/chat
//       --peer alice-0001@127.0.0.1:7001      (on one line)
//
// Flags: --uuid ID (default: generated), --port N (default 0: any),
// --peer ID@HOST:PORT (a seed; repeatable), --certs DIR (certificates in
// DIR/public and DIR/private; default: the library's), --wait N (peers to
// wait for before reading input; default 1), --expect N (lines to receive
// before leaving; default 0), --timeout SECONDS (default 30).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <p2p0mq/actors/concern_base.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>

namespace {

using namespace p2p0mq;
using clock_type = std::chrono::steady_clock;

/// A line arrived (told to the main thread by the concern).
using line_atom = caf::atom_constant<caf::atom("line")>;

struct seed {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
};

struct options {
  std::string uuid;
  std::uint16_t port = 0;
  std::vector<seed> seeds;
  std::string certs;
  std::size_t wait = 1;
  std::size_t expect = 0;
  int timeout = 30;
};

/// Parses `ID@HOST:PORT`.
bool parse_seed(const std::string& text, seed& out) {
  auto at = text.find('@');
  auto colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at)
    return false;
  out.uuid = text.substr(0, at);
  out.host = text.substr(at + 1, colon - at - 1);
  auto port = std::atoi(text.c_str() + colon + 1);
  if (out.uuid.size() < 4 || out.host.empty() || port < 1 || port > 65535)
    return false;
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

bool parse(int argc, char** argv, options& out) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--uuid") {
      out.uuid = value;
    } else if (flag == "--port") {
      out.port = static_cast<std::uint16_t>(std::atoi(value.c_str()));
    } else if (flag == "--peer") {
      seed x;
      if (!parse_seed(value, x))
        return false;
      out.seeds.push_back(x);
    } else if (flag == "--certs") {
      out.certs = value;
    } else if (flag == "--wait") {
      out.wait = static_cast<std::size_t>(std::atoi(value.c_str()));
    } else if (flag == "--expect") {
      out.expect = static_cast<std::size_t>(std::atoi(value.c_str()));
    } else if (flag == "--timeout") {
      out.timeout = std::atoi(value.c_str());
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && out.timeout > 0;
}

/// The `chat` concern: prints each line and acknowledges it; tells `main`
/// of each line (`line_atom`) and of each acknowledgement that left
/// (`sent_atom`).
concern_factory chat_concern(caf::actor main) {
  concern_handlers h;
  h.on_request = [main](concern_base&, const message& req) -> answer {
    auto line = field<std::string>(req.payload, "line");
    if (!line)
      return line.error();
    std::printf("[%s] %s\n", req.source.c_str(), line->c_str());
    std::fflush(stdout);
    caf::anon_send(main, line_atom::value);
    return payload{};
  };
  h.on_sent = [main](concern_base&, const message& msg) {
    if (msg.is_reply())
      caf::anon_send(main, sent_atom::value);
  };
  return make_concern(h);
}

/// The uuids of the peers CONNECTED now.
std::vector<std::string> connected(local_peer& me) {
  std::vector<std::string> result;
  if (auto all = me.peers())
    for (auto& p : *all)
      if (p.state == peer_state::connected)
        result.push_back(p.uuid);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts)) {
    std::fprintf(stderr,
                 "usage: %s [--uuid ID] [--port N] [--peer ID@HOST:PORT]... "
                 "[--certs DIR] [--wait N] [--expect N] [--timeout S]\n",
                 argv[0]);
    return 2;
  }
  system_config cfg;
  caf::actor_system sys{cfg};
  auto settings = cfg.settings;
  settings.uuid = opts.uuid;
  settings.port = opts.port;
  if (!opts.certs.empty()) {
    settings.public_cert_dir = opts.certs + "/public";
    settings.private_cert_dir = opts.certs + "/private";
  }
  local_peer me{sys, settings};
  if (auto err = me.start())
    return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  caf::scoped_actor self{sys};
  me.add_concern("chat", chat_concern(caf::actor_cast<caf::actor>(self)));
  std::printf("chat: %s listening on 127.0.0.1:%u\n", me.uuid().c_str(),
              static_cast<unsigned>(me.port()));
  std::fflush(stdout);
  for (auto& x : opts.seeds)
    me.add_peer(x.uuid, x.host, x.port);

  auto deadline = clock_type::now() + std::chrono::seconds{opts.timeout};
  auto fail = [&](const char* what) {
    std::printf("chat: %s within %d s\n", what, opts.timeout);
    me.stop();
    return 1;
  };
  // Lines received and acknowledgements that left, counted as they come.
  std::size_t received = 0;
  std::size_t acks_sent = 0;
  auto on_line = [&](line_atom) { ++received; };
  auto on_ack = [&](sent_atom) { ++acks_sent; };
  while (connected(me).size() < opts.wait) {
    if (clock_type::now() >= deadline)
      return fail("too few peers connected");
    self->receive(
        on_line, on_ack, caf::after(std::chrono::milliseconds{50}) >> [] {});
  }

  std::size_t lines = 0;
  std::size_t delivered = 0;
  std::size_t failed = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++lines;
    auto body = payload_builder{}.add_string("line", line).build();
    for (auto& peer : connected(me))
      me.request(self, peer, "chat", body, std::chrono::seconds{5})
          .receive([&](message&) { ++delivered; },
                   [&](caf::error& err) {
                     ++failed;
                     std::printf("chat: line %zu not delivered to %s: %s\n",
                                 lines, peer.c_str(), render(err).c_str());
                   });
  }
  // Wait for the lines expected, and until every acknowledgement owed left.
  while (received < opts.expect || acks_sent < received) {
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero())
      return fail("too few lines received");
    self->receive(
        on_line, on_ack, caf::after(left) >> [] {});
  }
  me.stop();
  std::printf("chat: %s: sent %zu lines (%zu deliveries, %zu failed), "
              "received %zu\n",
              failed == 0 ? "success" : "failure", lines, delivered, failed,
              received);
  return failed == 0 ? 0 : 1;
}
