// p2p0mq-node: runs one local peer. See `p2p0mq-node --help`.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <pthread.h>
#include <unistd.h>
#include <zmq.hpp>

#include "node/groups.hpp"
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

std::string format_seconds(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", x);
  return buf;
}

std::string explain(const caf::error& err) {
  auto text = context_of(err);
  return text.empty() ? render(err) : text;
}

/// What a failed bind of the receiver to `host` means, in words.
std::string bind_hint(const std::string& host, const caf::error& err) {
  auto text = context_of(err);
  auto why = text.substr(text.rfind(": ") + 2);
  if (why == "No such device")
    return host +
           " is neither an address of this machine nor the name of one of "
           "its interfaces or a host name that resolves to one (ZeroMQ: " +
           why + ")";
  if (why == "Address already in use")
    return "the address is in use by another program; choose another port, "
           "or 0 for any free one";
  if (why == "Cannot assign requested address")
    return host + " is not an address of this machine (ZeroMQ: " + why + ")";
  return "cannot bind there (ZeroMQ: " + why + ")";
}

/// Takes SIGINT and SIGTERM (blocked in every thread) on a thread of its
/// own: the first becomes a message `("signal", int)` to the actor given to
/// `start`, and a second one ends the process at once, should stopping take
/// long.
class signal_forwarder {
public:
  explicit signal_forwarder(const sigset_t& signals) : signals_(signals) {
  }

  void start(caf::actor to) {
    target_ = std::make_shared<target>();
    target_->to = std::move(to);
    std::thread{[signals = signals_, t = target_] {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0)
        return;
      {
        std::lock_guard<std::mutex> guard{t->mutex};
        if (t->to)
          caf::anon_send(t->to, std::string{"signal"}, sig);
      }
      if (sigwait(&signals, &sig) == 0) {
        std::fprintf(stderr, "p2p0mq-node: %s again, exiting at once\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::_Exit(130);
      }
    }}.detach();
  }

