// p2p0mq-sim: runs a simulated network of local peers (the real actors on an
// in-memory wire, in virtual time) from flags, and reports how it converged,
// the traffic per peer and the memory per simulated peer; with --chaos, drives
// networks through random faults and checks the invariants of
// p2p0mq/testing/chaos.hpp, seed by seed. See --help.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <unistd.h>
#include <utility>
#include <vector>

#include "groups.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/testing/chaos.hpp"
#include "p2p0mq/testing/sim_mesh.hpp"
#include "p2p0mq/testing/sim_network.hpp"

namespace {

using namespace p2p0mq;
using namespace p2p0mq::testing;
using wall_clock = std::chrono::steady_clock;

struct options {
  std::size_t peers = 1000;
  std::size_t degree = 4;
  double loss = 0;
  duration latency = std::chrono::milliseconds{1};
  duration length = std::chrono::hours{1};
  duration check = std::chrono::seconds{60};
  std::uint64_t seed = 1;
  std::string trace;
  bool markdown = false;
  bool chaos = false;
  bool peers_given = false;
  bool degree_given = false;
  std::size_t seeds = 1;
  std::size_t steps = 30;
  bool once = false;
  bool verbose = false;
  p2p0mq::sim_tool::group_options groups;
  /// Discovery: each peer told one earlier peer (`--bootstrap-only`).
  bool bootstrap_only = false;
  std::size_t target_degree = 8;
  std::size_t routes = 200;
  bool progress = false;
  bool length_given = false;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: p2p0mq-sim [flags]\n"
      "Runs a simulated p2p0mq network in virtual time: the real actors of\n"
      "every local peer (sender, peer table, dispatcher, supervisor, router,\n"
      "concerns), built as a local peer builds them, on an\n"
      "in-memory wire that carries the encoded frames. Peers form a random\n"
      "connected graph (a ring plus random links); each is told the address\n"
      "of its neighbours, greets them and keeps them alive with heart-beats.\n"
      "\n"
      "  --peers N        simulated peers (default 1000)\n"
      "  --degree D       average neighbours per peer, at least 2 (default 4)\n"
      "  --loss P         chance of losing each message part, 0 to 1\n"
      "                   (default 0)\n"
      "  --latency MS     one-way latency of every link in milliseconds\n"
      "                   (default 1)\n"
      "  --duration S     virtual seconds to run after the peers are told\n"
      "                   their neighbours (default 3600)\n"
      "  --check S        virtual seconds between checks that every link is\n"
      "                   still CONNECTED both ways (default 60)\n"
      "  --seed N         seed of the graph and of the losses (default 1)\n"
      "  --trace FILE     write every frame on the wire to FILE (costly)\n"
      "  --markdown       also print one row of the BENCHMARKS.md table\n"
      "  --groups G       once converged, run the group experiment instead\n"
      "                   of staying: G groups of random members (every\n"
      "                   peer runs the group concern)\n"
      "  --members M      members of each group (default 20)\n"
      "  --publishes P    publications, each from a random member of a\n"
      "                   random group (default 1000)\n"
      "  --rate R         publications per virtual second (default 1000)\n"
      "  --partition S    then split the network in two halves for S\n"
      "                   virtual seconds, heal it and time how long\n"
      "                   membership takes to converge again\n"
      "  --bootstrap-only each peer is told one earlier peer only, and the\n"
      "                   peer exchange grows the mesh; reports the degree\n"
      "                   distribution, the diameter, the traffic of the\n"
      "                   exchange against the heart-beats, and the hops of\n"
      "                   routed echo requests (duration default 360 s)\n"
      "  --target-degree D  direct links each peer keeps (default 8)\n"
      "  --routes N       echo requests between random peers whose routes\n"
      "                   are measured (default 200)\n"
      "  --progress       with --bootstrap-only: one line per check (every\n"
      "                   2 virtual s) until the mesh converged\n"
      "  --help           this text\n"
      "\n"
      "With --chaos, each seed lays out a network (--peers, default 8,\n"
      "--degree, default 3) with peer stores and drives it through random\n"
      "kills and restarts, partitions and heals, one-way cuts, loss bursts "
      "and\n"
      "peers joining late, while concerns send requests; after every step and\n"
      "at the end it checks that every message has one outcome and every\n"
      "request one answer, that none is delivered twice or travels more hops\n"
      "than the network has peers, that tables and queues stay within their\n"
      "bounds, that every link between live peers is CONNECTED again in time\n"
      "after the last heal, and that the seed gives the same trace twice.\n"
      "\n"
      "  --chaos          run chaos instead of the convergence report\n"
      "  --seeds N        run the seeds --seed to --seed + N - 1 (default 1)\n"
      "  --steps N        fault steps per seed (default 30)\n"
      "  --once           run each seed once (no same-trace check)\n"
      "  --verbose        print every seed's report and steps as they go\n"
      "  --trace FILE     (one seed) write every frame on the wire to FILE\n"
      "\n"
      "Exit code: 0 when the network converged and stayed connected (with\n"
      "--chaos: every seed kept every invariant), 1 when it did not or a\n"
      "member delivered a publication twice or out of its publisher's order,\n"
      "2 for bad flags.\n",
      out);
}

