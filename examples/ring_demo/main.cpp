// ring_demo: four local peers on 127.0.0.1 form a ring and keep it alive.
//
// Each peer starts on a port the operating system picks and is told the
// address of the next one; the greetings make every link work both ways. Once
// every peer sees both neighbours CONNECTED, each pings its neighbours through
// the `echo` concern and the round trips are printed; then the ring is watched
// for a few seconds while heart-beats keep it up. Encryption is on: each peer
// keeps its certificates in a directory of its own (made for the run, removed
// at the end) and trusts only its two neighbours. A live view of every peer's
// table is printed twice a second. Ends by itself (exit 0 when every link came
// up, every ping was answered and the ring stayed up, 1 otherwise), within
// 30 s.
//
// Run: build/examples/ring_demo/ring_demo [--peers=N] [--hold=SECONDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <unistd.h>
#include <zmq.hpp>

#include <p2p0mq/actors/echo.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>

namespace {

using namespace p2p0mq;
using clock_type = std::chrono::steady_clock;

constexpr auto time_limit = std::chrono::seconds{25};
constexpr int pings_per_link = 3;

/// The demo's options on top of p2p0mq's own.
struct demo_config : system_config {
  demo_config() {
    caf::config_option_adder{custom_options_, "global"}
        .add(peers, "peers", "number of peers in the ring (3 to 16)")
        .add(hold, "hold", "how long to watch the ring after the pings");
  }
  std::size_t peers = 4;
  caf::timespan hold = std::chrono::seconds{8};
};

/// Owner of the demo's echo requests: passes drops on to `main_actor`.
owner_actor::behavior_type outcome_sink(owner_actor::pointer,
                                        caf::actor main_actor) {
  return {
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [main_actor](dropped_atom, const message& msg, const caf::error& err) {
        caf::anon_send(main_actor, dropped_atom::value, msg, err);
      },
  };
}

/// Prints every peer's view of the ring; returns whether each peer sees both
/// neighbours CONNECTED.
bool show(std::vector<std::unique_ptr<local_peer>>& ring, double t) {
  // On a terminal the view refreshes in place; elsewhere each one follows
  // the last.
  static const bool tty = isatty(STDOUT_FILENO) == 1;
  if (tty)
    std::printf("\x1b[H\x1b[2J");
  std::printf("--- ring of %zu peers, %.1f s ---\n", ring.size(), t);
  bool all_up = true;
  for (std::size_t i = 0; i < ring.size(); ++i) {
    auto& me = *ring[i];
    auto& next = *ring[(i + 1) % ring.size()];
    auto& prev = *ring[(i + ring.size() - 1) % ring.size()];
    auto state_of = [&](const local_peer& other) -> std::string {
      auto p = me.find_peer(other.uuid());
      return p ? std::string{to_string(p->state)} : "unknown";
    };
    auto to_prev = state_of(prev);
    auto to_next = state_of(next);
    all_up = all_up && to_prev == "CONNECTED" && to_next == "CONNECTED";
    std::printf("  %s :%-5u  prev %-8s %-13s  next %-8s %-13s\n",
                me.uuid().c_str(), static_cast<unsigned>(me.port()),
                prev.uuid().c_str(), to_prev.c_str(), next.uuid().c_str(),
                to_next.c_str());
  }
  std::fflush(stdout);
  return all_up;
}

} // namespace