  /// Lets go of the actor (before the actor system ends).
  ~signal_forwarder() {
    if (!target_)
      return;
    std::lock_guard<std::mutex> guard{target_->mutex};
    target_->to = nullptr;
  }

private:
  struct target {
    std::mutex mutex;
    caf::actor to;
  };
  sigset_t signals_;
  std::shared_ptr<target> target_;
};

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
    return fail(2, context_of(err).empty() ? cfg.render(err) : explain(err));
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
      overrides("--bind " + opts->host + ":" + std::to_string(opts->port),
                "p2p0mq.host/p2p0mq.port (" + cfg.settings.host + ":" +
                    std::to_string(cfg.settings.port) + ")");
    cfg.settings.host = opts->host;
    cfg.settings.port = opts->port;
  }
  if (!opts->encryption) {
    if (cfg.settings.encryption && caf::get_if<bool>(&cfg, "p2p0mq.encryption"))
      overrides("--no-encryption", "p2p0mq.encryption=true");
    cfg.settings.encryption = false;
  }
  if (!opts->certs.empty()) {
    auto pub = opts->certs + "/public";
    auto priv = opts->certs + "/private";
    if ((!cfg.settings.public_cert_dir.empty() &&
         cfg.settings.public_cert_dir != pub) ||
        (!cfg.settings.private_cert_dir.empty() &&
         cfg.settings.private_cert_dir != priv))
      overrides("--certs " + opts->certs,
                "p2p0mq.public-cert-dir/p2p0mq.private-cert-dir");
    cfg.settings.public_cert_dir = pub;
    cfg.settings.private_cert_dir = priv;
  }
  if (!opts->database.empty()) {
    if (!cfg.settings.database.empty() &&
        cfg.settings.database != opts->database)
      overrides("--db " + opts->database,
                "p2p0mq.database=" + cfg.settings.database);
    cfg.settings.database = opts->database;
  }
  if (!opts->route_via.empty()) {
    if (!cfg.settings.default_route.empty() &&
        cfg.settings.default_route != opts->route_via)
      overrides("--route-via " + opts->route_via,
                "p2p0mq.default-route=" + cfg.settings.default_route);
    cfg.settings.default_route = opts->route_via;
  }
  // -- discovery: begin --
  if (opts->discover) {
    cfg.settings.discovery.beacons = true;
    if (cfg.settings.discovery.target_degree == 0)
      cfg.settings.discovery.target_degree = 8;
  }
  if (opts->target_degree > 0)
    cfg.settings.discovery.target_degree = opts->target_degree;
  // -- discovery: end --
  if (auto err = cfg.settings.validate())
    return fail(2, explain(err));
  caf::actor_system sys{cfg};
  local_peer peer{sys, cfg.settings};
  // Every node runs the group concern: it relays group traffic for others
  // also when it joins nothing.
  bool grouping = true;
  peer.use_groups();
  if (auto err = peer.start()) {
    // Name the flag (or option) that chose the address that does not work.
    if (is(err, errc::socket_error) &&
        context_of(err).rfind("cannot bind", 0) == 0) {
      auto where = cfg.settings.host + ":" + std::to_string(cfg.settings.port);
      auto source = opts->bind_given
                        ? "--bind " + where
                        : "p2p0mq.host/p2p0mq.port (" + where + ")";
      return fail(1, source + ": " + bind_hint(cfg.settings.host, err));
    }
    return fail(1, explain(err));
  }
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
  node::pinger_actor pinger;
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
    if (auto err = peer.add_concern(
            echo_command, echo(caf::actor_cast<caf::actor>(pinger)))) {
      caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
      return fail(1, explain(err));
    }
  } else if (opts->echo) {
    if (auto err = peer.add_concern(echo_command, echo()))
      return fail(1, explain(err));
  }
  // From here on every way out stops the pinger first: the actor system
  // waits for every actor before `main` returns.
  auto stop_pinger = [&] {
    if (pinger)
      caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
  };
  for (auto& p : opts->peers)
    if (auto err = peer.add_peer(p.uuid, p.host, p.port)) {
      stop_pinger();
      return fail(2, "--peer " + p.uuid + ": " + explain(err));
    }
  int rc = 0;
  // Groups: print what is delivered, join, publish once a member is known.
  group_listener_actor group_printer;
  if (grouping) {
    group_printer = node::spawn_group_printer(sys, opts->json);
    caf::anon_send(peer.groups(), subscribe_atom::value, group_printer);
    for (auto& g : opts->join)
      if (auto joined = peer.join(g); !joined) {
        stop_pinger();
        caf::anon_send_exit(group_printer, caf::exit_reason::user_shutdown);
        return fail(1, "--join " + g + ": " + explain(joined.error()));
      }
  }
  bool published = opts->publish.empty();
  auto publish_when_ready = [&] {
    if (published)
      return;
    auto view = peer.groups_now();
    if (!view)
      return;
    auto i = view->find(opts->publish);
    if (i == view->end() ||
        (i->second.size() == 1 && i->second.front() == peer.uuid()))
      return;
    published = true;
    for (int k = 1; k <= opts->count; ++k) {
      auto body = payload_builder{}
                      .add_integer("seq", k)
                      .add_string("text", "message " + std::to_string(k) +
                                              " from " + peer.uuid())
                      .build();
      if (auto n = peer.publish(opts->publish, std::move(body)); !n) {
        std::fprintf(stderr, "p2p0mq-node: --publish %s: %s\n",
                     opts->publish.c_str(), explain(n.error()).c_str());
        rc = 1;
        break;
      }
    }
  };
  auto start = steady_clock::now();
  auto end = opts->duration > 0
                 ? start + std::chrono::duration_cast<steady_clock::duration>(
                               std::chrono::duration<double>(opts->duration))
                 : steady_clock::time_point::max();
  auto period = opts->json ? std::chrono::milliseconds{500}
                           : std::chrono::milliseconds{1000};
  bool tty = isatty(STDOUT_FILENO) == 1;
  bool pinger_done = false;
  std::string why;
  int stopped_by = 0;
  auto next_report = start;
  // Waits for the pinger's report or a signal until `deadline`.
  auto wait_until = [&](steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - steady_clock::now());
    if (left.count() < 0)
      left = std::chrono::milliseconds{0};
    self->receive(
        [&](const std::string& what, int code, std::string& reason) {
          if (what == "done") {
            pinger_done = true;
            rc = code;
            why = std::move(reason);
          }
        },
        [&](const std::string& what, int sig) {
          if (what == "signal")
            stopped_by = sig;
        },
        caf::after(left) >> [] {});
  };
  // Declared after `self`: it lets go of `self` before `self` ends.
  signal_forwarder forward_signals{signals};
  forward_signals.start(caf::actor_cast<caf::actor>(self));
  while (stopped_by == 0 && !pinger_done) {
    auto now = steady_clock::now();
    if (now >= end)
      break;
    if (now >= next_report) {
      auto t = std::chrono::duration<double>(now - start).count();
      if (opts->json) {
        if (auto m = peer.metrics()) {
          auto line = node::json_line(t, *m);
          if (grouping)
            if (auto view = peer.groups_now())
              line = node::with_groups(line, *view);
          std::printf("%s\n", line.c_str());
        }
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
    publish_when_ready();
    wait_until(std::min(next_report, end));
  }
  if (pinging && !pinger_done) {
    // Cut short by a signal or by --duration: the pinger prints what it has
    // and says what was not answered.
    stop_pinger();
    auto deadline = steady_clock::now() + std::chrono::seconds{1};
    while (!pinger_done && steady_clock::now() < deadline)
      wait_until(deadline);
    if (!pinger_done) {
      rc = 1;
      why = "the pinger did not report";
    }
    auto cause = stopped_by == SIGINT ? std::string{"SIGINT"}
                 : stopped_by == SIGTERM
                     ? std::string{"SIGTERM"}
                     : "--duration " + format_seconds(opts->duration);
    why = "stopped by " + cause + (why.empty() ? "" : ": " + why);
  }
  if (rc != 0 && !why.empty())
    std::fprintf(stderr, "p2p0mq-node: %s\n", why.c_str());
  write_topology();
  metrics.reset();
  // A pinger that has not finished (a signal, --duration) would keep the
  // actor system from ending.
  if (pinger)
    caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
  if (group_printer)
    caf::anon_send_exit(group_printer, caf::exit_reason::user_shutdown);
  peer.stop();
  return rc;
}