std::optional<double> number(std::string_view x) {
  std::string s{x};
  char* end = nullptr;
  auto v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size())
    return std::nullopt;
  return v;
}

/// Parses the flags; exits 2 on a bad one.
options parse(int argc, char** argv) {
  options result;
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "p2p0mq-sim: %s (see --help)\n", what.c_str());
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (flag == "--markdown") {
      result.markdown = true;
      continue;
    }
    if (flag == "--bootstrap-only") {
      result.bootstrap_only = true;
      continue;
    }
    if (flag == "--progress") {
      result.progress = true;
      continue;
    }
    if (flag == "--chaos") {
      result.chaos = true;
      continue;
    }
    if (flag == "--once") {
      result.once = true;
      continue;
    }
    if (flag == "--verbose") {
      result.verbose = true;
      continue;
    }
    if (i + 1 >= argc)
      fail("missing value after " + std::string{flag});
    std::string_view value = argv[++i];
    if (flag == "--trace") {
      result.trace = value;
      continue;
    }
    auto x = number(value);
    auto bad = [&] {
      fail("bad value '" + std::string{value} + "' for " + std::string{flag});
    };
    if (!x || *x < 0)
      bad();
    if (flag == "--peers") {
      if (*x < 2 || *x > 64000 || *x != static_cast<std::size_t>(*x))
        fail("--peers takes a whole number from 2 to 64000");
      result.peers = static_cast<std::size_t>(*x);
      result.peers_given = true;
    } else if (flag == "--degree") {
      if (*x < 2 || *x != static_cast<std::size_t>(*x))
        fail("--degree takes a whole number of at least 2");
      result.degree = static_cast<std::size_t>(*x);
      result.degree_given = true;
    } else if (flag == "--seeds") {
      if (*x < 1 || *x != static_cast<std::size_t>(*x))
        fail("--seeds takes a whole number of at least 1");
      result.seeds = static_cast<std::size_t>(*x);
    } else if (flag == "--steps") {
      if (*x < 1 || *x != static_cast<std::size_t>(*x))
        fail("--steps takes a whole number of at least 1");
      result.steps = static_cast<std::size_t>(*x);
    } else if (flag == "--loss") {
      if (*x > 1)
        fail("--loss takes a chance from 0 to 1");
      result.loss = *x;
    } else if (flag == "--latency") {
      result.latency = std::chrono::duration_cast<duration>(
          std::chrono::duration<double, std::milli>{*x});
    } else if (flag == "--target-degree") {
      if (*x < 1 || *x != static_cast<std::size_t>(*x))
        fail("--target-degree takes a whole number of at least 1");
      result.target_degree = static_cast<std::size_t>(*x);
    } else if (flag == "--routes") {
      if (*x != static_cast<std::size_t>(*x))
        bad();
      result.routes = static_cast<std::size_t>(*x);
    } else if (flag == "--duration") {
      result.length_given = true;
      result.length = std::chrono::duration_cast<duration>(
          std::chrono::duration<double>{*x});
    } else if (flag == "--check") {
      if (*x <= 0)
        bad();
      result.check = std::chrono::duration_cast<duration>(
          std::chrono::duration<double>{*x});
    } else if (flag == "--groups" || flag == "--members" ||
               flag == "--publishes") {
      if (*x != static_cast<std::size_t>(*x) || (flag == "--members" && *x < 2))
        bad();
      auto v = static_cast<std::size_t>(*x);
      if (flag == "--groups")
        result.groups.groups = v;
      else if (flag == "--members")
        result.groups.members = v;
      else
        result.groups.publishes = v;
    } else if (flag == "--partition") {
      result.groups.partition = std::chrono::duration_cast<duration>(
          std::chrono::duration<double>{*x});
    } else if (flag == "--rate") {
      if (*x <= 0)
        bad();
      result.groups.rate = *x;
    } else if (flag == "--seed") {
      result.seed = static_cast<std::uint64_t>(*x);
    } else {
      fail("unknown flag " + std::string{flag});
    }
  }
  if (result.chaos) {
    if (!result.peers_given)
      result.peers = 8;
    if (!result.degree_given)
      result.degree = 3;
    if (!result.trace.empty() && result.seeds > 1)
      fail("--trace takes one seed");
  }
  if (!result.bootstrap_only && result.degree >= result.peers)
    fail("--degree must be below --peers");
  if (result.bootstrap_only && !result.length_given)
    result.length = std::chrono::seconds{360};
  return result;
}

