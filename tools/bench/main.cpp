// p2p0mq-bench: measures a pair of local peers beside raw libzmq doing the
// same work in the same run, and reports ratios. See `p2p0mq-bench --help`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/io/middleman.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.hpp>

#include "bench/concern.hpp"
#include "bench/raw.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"

namespace {

using namespace p2p0mq;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct bench_config : system_config {
  bench_config() {
    caf::config_option_adder{custom_options_, "bench"}
        .add(messages, "messages", "messages of the one-way throughput run")
        .add(round_trips, "round-trips", "round trips of the latency run")
        .add(idle, "idle", "how long the idle pair is watched")
        .add(peers, "peers", "local peers of the memory run")
        .add(write, "write", "markdown file whose results section to replace")
        .add(concern_requests, "concern-requests",
             "requests of each concern request/reply run")
        .add(serve_concern, "serve-concern",
             "internal: serve the concern runs' manager on this port");
    // The concern runs reach a concern in another process over it.
    load<caf::io::middleman>();
  }
  std::size_t messages = 200000;
  std::size_t round_trips = 5000;
  caf::timespan idle = std::chrono::seconds{20};
  std::size_t peers = 20;
  std::string write;
  std::size_t concern_requests = 20000;
  std::uint16_t serve_concern = 0;
};

/// Counts requests for its command; tells `main_actor` when `expected` came.
concern_actor::behavior_type counter(concern_actor::pointer self,
                                     caf::actor main_actor,
                                     std::size_t expected) {
  auto seen = std::make_shared<std::size_t>(0);
  return {
      [self, main_actor, expected, seen](incoming_atom, const message&) {
        if (++*seen == expected)
          caf::anon_send(main_actor, std::string{"counted"}, *seen);
        (void)self;
      },
      [](tick_atom) {},
      [](sent_atom, const message&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
  };
}

/// Owns the benchmark's requests; counts the ones dropped.
concern_actor::behavior_type owner(concern_actor::pointer,
                                   std::shared_ptr<std::size_t> dropped) {
  return {
      [](incoming_atom, const message&) {},
      [](tick_atom) {},
      [](sent_atom, const message&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [dropped](dropped_atom, const message&, const caf::error&) {
        ++*dropped;
      },
  };
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<std::size_t>(p * (xs.size() - 1));
  return xs[i];
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](timeval t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

double rss_mib() {
  std::ifstream in{"/proc/self/statm"};
  long pages = 0;
  long resident = 0;
  in >> pages >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

/// A connected pair of local peers in one actor system.
struct pair_of_peers {
  explicit pair_of_peers(caf::actor_system& system, const config& base)
      : sys(system) {
    auto settings = base;
    settings.send_queue_limit = 0;
    settings.uuid = "bench-peer-a";
    a = std::make_unique<local_peer>(sys, settings, context);
    settings.uuid = "bench-peer-b";
    b = std::make_unique<local_peer>(sys, settings, context);
  }

  bool start() {
    if (a->start() || b->start())
      return false;
    a->add_peer(b->uuid(), "127.0.0.1", b->port());
    caf::scoped_actor self{sys};
    for (auto deadline = clock_type::now() + 10s;
         clock_type::now() < deadline;) {
      auto pa = a->find_peer(b->uuid());
      auto pb = b->find_peer(a->uuid());
      if (pa && pb && pa->state == peer_state::connected &&
          pb->state == peer_state::connected)
        return true;
      self->receive(caf::after(10ms) >> [] {});
    }
    return false;
  }

  caf::actor_system& sys;
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  std::unique_ptr<local_peer> a;
  std::unique_ptr<local_peer> b;
};

/// A request like the benchmark sends, for the raw baselines.
frames sample_frames(const payload& body) {
  auto msg = make_request("bench-peer-a", "bench-peer-b", "bench", 12345, body);
  return msg.encode("bench-peer-a");
}

/// The figures of the throughput and round-trip runs of one mode.
struct wire_results {
  double raw_rate = 0;
  double our_rate = 0;
  std::size_t dropped = 0;
  double raw_p50 = 0, raw_p99 = 0, our_p50 = 0, our_p99 = 0;
};

struct results {
  wire_results plain;
  wire_results curve;
  double idle_cpu = 0;
  double idle_secs = 0;
  double rss_per_peer = 0;
  std::size_t peers = 0;
  bench::concern_rates concern;
};

/// Settings of the benchmark's peers: without encryption, or with it and
/// certificates in `certs` (which both peers share, so they trust each
/// other).
config settings_for(const bench_config& cfg, const std::string& certs) {
  auto result = cfg.settings;
  result.encryption = !certs.empty();
  result.public_cert_dir = certs + "/public";
  result.private_cert_dir = certs + "/private";
  return result;
}

/// A directory for the certificates of the CURVE runs, removed at the end.
struct temp_certs {
  temp_certs() {
    auto pattern =
        (std::filesystem::temp_directory_path() / "p2p0mq-bench-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) != nullptr)
      path = pattern;
  }
  ~temp_certs() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

void one_way(bench_config& cfg, caf::actor_system& sys,
             const std::string& certs, wire_results& out) {
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  out.raw_rate =
      bench::raw_one_way(sample_frames(body), cfg.messages, !certs.empty());
  pair_of_peers pair{sys, settings_for(cfg, certs)};
  if (!pair.start()) {
    std::fprintf(stderr, "the pair did not connect\n");
    return;
  }
  caf::scoped_actor self{sys};
  auto main_actor = caf::actor_cast<caf::actor>(self);
  pair.b->add_concern("bench", [&](caf::local_actor* parent, concern_context) {
    return parent->spawn(counter, main_actor, cfg.messages);
  });
  auto dropped = std::make_shared<std::size_t>(0);
  auto sink = sys.spawn(owner, dropped);
  auto start = clock_type::now();
  for (std::size_t i = 0; i < cfg.messages; ++i)
    pair.a->send(pair.a->context().make_request(pair.b->uuid(), "bench", body,
                                                clock_type::now()),
                 priority::fast, sink);
  bool counted = false;
  self->receive([&](const std::string&, std::size_t) { counted = true; },
                caf::after(120s) >> [] {});
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  out.our_rate = counted ? cfg.messages / secs : 0;
  pair.a->stop();
  pair.b->stop();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  out.dropped = *dropped;
}

void round_trip(bench_config& cfg, caf::actor_system& sys,
                const std::string& certs, wire_results& out) {
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  auto raw = bench::raw_round_trips(sample_frames(body), cfg.round_trips,
                                    !certs.empty());
  out.raw_p50 = percentile(raw, 0.5);
  out.raw_p99 = percentile(raw, 0.99);
  pair_of_peers pair{sys, settings_for(cfg, certs)};
  if (!pair.start())
    return;
  caf::scoped_actor self{sys};
  auto dropped = std::make_shared<std::size_t>(0);
  auto sink = sys.spawn(owner, dropped);
  pair.a->add_concern(echo_command, echo(caf::actor_cast<caf::actor>(self)));
  pair.b->add_concern(echo_command, echo());
  std::vector<double> ours;
  ours.reserve(cfg.round_trips);
  for (std::size_t i = 0; i < cfg.round_trips; ++i) {
    auto msg = pair.a->context().make_request(pair.b->uuid(), echo_command,
                                              body, clock_type::now());
    auto id = msg.id;
    auto t0 = clock_type::now();
    pair.a->send(std::move(msg), priority::fast, sink);
    bool done = false;
    while (!done)
      self->receive(
          [&](incoming_atom, const message& reply) {
            if (reply.id == id) {
              ours.push_back(std::chrono::duration<double, std::micro>(
                                 clock_type::now() - t0)
                                 .count());
              done = true;
            }
          },
          caf::after(5s) >> [&] { done = true; });
  }
  out.our_p50 = percentile(ours, 0.5);
  out.our_p99 = percentile(ours, 0.99);
  pair.a->stop();
  pair.b->stop();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

void idle(bench_config& cfg, caf::actor_system& sys, results& out) {
  pair_of_peers pair{sys, settings_for(cfg, {})};
  if (!pair.start())
    return;
  caf::scoped_actor self{sys};
  // Let the start-up settle, then watch.
  self->receive(caf::after(1s) >> [] {});
  auto cpu0 = cpu_seconds();
  auto t0 = clock_type::now();
  self->receive(caf::after(cfg.idle) >> [] {});
  out.idle_secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  out.idle_cpu = 100 * (cpu_seconds() - cpu0) / out.idle_secs;
  pair.a->stop();
  pair.b->stop();
}

void memory(bench_config& cfg, caf::actor_system& sys, results& out) {
  auto before = rss_mib();
  auto context = std::make_shared<zmq::context_t>(1);
  std::vector<std::unique_ptr<local_peer>> peers;
  for (std::size_t i = 0; i < cfg.peers; ++i) {
    auto settings = settings_for(cfg, {});
    settings.uuid = "bench-mem-" + std::to_string(i);
    peers.emplace_back(std::make_unique<local_peer>(sys, settings, context));
    if (peers.back()->start())
      return;
  }
  for (std::size_t i = 0; i < peers.size(); ++i) {
    auto& next = *peers[(i + 1) % peers.size()];
    peers[i]->add_peer(next.uuid(), "127.0.0.1", next.port());
  }
  caf::scoped_actor self{sys};
  self->receive(caf::after(2s) >> [] {});
  out.peers = peers.size();
  out.rss_per_peer = (rss_mib() - before) / peers.size();
  for (auto& p : peers)
    p->stop();
}

std::string report(const results& r, const std::string& command) {
  char buf[512];
  std::ostringstream out;
  out << "Command: `" << command << "`\n\n";
  out << "| measure | raw libzmq | p2p0mq | ratio | target |\n";
  out << "|---|---|---|---|---|\n";
  auto wire_rows = [&](const wire_results& w, const char* mode) {
    std::snprintf(buf, sizeof(buf),
                  "| one-way `echo`-sized requests%s, msg/s | %.0f | %.0f | "
                  "%.0f %% of raw | >= 50 %% |\n",
                  mode, w.raw_rate, w.our_rate,
                  w.raw_rate > 0 ? 100 * w.our_rate / w.raw_rate : 0);
    out << buf;
    std::snprintf(
        buf, sizeof(buf),
        "| round trip p50%s, us | %.1f | %.1f | %.2fx raw | <= 2x |\n", mode,
        w.raw_p50, w.our_p50, w.raw_p50 > 0 ? w.our_p50 / w.raw_p50 : 0);
    out << buf;
    std::snprintf(buf, sizeof(buf),
                  "| round trip p99%s, us | %.1f | %.1f | %.2fx raw | |\n",
                  mode, w.raw_p99, w.our_p99,
                  w.raw_p99 > 0 ? w.our_p99 / w.raw_p99 : 0);
    out << buf;
  };
  wire_rows(r.plain, "");
  wire_rows(r.curve, ", CURVE");
  std::snprintf(buf, sizeof(buf),
                "| idle CPU of a connected pair over %.0f s | | %.2f %% of a "
                "core | | <= 1 %% |\n",
                r.idle_secs, r.idle_cpu);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| resident memory per local peer (%zu in one process) | | "
                "%.2f MiB | | |\n",
                r.peers, r.rss_per_peer);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| request/reply to a concern in the same process (%zu in "
                "flight), req/s | | %.0f | | |\n",
                r.concern.window, r.concern.local);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| request/reply to the same concern in another process "
                "(middleman), req/s | | %.0f | %.0f %% of same process | |\n",
                r.concern.remote,
                r.concern.local > 0 ? 100 * r.concern.remote / r.concern.local
                                    : 0);
  out << buf;
  if (r.concern.failed > 0)
    out << "\n"
        << r.concern.failed
        << " requests of the concern runs got an error instead of a reply.\n";
  if (r.plain.dropped + r.curve.dropped > 0)
    out << "\n"
        << r.plain.dropped + r.curve.dropped
        << " messages of the throughput runs were dropped.\n";
  return out.str();
}

/// Replaces the text between the bench markers of `path` with `text`,
/// appending the section when the file has none.
void write_section(const std::string& path, const std::string& text) {
  const std::string begin = "<!-- p2p0mq-bench:begin -->";
  const std::string end = "<!-- p2p0mq-bench:end -->";
  std::string doc;
  {
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    doc = ss.str();
  }
  auto section = begin + "\n" + text + end;
  auto b = doc.find(begin);
  auto e = doc.find(end);
  if (b != std::string::npos && e != std::string::npos && e > b)
    doc.replace(b, e + end.size() - b, section);
  else
    doc += "\n" + section + "\n";
  std::ofstream{path} << doc;
}

} // namespace

int main(int argc, char** argv) {
  bench_config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::fprintf(stderr, "%s\n", cfg.render(err).c_str());
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  std::string command = "p2p0mq-bench";
  for (int i = 1; i < argc; ++i)
    command += std::string{" "} + argv[i];
  caf::actor_system sys{cfg};
  if (cfg.serve_concern != 0)
    return bench::serve_concern(sys, cfg.serve_concern);
  results r;
  // Memory first, while the heap holds nothing freed by earlier runs that
  // would hide what the peers take.
  std::fprintf(stderr, "memory...\n");
  memory(cfg, sys, r);
  std::fprintf(stderr, "one-way throughput...\n");
  one_way(cfg, sys, {}, r.plain);
  std::fprintf(stderr, "round trips...\n");
  round_trip(cfg, sys, {}, r.plain);
  std::fprintf(stderr, "request/reply to a concern, here and elsewhere...\n");
  r.concern =
      bench::measure_concern_rates(sys, cfg.settings, cfg.concern_requests, 64);
  temp_certs certs;
  if (certs.path.empty()) {
    std::fprintf(stderr, "cannot make a directory for certificates\n");
    return 1;
  }
  std::fprintf(stderr, "one-way throughput, CURVE...\n");
  one_way(cfg, sys, certs.path, r.curve);
  std::fprintf(stderr, "round trips, CURVE...\n");
  round_trip(cfg, sys, certs.path, r.curve);
  std::fprintf(stderr, "idle CPU...\n");
  idle(cfg, sys, r);
  auto text = report(r, command);
  std::fputs(text.c_str(), stdout);
  if (!cfg.write.empty())
    write_section(cfg.write, text);
  bool ok = r.plain.our_rate > 0 && r.plain.our_p50 > 0 &&
            r.curve.our_rate > 0 && r.curve.our_p50 > 0 &&
            r.concern.local > 0 && r.concern.remote > 0;
  return ok ? 0 : 1;
}
