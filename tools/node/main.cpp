// p2p0mq-node: runs one local peer. See `p2p0mq-node --help`.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <pthread.h>
#include <unistd.h>
#include <zmq.hpp>

#include "node/metrics_server.hpp"
#include "node/options.hpp"
#include "node/pinger.hpp"
#include "node/topology.hpp"
#include "node/view.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

namespace {

using namespace p2p0mq;
using std::chrono::steady_clock;

constexpr const char* version = "0.1.0";

int fail(int code, const std::string& what) {
  std::fprintf(stderr, "p2p0mq-node: %s\n", what.c_str());
  return code;
}

std::string explain(const caf::error& err) {
  auto text = context_of(err);
  return text.empty() ? render(err) : text;
}

/// Waits until `deadline` or a blocked SIGINT/SIGTERM; true on a signal.
bool wait_for_signal(const sigset_t& signals,
                     steady_clock::time_point deadline) {
  auto left = deadline - steady_clock::now();
  if (left <= steady_clock::duration::zero())
    return false;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec ts{static_cast<time_t>(ns / 1000000000),
              static_cast<long>(ns % 1000000000)};
  return sigtimedwait(&signals, nullptr, &ts) > 0;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = node::parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts)
    return fail(2, explain(opts.error()));
  if (opts->help) {
    std::fputs(node::usage().c_str(), stdout);
    return 0;
  }
  if (opts->version) {
    std::printf("p2p0mq-node %s\n", version);
    return 0;
  }
  if (!opts->log_level.empty())
    if (auto err = node::apply_log_levels(opts->log_level))
      return fail(2, "--log-level: " + explain(err));
  // Signals are taken by the main thread only: block them before any other
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  system_config cfg;
  std::vector<std::string> caf_args = opts->caf_args;
  if (auto err = cfg.parse(caf_args))
    return fail(2, cfg.render(err));
  if (cfg.cli_helptext_printed)
    return 0;
  // Flags win over the config file; each conflict is reported.
  auto overrides = [](const std::string& flag, const std::string& option) {
    std::fprintf(stderr, "p2p0mq-node: %s overrides %s from the config\n",
                 flag.c_str(), option.c_str());
  };
  if (!opts->uuid.empty()) {
    if (!cfg.settings.uuid.empty() && cfg.settings.uuid != opts->uuid)
      overrides("--uuid " + opts->uuid, "p2p0mq.uuid=" + cfg.settings.uuid);
    cfg.settings.uuid = opts->uuid;
  }
  if (opts->bind_given) {
    config defaults;
    if ((cfg.settings.host != defaults.host &&
         cfg.settings.host != opts->host) ||
        (cfg.settings.port != defaults.port && cfg.settings.port != opts->port))
      overrides("--bind", "p2p0mq.host/p2p0mq.port");
    cfg.settings.host = opts->host;
    cfg.settings.port = opts->port;
  }
  if (!opts->encryption)
    cfg.settings.encryption = false;
  if (!opts->certs.empty()) {
    cfg.settings.public_cert_dir = opts->certs + "/public";
    cfg.settings.private_cert_dir = opts->certs + "/private";
  }
  if (!opts->database.empty())
    cfg.settings.database = opts->database;
  if (!opts->route_via.empty())
    cfg.settings.default_route = opts->route_via;
  if (auto err = cfg.settings.validate())
    return fail(2, explain(err));
  caf::actor_system sys{cfg};
  local_peer peer{sys, cfg.settings};
  if (auto err = peer.start())
    return fail(1, explain(err));
  std::fprintf(stderr, "p2p0mq-node %s listening on %s:%u (encryption %s)\n",
               peer.uuid().c_str(), peer.settings().host.c_str(),
               static_cast<unsigned>(peer.port()),
               peer.settings().encryption ? "on" : "off");
  // The metrics endpoint has a ZeroMQ context of its own.
  zmq::context_t metrics_context{1};
  std::unique_ptr<node::metrics_server> metrics;
  if (opts->metrics) {
    auto server = node::metrics_server::start(
        metrics_context, opts->metrics_host, opts->metrics_port, [&peer] {
          auto m = peer.metrics();
          return m ? to_prometheus(*m)
                   : "# metrics unavailable: " + render(m.error()) + "\n";
        });
    if (!server)
      return fail(1, explain(server.error()));
    metrics = std::move(*server);
    std::fprintf(stderr, "p2p0mq-node metrics on http://%s:%u/metrics\n",
                 opts->metrics_host.c_str(),
                 static_cast<unsigned>(metrics->port()));
  }
  auto write_topology = [&] {
    if (opts->topology.empty())
      return;
    auto peers = peer.peers();
    if (!peers)
      return;
    if (auto err = node::write_topology(opts->topology, peer.uuid(), *peers))
      std::fprintf(stderr, "p2p0mq-node: %s\n", explain(err).c_str());
  };
  caf::scoped_actor self{sys};
  bool pinging = !opts->ping.empty();
  // Stopped at the end, done or not: the actor system waits for it.
  concern_actor pinger;
  if (pinging) {
    node::ping_plan plan;
    plan.target = opts->ping;
    plan.count = opts->count;
    plan.interval = std::chrono::duration_cast<duration>(
        std::chrono::duration<double>(opts->interval));
    plan.timeout = std::chrono::duration_cast<duration>(
        std::chrono::duration<double>(opts->ping_timeout));
    pinger = node::spawn_pinger(sys, peer.context(), plan,
                                caf::actor_cast<caf::actor>(self));
    if (auto err = peer.add_concern(echo_command,
                                    echo(caf::actor_cast<caf::actor>(pinger))))
      return fail(1, explain(err));
  } else if (opts->echo) {
    if (auto err = peer.add_concern(echo_command, echo()))
      return fail(1, explain(err));
  }
  for (auto& p : opts->peers)
    if (auto err = peer.add_peer(p.uuid, p.host, p.port))
      return fail(2, "--peer " + p.uuid + ": " + explain(err));
  auto start = steady_clock::now();
  auto end = opts->duration > 0
                 ? start + std::chrono::duration_cast<steady_clock::duration>(
                               std::chrono::duration<double>(opts->duration))
                 : steady_clock::time_point::max();
  auto period = opts->json ? std::chrono::milliseconds{500}
                           : std::chrono::milliseconds{1000};
  bool tty = isatty(STDOUT_FILENO) == 1;
  int rc = pinging ? 1 : 0;
  auto next_report = start;
  for (;;) {
    auto now = steady_clock::now();
    if (now >= end)
      break;
    if (now >= next_report) {
      auto t = std::chrono::duration<double>(now - start).count();
      if (opts->json) {
        if (auto m = peer.metrics())
          std::printf("%s\n", node::json_line(t, *m).c_str());
        std::fflush(stdout);
      } else if (!pinging || opts->watch) {
        if (auto m = peer.metrics())
          std::printf("%s%s\n", tty ? "\x1b[H\x1b[2J" : "",
                      node::table(t, *m, tty).c_str());
        std::fflush(stdout);
      }
      write_topology();
      next_report += period;
    }
    if (wait_for_signal(signals, std::min(next_report, end)))
      break;
    bool done = false;
    self->receive(
        [&](const std::string& what, int code) {
          if (what == "done") {
            done = true;
            rc = code;
          }
        },
        caf::after(std::chrono::seconds{0}) >> [] {});
    if (done)
      break;
  }
  write_topology();
  metrics.reset();
  if (pinger)
    caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
  peer.stop();
  return rc;
}