int main(int argc, char** argv) {
  demo_config cfg;
  if (auto err = cfg.parse(argc, argv))
    return std::fprintf(stderr, "%s\n", cfg.render(err).c_str()), 2;
  if (cfg.cli_helptext_printed)
    return 0;
  if (cfg.peers < 3 || cfg.peers > 16 || cfg.hold > std::chrono::seconds{20})
    return std::fprintf(stderr, "--peers must be 3 to 16, --hold <= 20s\n"), 2;
  auto n = cfg.peers;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto zmq_context = std::make_shared<zmq::context_t>(1);
  auto owner = sys.spawn(outcome_sink, caf::actor_cast<caf::actor>(self));

  // Certificates of the run, unless the settings name directories.
  std::string cert_root;
  if (cfg.settings.encryption && cfg.settings.public_cert_dir.empty()) {
    auto pattern =
        (std::filesystem::temp_directory_path() / "ring-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      return std::fprintf(stderr, "cannot make a temporary directory\n"), 1;
    cert_root = pattern;
  }
  struct remove_certs {
    std::string dir;
    ~remove_certs() {
      std::error_code ignored;
      if (!dir.empty())
        std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{cert_root};

  // Start every peer on a port of the system's choice, sharing one actor
  // system and one ZeroMQ context.
  std::vector<std::unique_ptr<local_peer>> ring;
  for (std::size_t i = 0; i < n; ++i) {
    auto settings = cfg.settings;
    settings.uuid = "peer-" + std::to_string(i);
    if (!cert_root.empty()) {
      settings.public_cert_dir = cert_root + "/" + settings.uuid + "/public";
      settings.private_cert_dir = cert_root + "/" + settings.uuid + "/private";
    }
    ring.emplace_back(std::make_unique<local_peer>(sys, settings, zmq_context));
    if (auto err = ring.back()->start())
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
    ring.back()->add_concern(echo_command,
                             echo(caf::actor_cast<caf::actor>(self)));
  }
  // Neighbours trust each other's certificates.
  if (!cert_root.empty()) {
    for (std::size_t i = 0; i < n; ++i)
      if (auto err = exchange_certificates(*ring[i], *ring[(i + 1) % n]))
        return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
    std::printf("encryption on: CURVE keys in %s, each peer trusts its two "
                "neighbours\n",
                cert_root.c_str());
  }
  // Each peer learns the address of the next one.
  for (std::size_t i = 0; i < n; ++i) {
    auto& next = *ring[(i + 1) % n];
    ring[i]->add_peer(next.uuid(), "127.0.0.1", next.port());
  }

  auto start = clock_type::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(clock_type::now() - start).count();
  };
  bool up = false;
  while (!up && clock_type::now() - start < time_limit) {
    up = show(ring, elapsed());
    if (!up)
      self->receive(caf::after(std::chrono::milliseconds{500}) >> [] {});
  }
  if (!up) {
    std::printf("the ring did not come up within %lld s\n",
                static_cast<long long>(time_limit.count()));
    return 1;
  }
  std::printf("ring up after %.2f s; pinging neighbours\n", elapsed());

  // Every peer pings both neighbours; replies come to us through the echo
  // concerns, keyed by (sender, message id).
  std::map<std::pair<std::string, std::uint64_t>, clock_type::time_point> out;
  for (int round = 0; round < pings_per_link; ++round) {
    for (std::size_t i = 0; i < n; ++i) {
      for (auto j : {(i + 1) % n, (i + n - 1) % n}) {
        auto& me = *ring[i];
        auto msg = me.context().make_request(ring[j]->uuid(), echo_command,
                                             payload{}, clock_type::now());
        out.emplace(std::make_pair(me.uuid(), msg.id), clock_type::now());
        me.send(std::move(msg), priority::fast, owner);
      }
    }
  }
  std::vector<double> rtts;
  std::size_t expected = out.size();
  bool timed_out = false;
  while (!out.empty() && !timed_out) {
    self->receive(
        [&](incoming_atom, const message& reply) {
          auto i = out.find(std::make_pair(reply.to, reply.id));
          if (i == out.end())
            return;
          auto rtt = std::chrono::duration<double, std::milli>(
              clock_type::now() - i->second);
          rtts.push_back(rtt.count());
          std::printf("  %s -> %s: echo in %.3f ms\n", reply.to.c_str(),
                      reply.source.c_str(), rtt.count());
          out.erase(i);
        },
        [&](dropped_atom, const message& msg, const caf::error& err) {
          std::printf("  %s -> %s: dropped (%s)\n", msg.source.c_str(),
                      msg.to.c_str(), render(err).c_str());
          out.erase(std::make_pair(msg.source, msg.id));
        },
        caf::after(time_limit - (clock_type::now() - start)) >>
            [&] { timed_out = true; });
  }
  std::printf("%zu of %zu pings answered\n", rtts.size(), expected);
  // Watch the ring while heart-beats keep every link alive.
  auto hold_until = clock_type::now() + cfg.hold;
  bool stayed_up = true;
  do {
    stayed_up = show(ring, elapsed()) && stayed_up;
    if (clock_type::now() < hold_until)
      self->receive(caf::after(std::chrono::milliseconds{500}) >> [] {});
  } while (clock_type::now() < hold_until);
  std::sort(rtts.begin(), rtts.end());
  std::printf("%zu of %zu pings answered (round trip median %.3f ms), ring "
              "%s; the demo took %.2f s\n",
              rtts.size(), expected, rtts.empty() ? 0.0 : rtts[rtts.size() / 2],
              stayed_up ? "stayed up" : "broke", elapsed());
  for (auto& peer : ring)
    peer->stop();
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  return rtts.size() == expected && stayed_up ? 0 : 1;
}