/// The resident set size of this process, in KiB (`VmRSS`, or `VmHWM` for
/// the peak).
long resident_kib(const char* field = "VmRSS:") {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::string_view{field}.size(), nullptr,
                         10);
  return -1;
}

double seconds(duration x) {
  return std::chrono::duration<double>(x).count();
}

double seconds_since(wall_clock::time_point t0) {
  return std::chrono::duration<double>(wall_clock::now() - t0).count();
}

/// Runs the chaos seeds of `opts`; returns the exit code.
int run_chaos_seeds(const options& opts) {
  auto t0 = wall_clock::now();
  std::ofstream trace;
  if (!opts.trace.empty()) {
    trace.open(opts.trace);
    if (!trace) {
      std::fprintf(stderr, "p2p0mq-sim: cannot write %s\n", opts.trace.c_str());
      return 1;
    }
  }
  std::printf("p2p0mq-sim --chaos: seeds %" PRIu64 " to %" PRIu64
              ", %zu peers, degree %zu, %zu steps each%s\n",
              opts.seed, opts.seed + opts.seeds - 1, opts.peers, opts.degree,
              opts.steps, opts.once ? "" : ", each run twice");
  std::fflush(stdout);
  std::size_t failed = 0;
  std::size_t max_hops = 0;
  std::size_t hop_limit = 0;
  duration slowest{};
  duration limit{};
  std::size_t faults = 0;
  std::size_t requests = 0;
  std::size_t abandoned = 0;
  std::uint64_t transfers = 0;
  for (std::size_t i = 0; i < opts.seeds; ++i) {
    chaos_options co;
    co.seed = opts.seed + i;
    co.peers = opts.peers;
    co.degree = opts.degree;
    co.steps = opts.steps;
    if (opts.verbose)
      co.steps_out = &std::cout;
    if (trace.is_open())
      co.trace_out = &trace;
    auto r = opts.once ? run_chaos(co) : check_chaos_seed(co);
    if (opts.verbose || !r.ok || opts.seeds == 1)
      write_report(std::cout, r);
    std::cout.flush();
    if (!r.ok) {
      ++failed;
      continue;
    }
    max_hops = std::max(max_hops, r.max_hops);
    hop_limit = std::max(hop_limit, r.hop_limit);
    slowest = std::max(slowest, r.reconnected_after);
    limit = r.reconnect_limit;
    faults += r.kills + r.restarts + r.partitions + r.heals + r.cuts +
              r.loss_bursts + r.joins;
    requests += r.requests + r.asks;
    abandoned += r.abandoned;
    transfers += r.transfers;
  }
  std::printf("chaos: %zu of %zu seeds kept every invariant; %zu faults, "
              "%zu requests (%zu left out with a killed peer), %" PRIu64
              " transfers; at most %zu transfers of one message (limit at "
              "least %zu); reconnected at most %.1f s after the last heal "
              "(limit %.1f s); wall time %.1f s\n",
              opts.seeds - failed, opts.seeds, faults, requests, abandoned,
              transfers, max_hops, hop_limit, seconds(slowest), seconds(limit),
              seconds_since(t0));
  return failed == 0 ? 0 : 1;
}

} // namespace

