// remote_concern: a concern in another process serves the requests a third
// peer makes.
//
// This process runs two local peers, `front-0001` and `asker-0002`, and
// publishes front's supervisor with CAF's middleman over TLS on 127.0.0.1 (a
// port the system picks). It makes two certificates first, one for itself
// and one for the second process, in a directory both trust. It then starts
// itself again as a second process (`--serve=PORT --certs=DIR`), which
// connects to the published supervisor with its own certificate and registers
// the `upper` concern there. asker sends `upper` requests to front over
// ZeroMQ; front's supervisor hands them to the concern in the second process,
// and its replies leave through front, exactly as a local concern's would.
// At the end front stops: the second process sees the supervisor go and exits
// by itself. Prints each step and a last line "remote_concern: success ...";
// exits 0 when every request was answered by the second process and it
// ended cleanly, 1 otherwise.
//
// Run: build/examples/remote_concern/remote_concern
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/scoped_actor.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include <p2p0mq/actors/concern_base.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/remote.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>

extern char** environ;

namespace {

using namespace p2p0mq;
using namespace std::chrono_literals;

struct example_config : system_config {
  example_config() {
    caf::config_option_adder{custom_options_, "global"}
        .add(serve, "serve",
             "serve `upper` for the supervisor published on PORT")
        .add(certs, "certs", "the certificate directory of --serve");
  }
  std::uint16_t serve = 0;
  std::string certs;
};

/// The second process: registers `upper` with the supervisor on `port` and
/// serves it until the supervisor goes away.
int serve(caf::actor_system& sys, std::uint16_t port) {
  auto served = std::make_shared<int>(0);
  auto pid = static_cast<std::int64_t>(getpid());
  concern_handlers h;
  h.on_request = [served, pid](concern_base&, const message& req) -> answer {
    auto text = field<std::string>(req.payload, "text");
    if (!text)
      return text.error();
    for (auto& c : *text)
      if (c >= 'a' && c <= 'z')
        c = static_cast<char>(c - 'a' + 'A');
    ++*served;
    return payload_builder{}
        .add_string("text", *text)
        .add_integer("pid", pid)
        .build();
  };
  auto concern =
      attach_concern(sys, "127.0.0.1", port, "upper", make_concern(h));
  if (!concern) {
    std::printf("  [process %lld] cannot attach: %s\n",
                static_cast<long long>(pid), render(concern.error()).c_str());
    return 1;
  }
  std::printf(
      "  [process %lld] serving 'upper' for the supervisor on port %u\n",
      static_cast<long long>(pid), static_cast<unsigned>(port));
  std::fflush(stdout);
  caf::scoped_actor self{sys};
  self->wait_for(*concern);
  std::printf("  [process %lld] the supervisor went away after %d requests; "
              "done\n",
              static_cast<long long>(pid), *served);
  return 0;
}

/// A directory for the run's certificates, removed at the end.
struct temp_dir {
  temp_dir() {
    auto pattern =
        (std::filesystem::temp_directory_path() / "p2p0mq-remote-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) != nullptr)
      path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

/// Waits (at most `limit`) for `pid` to exit; returns its exit code, or -1.
int wait_exit(caf::scoped_actor& self, pid_t pid,
              std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    self->receive(caf::after(20ms) >> [] {});
  }
}

} // namespace

int main(int argc, char** argv) {
  // Both processes write to the same output: one line at a time.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  example_config cfg;
  if (auto err = cfg.parse(argc, argv))
    return std::fprintf(stderr, "%s\n", cfg.render(err).c_str()), 2;
  if (cfg.cli_helptext_printed)
    return 0;
  if (cfg.serve != 0) {
    // The second process: the certificate made for it by the first.
    auto tls = remote_options::in_store(cfg.certs, "upper-host");
    if (auto err = load_remote(cfg, tls))
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
    caf::actor_system sys{cfg};
    return serve(sys, cfg.serve);
  }

  temp_dir certs;
  if (certs.path.empty())
    return std::fprintf(stderr, "cannot make a temporary directory\n"), 1;
  // Two TLS certificates in one directory: each process trusts the other's.
  for (auto name : {"front-0001", "upper-host"})
    if (auto err = make_remote_certificate(certs.path, name))
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  if (auto err =
          load_remote(cfg, remote_options::in_store(certs.path, "front-0001")))
    return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  caf::actor_system sys{cfg};
  auto zmq_context = std::make_shared<zmq::context_t>(1);
  auto settings_of = [&](const std::string& uuid) {
    auto settings = cfg.settings;
    settings.uuid = uuid;
    settings.public_cert_dir = certs.path + "/public";
    settings.private_cert_dir = certs.path + "/private";
    return settings;
  };
  local_peer front{sys, settings_of("front-0001"), zmq_context};
  local_peer asker{sys, settings_of("asker-0002"), zmq_context};
  for (auto* peer : {&front, &asker})
    if (auto err = peer->start())
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  asker.add_peer(front.uuid(), "127.0.0.1", front.port());
  auto port = publish_supervisor(front);
  if (!port)
    return std::fprintf(stderr, "%s\n", render(port.error()).c_str()), 1;
  std::printf("front-0001's supervisor is published over TLS on 127.0.0.1:%u\n",
              static_cast<unsigned>(*port));
  std::fflush(stdout);

  // The second process: this program again, serving.
  std::string self_path = "/proc/self/exe";
  auto serve_arg = "--serve=" + std::to_string(*port);
  auto certs_arg = "--certs=" + certs.path;
  std::vector<char*> child_argv{argv[0], serve_arg.data(), certs_arg.data(),
                                nullptr};
  pid_t child = -1;
  if (posix_spawn(&child, self_path.c_str(), nullptr, nullptr,
                  child_argv.data(), environ) != 0)
    return std::fprintf(stderr, "cannot start the second process\n"), 1;

  // Wait until the concern is registered and the peers are connected.
  caf::scoped_actor self{sys};
  auto registered = [&] {
    auto result = false;
    self->request(front.supervisor(), 5s, get_atom::value)
        .receive(
            [&](const std::vector<std::string>& xs) {
              for (auto& x : xs)
                result = result || x == "upper";
            },
            [](caf::error&) {});
    return result;
  };
  auto connected = [&] {
    auto p = asker.find_peer(front.uuid());
    return p && p->state == peer_state::connected;
  };
  for (int i = 0; i < 200 && !(registered() && connected()); ++i)
    self->receive(caf::after(50ms) >> [] {});
  if (!registered() || !connected()) {
    std::printf("the concern did not register, or the peers did not "
                "connect\n");
    wait_exit(self, child, 0ms);
    return 1;
  }
  std::printf("'upper' is registered with front-0001 from process %lld\n",
              static_cast<long long>(child));

  int served = 0;
  for (auto word : {"alpha", "beta", "gamma"}) {
    auto body = payload_builder{}.add_string("text", word).build();
    auto reply = asker.request(front.uuid(), "upper", body, 5s);
    if (!reply) {
      std::printf("asker -> front: %s\n", render(reply.error()).c_str());
      continue;
    }
    auto text = reply->payload.get_string("text");
    auto pid = reply->payload.get_integer("pid");
    std::printf("asker -> front: %s -> %s (served by process %lld)\n", word,
                text ? text->c_str() : "?",
                static_cast<long long>(pid ? *pid : -1));
    served += pid && *pid == child;
  }
  front.stop();
  auto rc = wait_exit(self, child, 10000ms);
  asker.stop();
  std::printf("the second process exited with %d\n", rc);
  if (served != 3 || rc != 0) {
    std::printf("remote_concern: %d of 3 requests served remotely\n", served);
    return 1;
  }
  std::printf("remote_concern: success: 3 requests from asker-0002 served by "
              "process %lld through front-0001\n",
              static_cast<long long>(child));
  return 0;
}
