// chat: peers named on the command line share a chat room, a p2p0mq group.
//
// Each process is one local peer that runs the group concern and joins the
// room (`--room`, default "chat"). A listener actor prints every line
// published to the room by another member, with its sender, in the order
// that member typed them. Each line read from standard input is published
// to the room: it reaches every member the peer knows, also members several
// hops away through peers that are not in the room. Before reading input the
// program waits until `--wait` other members are known; at the end of the
// input it waits until it has received `--expect` lines, prints
// "chat: success ..." and exits 0; after `--timeout` seconds without that,
// it exits 1.
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
// DIR/public and DIR/private; default: the library's), --room NAME (default
// chat), --wait N (other members to wait for before reading input; default
// 1), --expect N (lines to receive before leaving; default 0), --timeout
// SECONDS (default 30).
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
#include <caf/typed_event_based_actor.hpp>

#include <p2p0mq/actors/groups.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>
#include <p2p0mq/field.hpp>

namespace {

using namespace p2p0mq;
using clock_type = std::chrono::steady_clock;

/// A line arrived (told to the main thread by the listener).
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
  std::string room = "chat";
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
    } else if (flag == "--room") {
      out.room = value;
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

/// The room's listener: prints each line published to it and tells `main`
/// (`line_atom`).
group_listener_actor::behavior_type printer(group_listener_actor::pointer,
                                            caf::actor main) {
  return {
      [](const group_event&) {
        // Joins and leaves: `main` asks for the members when it needs them.
      },
      [main](const group_message& x) {
        auto line = field<std::string>(x.body, "line");
        if (!line)
          return;
        std::printf("[%s] %s\n", x.publisher.c_str(), line->c_str());
        std::fflush(stdout);
        caf::anon_send(main, line_atom::value);
      },
  };
}

/// The members of `room` other than this peer, as it knows them now.
std::size_t others_in(local_peer& me, const std::string& room) {
  auto view = me.groups_now();
  if (!view)
    return 0;
  auto i = view->find(room);
  if (i == view->end())
    return 0;
  std::size_t result = 0;
  for (auto& x : i->second)
    result += x != me.uuid() ? 1 : 0;
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
  me.use_groups();
  if (auto err = me.start())
    return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  caf::scoped_actor self{sys};
  auto listener = sys.spawn(printer, caf::actor_cast<caf::actor>(self));
  caf::anon_send(me.groups(), subscribe_atom::value, listener);
  if (auto joined = me.join(opts.room); !joined)
    return std::fprintf(stderr, "%s\n", render(joined.error()).c_str()), 1;
  std::printf("chat: %s listening on 127.0.0.1:%u\n", me.uuid().c_str(),
              static_cast<unsigned>(me.port()));
  std::fflush(stdout);
  for (auto& x : opts.seeds)
    me.add_peer(x.uuid, x.host, x.port);

  auto deadline = clock_type::now() + std::chrono::seconds{opts.timeout};
  auto fail = [&](const char* what) {
    std::printf("chat: %s within %d s\n", what, opts.timeout);
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
    me.stop();
    return 1;
  };
  std::size_t received = 0;
  auto on_line = [&](line_atom) { ++received; };
  while (others_in(me, opts.room) < opts.wait) {
    if (clock_type::now() >= deadline)
      return fail("too few members known");
    self->receive(
        on_line, caf::after(std::chrono::milliseconds{50}) >> [] {});
  }

  std::size_t lines = 0;
  std::size_t failed = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++lines;
    auto body = payload_builder{}.add_string("line", line).build();
    if (auto n = me.publish(opts.room, body); !n) {
      ++failed;
      std::printf("chat: line %zu not published: %s\n", lines,
                  render(n.error()).c_str());
    }
  }
  // Wait for the lines expected.
  while (received < opts.expect) {
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero())
      return fail("too few lines received");
    self->receive(
        on_line, caf::after(left) >> [] {});
  }
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  me.stop();
  std::printf("chat: %s: published %zu lines (%zu failed), received %zu\n",
              failed == 0 ? "success" : "failure", lines, failed, received);
  return failed == 0 ? 0 : 1;
}