int run_bootstrap_only(const options& opts);

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  if (opts.chaos) {
    // The peers' own log lines (lost hellos, dropped messages, ...) are
    // what chaos causes, not the report.
    set_log_level(log_level::error);
    return run_chaos_seeds(opts);
  }
  if (opts.bootstrap_only)
    return run_bootstrap_only(opts);
  // The simulated peers' own log lines (a lost hello, ...) are not the
  // report: keep errors only.
  set_log_level(log_level::error);
  auto t0 = wall_clock::now();
  auto rss0 = resident_kib();
  sim_options so;
  so.seed = opts.seed;
  so.trace = !opts.trace.empty();
  so.echo = false;
  so.link.latency = opts.latency;
  so.link.loss = opts.loss;
  if (opts.groups.groups > 0)
    so.groups = group_settings{};
  opts.groups.markdown = opts.markdown;
  sim_network net{so};
  // The peers start over one second, so their timers spread out over it
  // as on a real network.
  auto graph =
      add_random_network(net, opts.peers, opts.degree, opts.seed,
                         duration{std::chrono::seconds{1}} / opts.peers);
  auto& edges = graph.links;
  auto rss1 = resident_kib();
  auto setup = seconds_since(t0);
  std::printf("p2p0mq-sim: %zu peers, %zu links (degree %.2f), loss %.3g, "
              "latency %.3g ms, seed %" PRIu64 ", %.0f s of virtual time\n",
              opts.peers, edges.size(), 2.0 * edges.size() / opts.peers,
              opts.loss, seconds(opts.latency) * 1000, opts.seed,
              seconds(opts.length));
  std::fflush(stdout);
  // Converge: check every virtual second.
  auto t1 = wall_clock::now();
  auto start = net.now();
  std::optional<double> converged;
  std::size_t broken = 0;
  while (net.now() - start < opts.length) {
    net.advance(std::chrono::seconds{1});
    broken = graph.broken_links(net);
    if (broken == 0) {
      converged = seconds(net.now() - start);
      break;
    }
  }
  // Stay: check every `check` of virtual time until the end.
  std::size_t checks = 0;
  std::size_t failed_checks = 0;
  std::size_t worst = 0;
  auto converged_at = net.now();
  auto transfers_at_convergence = net.transfer_count();
  auto groups_ok = true;
  if (converged && opts.groups.groups > 0)
    groups_ok = p2p0mq::sim_tool::run_groups(net, graph, opts.groups, opts.seed,
                                             opts.latency);
  while (converged && opts.groups.groups == 0 &&
         net.now() - start < opts.length) {
    auto step = std::min(opts.check, opts.length - (net.now() - start));
    net.advance(step);
    auto b = graph.broken_links(net);
    ++checks;
    if (b > 0) {
      ++failed_checks;
      worst = std::max(worst, b);
    }
  }
  auto run_wall = seconds_since(t1);
  auto total_wall = seconds_since(t0);
  auto rss2 = resident_kib();
  auto peak = resident_kib("VmHWM:");
  auto virtual_seconds = seconds(net.now() - start);
  auto steady_seconds = seconds(net.now() - converged_at);
  // Traffic.
  auto traffic = net.total_traffic();
  std::uint64_t sent = 0;
  std::uint64_t bytes = 0;
  std::uint64_t lost = 0;
  for (auto& [command, x] : traffic) {
    sent += x.sent;
    bytes += x.bytes_sent;
    lost += x.lost;
  }
  auto per_peer_minute = [&](double n, double secs) {
    return secs > 0 ? n / opts.peers / (secs / 60) : 0.0;
  };
  if (converged)
    std::printf("converged: every link CONNECTED both ways after %.1f s "
                "(virtual)\n",
                *converged);
  else
    std::printf("did not converge: %zu link ends not CONNECTED after %.0f s\n",
                broken, virtual_seconds);
  if (converged)
    std::printf("stayed connected: %s (%zu checks every %.0f s, %zu failed, "
                "at worst %zu link ends down)\n",
                failed_checks == 0 ? "yes" : "no", checks, seconds(opts.check),
                failed_checks, worst);
  std::printf("messages per peer per minute: %.1f overall, %.1f once "
              "converged; %.0f bytes per peer per minute\n",
              per_peer_minute(static_cast<double>(sent), virtual_seconds),
              per_peer_minute(static_cast<double>(net.transfer_count() -
                                                  transfers_at_convergence),
                              steady_seconds),
              per_peer_minute(static_cast<double>(bytes), virtual_seconds));
  for (auto& [command, x] : traffic)
    std::printf("  %-6s %12" PRIu64 " sent, %10" PRIu64 " lost, %10" PRIu64
                " refused, %.1f per peer per minute\n",
                command.c_str(), x.sent, x.lost, x.refused,
                per_peer_minute(static_cast<double>(x.sent), virtual_seconds));
  std::printf("memory per simulated peer: %.1f KiB after setup, %.1f KiB at "
              "the end (RSS %ld MiB, peak %ld MiB)\n",
              static_cast<double>(rss1 - rss0) / opts.peers,
              static_cast<double>(rss2 - rss0) / opts.peers, rss2 / 1024,
              peak / 1024);
  std::printf("wall time: %.1f s (setup %.1f s, %.0f s of virtual time in "
              "%.1f s: %.0fx real time)\n",
              total_wall, setup, virtual_seconds, run_wall,
              run_wall > 0 ? virtual_seconds / run_wall : 0.0);
  std::printf("actor messages: %zu (%.1f per peer per virtual second)\n",
              net.messages_run(),
              static_cast<double>(net.messages_run()) / opts.peers /
                  std::max(virtual_seconds, 1.0));
  std::printf("trace digest: %016" PRIx64 " over %" PRIu64
              " message parts (%" PRIu64 " lost)\n",
              net.digest(), net.transfer_count(), lost);
  if (opts.markdown)
    std::printf("| %zu | %zu | %.3g | %.1f | %.1f | %.1f | %.1f | %.1f | "
                "%.1f |\n",
                opts.peers, edges.size(), opts.loss,
                converged ? *converged : -1.0,
                per_peer_minute(static_cast<double>(sent), virtual_seconds),
                static_cast<double>(rss2 - rss0) / opts.peers, setup, run_wall,
                total_wall);
  if (!opts.trace.empty()) {
    std::ofstream out{opts.trace};
    net.write_trace(out);
    if (!out) {
      std::fprintf(stderr, "p2p0mq-sim: cannot write %s\n", opts.trace.c_str());
      return 1;
    }
  }
  return converged && failed_checks == 0 && groups_ok ? 0 : 1;
}

namespace {

/// Traffic of one command between two snapshots.
sim_traffic minus(const sim_traffic& x, const sim_traffic& y) {
  sim_traffic r;
  r.sent = x.sent - y.sent;
  r.bytes_sent = x.bytes_sent - y.bytes_sent;
  return r;
}

} // namespace

/// `--bootstrap-only`: grows a mesh from one bootstrap address per peer with
/// the peer exchange, and checks the targets of docs/PROTOCOL.md's "Peer
/// exchange" (every peer at least the target degree within 60 s, diameter at
/// most 2 log2 N, no peer above 3 times the target, exchange traffic at most
/// a tenth of the heart-beats' once converged).
int run_bootstrap_only(const options& opts) {
  set_log_level(log_level::error);
  auto t0 = wall_clock::now();
  sim_options so;
  so.seed = opts.seed;
  so.trace = !opts.trace.empty();
  so.echo = true;
  so.link.latency = opts.latency;
  so.link.loss = opts.loss;
  sim_network net{so};
  auto target = opts.target_degree;
  auto tune = [&](config& c) { c.discovery.target_degree = target; };
  add_bootstrap_network(net, opts.peers, opts.seed,
                        duration{std::chrono::seconds{1}} / opts.peers, tune);
  auto n = opts.peers;
  std::printf("p2p0mq-sim: %zu peers, each told one earlier peer, target "
              "degree %zu, loss %.3g, latency %.3g ms, seed %" PRIu64
              ", %.0f s of virtual time\n",
              n, target, opts.loss, seconds(opts.latency) * 1000, opts.seed,
              seconds(opts.length));
  std::fflush(stdout);
  auto start = net.now();
  std::optional<double> converged;
  sim_mesh mesh;
  auto within = [&](const sim_mesh& m) {
    for (auto d : m.degrees())
      if (d < target || d > 3 * target)
        return false;
    return true;
  };
  // Checked every 2 s: reading 1,000 peer tables costs more than a
  // virtual second of the network.
  while (net.now() - start < opts.length) {
    net.advance(std::chrono::seconds{2});
    mesh = read_mesh(net);
    if (opts.progress) {
      auto ds = mesh.degrees();
      std::size_t below = 0;
      std::size_t above = 0;
      for (auto d : ds) {
        below += d < target ? 1 : 0;
        above += d > 3 * target ? 1 : 0;
      }
      std::printf("  %.0f s: %zu peers below the target, %zu above 3 times "
                  "it, degrees %zu to %zu\n",
                  seconds(net.now() - start), below, above,
                  *std::min_element(ds.begin(), ds.end()),
                  *std::max_element(ds.begin(), ds.end()));
      std::fflush(stdout);
    }
    if (within(mesh)) {
      converged = seconds(net.now() - start);
      break;
    }
  }
  // Steady state: the traffic of the rest of the run.
  auto before = net.total_traffic();
  auto steady_from = net.now();
  auto rest = opts.length - (net.now() - start);
  if (converged && rest > duration::zero())
    net.advance(rest);
  auto steady = seconds(net.now() - steady_from);
  auto after = net.total_traffic();
  mesh = read_mesh(net);
  auto degrees = mesh.degrees();
  auto [lo, hi] = std::minmax_element(degrees.begin(), degrees.end());
  double mean = 0;
  for (auto d : degrees)
    mean += static_cast<double>(d);
  mean /= static_cast<double>(n);
  auto diameter = mesh.diameter();
  auto bound = 2 * std::log2(static_cast<double>(n));
  if (converged)
    std::printf("converged: every peer has %zu to %zu direct links after "
                "%.0f s (virtual)\n",
                target, 3 * target, *converged);
  else
    std::printf("did not converge within %.0f s\n", seconds(opts.length));
  std::printf("degree at the end: min %zu, mean %.1f, max %zu (target %zu, "
              "at most %zu)\n",
              *lo, mean, *hi, target, 3 * target);
  std::printf("degree distribution:");
  auto hist = mesh.histogram();
  for (std::size_t d = 0; d < hist.size(); ++d)
    if (hist[d] > 0)
      std::printf(" %zu:%zu", d, hist[d]);
  std::printf("\n");
  std::printf("diameter: %d hops (at most 2 log2 N = %.1f)\n", diameter, bound);
  // Traffic once converged.
  auto in_window = [&](const char* command) {
    auto a = after.find(command);
    auto b = before.find(command);
    if (a == after.end())
      return sim_traffic{};
    return b == before.end() ? a->second : minus(a->second, b->second);
  };
  auto pex = in_window("pex");
  auto hb = in_window("hb");
  auto share = [](std::uint64_t x, std::uint64_t y) {
    return y > 0 ? 100.0 * static_cast<double>(x) / static_cast<double>(y)
                 : 0.0;
  };
  std::printf("once converged (%.0f s): pex %" PRIu64 " messages, %" PRIu64
              " bytes; hb %" PRIu64 " messages, %" PRIu64
              " bytes; pex/hb %.1f %% of messages, %.1f %% of bytes\n",
              steady, pex.sent, pex.bytes_sent, hb.sent, hb.bytes_sent,
              share(pex.sent, hb.sent), share(pex.bytes_sent, hb.bytes_sent));
  // Routed traffic: echo requests between random pairs, then the hops
  // their routes take.
  std::mt19937_64 random{opts.seed + 1};
  std::uniform_int_distribution<std::size_t> pick{0, n - 1};
  std::vector<std::tuple<std::string, std::string, std::uint64_t>> pings;
  for (std::size_t i = 0; i < opts.routes; ++i) {
    auto a = pick(random);
    auto b = pick(random);
    if (a == b)
      continue;
    auto id = net.ping(sim_uuid(a), sim_uuid(b), static_cast<std::int64_t>(i));
    pings.emplace_back(sim_uuid(a), sim_uuid(b), id);
  }
  net.advance(std::chrono::seconds{10});
  std::size_t answered = 0;
  std::size_t routed = 0;
  int max_hops = 0;
  double sum_hops = 0;
  std::map<int, std::size_t> hop_counts;
  for (auto& [a, b, id] : pings) {
    if (net.answered(a, id))
      ++answered;
    auto h = route_hops(net, a, b);
    ++hop_counts[h];
    if (h > 0) {
      ++routed;
      sum_hops += h;
      max_hops = std::max(max_hops, h);
    }
  }
  std::printf("routed echo requests: %zu of %zu answered; hops: mean %.2f, "
              "max %d;",
              answered, pings.size(),
              routed > 0 ? sum_hops / static_cast<double>(routed) : 0.0,
              max_hops);
  for (auto& [h, count] : hop_counts)
    std::printf(" %d:%zu", h, count);
  std::printf("\n");
  std::printf("wall time: %.1f s\n", seconds_since(t0));
  auto ok = converged && *converged <= 60 && diameter >= 0 &&
            diameter <= bound && *lo >= target && *hi <= 3 * target &&
            pex.bytes_sent * 10 <= hb.bytes_sent && answered == pings.size();
  std::printf("targets: %s\n", ok ? "met" : "NOT met");
  return ok ? 0 : 1;
}
