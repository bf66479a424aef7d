// p2p0mq-bench: measures a pair of local peers beside raw libzmq doing the
// same work in the same run, and reports ratios. See `p2p0mq-bench --help`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.hpp>

#include "bench/concern.hpp"
#include "bench/external.hpp"
#include "bench/flood.hpp"
#include "bench/groups.hpp"
#include "bench/raw.hpp"
#include "bench/stats.hpp"
#include "bench/store.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/remote.hpp"
#include "p2p0mq/actors/router.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

namespace {

using namespace p2p0mq;
using namespace std::chrono_literals;
using bench::percentile;
using clock_type = std::chrono::steady_clock;

struct bench_config : system_config {
  bench_config() {
    caf::config_option_adder{custom_options_, "bench"}
        .add(messages, "messages", "messages of the one-way throughput run")
        .add(round_trips, "round-trips", "round trips of the latency run")
        .add(idle, "idle", "how long the idle pair is watched")
        .add(peers, "peers", "local peers of the memory run")
        .add(store_peers, "store-peers",
             "peers in each table of the store runs")
        .add(store_sync_interval, "store-sync-interval",
             "sync interval while the store runs measure throughput")
        .add(write, "write",
             "markdown file whose results section to replace (with --only, "
             "the section of those runs)")
        .add(concern_requests, "concern-requests",
             "requests of each concern request/reply run")
        .add(only, "only",
             "runs to make, comma-separated (default: all): memory, one-way, "
             "round-trip, concern, curve, routed, idle, store, flood, groups, "
             "external")
        .add(serve_concern, "serve-concern",
             "internal: serve the concern runs' local peer on this port")
        .add(remote_certs, "remote-certs",
             "internal: the certificates of the concern runs")
        .add(serve_plain, "serve-plain",
             "internal: serve over plain BASP instead of TLS")
        .add(group_members, "group-members", "members of the groups run")
        .add(publications, "publications", "publications of the groups run")
        .add(node, "node",
             "the p2p0mq-node the external run drives (default: the one "
             "beside this program)")
        .add(external_requests, "external-requests",
             "requests of each throughput round of the external run")
        .add(paced_rate, "paced-rate",
             "requests per second of the external run's CPU measure")
        .add(serve_raw_echo, "serve-raw-echo",
             "internal: be the raw-libzmq echo peer of the external run");
  }
  std::size_t messages = 200000;
  std::size_t round_trips = 5000;
  caf::timespan idle = std::chrono::seconds{20};
  std::size_t peers = 20;
  std::size_t store_peers = 10000;
  caf::timespan store_sync_interval = std::chrono::milliseconds{100};
  std::string write;
  std::size_t concern_requests = 20000;
  std::uint16_t serve_concern = 0;
  std::string remote_certs;
  bool serve_plain = false;
  std::string only;
  std::size_t group_members = 10;
  std::size_t publications = 20000;
  std::string node;
  std::size_t external_requests = 100000;
  double paced_rate = 50000;
  bool serve_raw_echo = false;

  /// Whether the run `name` is to be made.
  bool wanted(const std::string& name) const {
    if (only.empty())
      return true;
    std::stringstream in{only};
    std::string x;
    while (std::getline(in, x, ','))
      if (x == name)
        return true;
    return false;
  }
};

/// Counts requests for its command; tells `main_actor` when `expected` came.
concern_actor::behavior_type
counter(concern_actor::pointer, caf::actor main_actor, std::size_t expected) {
  auto seen = std::make_shared<std::size_t>(0);
  return {
      [main_actor, expected, seen](incoming_atom,
                                   const std::vector<message>& msgs) {
        auto before = *seen;
        *seen += msgs.size();
        if (before < expected && *seen >= expected)
          caf::anon_send(main_actor, std::string{"counted"}, *seen);
      },
      [](tick_atom) {},
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
      [](changed_atom, const std::vector<peer_change>&) {},
      [](due_atom, due_kind, const std::vector<peer>&) {},
      [](wanted_atom, const std::vector<wanted_route>&) {},
      [](stats_atom) { return concern_counters{}; },
  };
}

/// The outcomes of the benchmark's requests so far: a producer waits on it
/// to keep at most `send_window` of them unsettled.
struct progress {
  std::mutex mtx;
  std::condition_variable changed;
  /// Requests sent or dropped.
  std::size_t settled = 0;
  std::size_t dropped = 0;

  void add(std::size_t n, bool drop) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      settled += n;
      if (drop)
        dropped += n;
    }
    changed.notify_all();
  }

  /// The requests dropped so far (the owner may still be counting).
  std::size_t dropped_now() {
    std::lock_guard<std::mutex> guard{mtx};
    return dropped;
  }
};

/// Most requests a producer has handed to the sender that are neither sent
/// nor dropped yet. Raw libzmq's producer blocks once ZeroMQ's pipe is full;
/// this one waits likewise, well below the sender's own bound
/// (`send-queue-limit`, 100,000), so that no request is dropped for it.
constexpr std::size_t send_window = 20000;

/// Owns the benchmark's requests; counts their outcomes into `done`.
owner_actor::behavior_type owner(owner_actor::pointer,
                                 std::shared_ptr<progress> done) {
  return {
      [done](sent_atom, const std::vector<message>& msgs) {
        done->add(msgs.size(), false);
      },
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [done](dropped_atom, const message&, const caf::error&) {
        done->add(1, true);
      },
  };
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

/// A connected pair of local peers in one actor system; with `db_dir`, each
/// has a peer store there.
struct pair_of_peers {
  explicit pair_of_peers(caf::actor_system& system, const config& base,
                         const std::string& db_dir = {})
      : sys(system) {
    auto settings = base;
    settings.send_queue_limit = 0;
    settings.uuid = "bench-peer-a";
    if (!db_dir.empty())
      settings.database = db_dir + "/a.db";
    a = std::make_unique<local_peer>(sys, settings, context);
    settings.uuid = "bench-peer-b";
    if (!db_dir.empty())
      settings.database = db_dir + "/b.db";
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

/// Three local peers in a line in one actor system: A is told B's address,
/// B is told C's; A reaches C only through B.
struct line_of_peers {
  explicit line_of_peers(caf::actor_system& system, const config& base)
      : sys(system) {
    auto settings = base;
    settings.send_queue_limit = 0;
    for (auto name : {"bench-line-a", "bench-line-b", "bench-line-c"}) {
      settings.uuid = name;
      peers.emplace_back(std::make_unique<local_peer>(sys, settings, context));
    }
  }

  local_peer& a() {
    return *peers[0];
  }

  local_peer& b() {
    return *peers[1];
  }

  local_peer& c() {
    return *peers[2];
  }

  static bool sees(local_peer& x, local_peer& y) {
    auto p = x.find_peer(y.uuid());
    return p && p->state == peer_state::connected;
  }

  bool start() {
    for (auto& p : peers)
      if (p->start())
        return false;
    a().add_peer(b().uuid(), "127.0.0.1", b().port());
    b().add_peer(c().uuid(), "127.0.0.1", c().port());
    caf::scoped_actor self{sys};
    for (auto deadline = clock_type::now() + 10s;
         clock_type::now() < deadline;) {
      if (sees(a(), b()) && sees(b(), a()) && sees(b(), c()) && sees(c(), b()))
        return true;
      self->receive(caf::after(10ms) >> [] {});
    }
    return false;
  }

  void stop() {
    for (auto& p : peers)
      p->stop();
  }

  caf::actor_system& sys;
  std::shared_ptr<zmq::context_t> context = std::make_shared<zmq::context_t>(1);
  std::vector<std::unique_ptr<local_peer>> peers;
};

/// Sends `count` requests of `command` from `from` to `to` (whose concern
/// for `command` counts them and tells `self`), at most `send_window` of
/// them unsettled at a time (`sink` owns them and counts into `done`), and
/// returns messages per second from the first send to the last one counted;
/// 0 when they did not all come within two minutes.
double send_and_count(caf::scoped_actor& self, local_peer& from,
                      const local_peer& to, const std::string& command,
                      std::size_t count, const payload& body,
                      const owner_actor& sink, progress& done) {
  std::size_t before = 0;
  {
    std::lock_guard<std::mutex> guard{done.mtx};
    before = done.settled;
  }
  auto start = clock_type::now();
  for (std::size_t i = 0; i < count; ++i) {
    if (i >= send_window && i % 1024 == 0) {
      std::unique_lock<std::mutex> guard{done.mtx};
      done.changed.wait(
          guard, [&] { return before + i - done.settled < send_window; });
    }
    from.send(from.context().make_request(to.uuid(), command, body,
                                          clock_type::now()),
              priority::fast, sink);
  }
  bool counted = false;
  self->receive([&](const std::string&, std::size_t) { counted = true; },
                caf::after(120s) >> [] {});
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  return counted ? count / secs : 0;
}

/// Plays `count` echo round trips from `from` to `to`, one at a time; the
/// echo concern of `from` forwards its replies to `self`. Returns each round
/// trip in microseconds.
std::vector<double> echo_round_trips(caf::scoped_actor& self, local_peer& from,
                                     const local_peer& to, std::size_t count,
                                     const payload& body,
                                     const owner_actor& sink) {
  std::vector<double> result;
  result.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto msg = from.context().make_request(to.uuid(), echo_command, body,
                                           clock_type::now());
    auto id = msg.id;
    auto t0 = clock_type::now();
    from.send(std::move(msg), priority::fast, sink);
    bool done = false;
    while (!done)
      self->receive(
          [&](incoming_atom, const message& reply) {
            if (reply.id == id) {
              result.push_back(std::chrono::duration<double, std::micro>(
                                   clock_type::now() - t0)
                                   .count());
              done = true;
            }
          },
          caf::after(5s) >> [&] { done = true; });
  }
  return result;
}

/// A request like the benchmark sends, for the raw baselines.
frames sample_frames(const payload& body) {
  auto msg = make_request("bench-peer-a", "bench-peer-b", "bench", 12345, body);
  return msg.encode("bench-peer-a");
}

/// The figures of the throughput and round-trip runs of one mode.
struct wire_results {
  double raw_rate = 0;
  double our_rate = 0;
  /// CPU time of the whole process per message of the one-way runs, in
  /// microseconds (noise from other programs on the machine moves it less
  /// than it moves the rates).
  double raw_cpu_us = 0;
  double our_cpu_us = 0;
  std::size_t dropped = 0;
  double raw_p50 = 0, raw_p99 = 0, our_p50 = 0, our_p99 = 0;
  /// Round trips timed inside a concern (`bench/concern.hpp`).
  double concern_p50 = 0, concern_p99 = 0;
};

struct results {
  wire_results plain;
  wire_results curve;
  /// Messages dropped in the peer store's throughput runs.
  std::size_t dropped = 0;
  double direct_rate = 0;
  double routed_rate = 0;
  double direct_p50 = 0, direct_p99 = 0, routed_p50 = 0, routed_p99 = 0;
  std::size_t routed_dropped = 0;
  double idle_cpu = 0;
  double idle_secs = 0;
  double rss_per_peer = 0;
  std::size_t peers = 0;
  bench::sync_times syncs;
  std::size_t store_peers = 0;
  double store_interval_ms = 0;
  double loaded_rate = 0;
  double syncing_rate = 0;
  std::size_t syncs_during_run = 0;
  /// Peer table answer times in microseconds, without and with the store.
  double answer_p99[2] = {0, 0};
  double answer_max[2] = {0, 0};
  /// Syncs in the peer table (10,000 peers, nothing changed), in ms.
  double table_sync_p50 = 0;
  double table_sync_max = 0;
  bench::concern_rates concern;
  /// The receive path without and with a flood of malformed input.
  struct {
    double raw_rate = 0;
    double quiet_rate = 0;
    double flooded_rate = 0;
    double malformed_rate = 0;
    std::uint64_t malformed = 0;
    std::size_t lines = 0;
    double secs = 0;
    std::size_t dropped = 0;
  } flood;
  /// Publishing to a group against sending to each member; the raw libzmq
  /// one-way rate of the same frames.
  bench::group_rates groups;
  double group_raw_rate = 0;
  /// One node driven from outside, beside a raw-libzmq echo peer.
  bench::external_rates external;
};

/// The peer tables' syncs, from their debug log lines ("synced N peers in
/// T us: ..."): how many, and how long each kept its table busy (while
/// `recording`).
struct sync_log {
  std::atomic<std::size_t> count{0};
  std::atomic<bool> recording{false};
  std::mutex mtx;
  std::vector<double> busy_ms;
};

sync_log syncs_logged;

/// Warnings of the wire category: the receiver's lines about malformed
/// input.
std::atomic<std::size_t> wire_warnings{0};

/// Installs a log sink, before the actor system starts, that feeds
/// `syncs_logged`; errors and warnings go to standard error as with the
/// default sink.
void count_syncs() {
  set_log_level(log_category::store, log_level::debug);
  set_log_sink([](log_level level, log_category cat, std::string_view text) {
    if (cat == log_category::store && level == log_level::debug) {
      if (text.rfind("synced ", 0) != 0)
        return;
      ++syncs_logged.count;
      auto in = text.find(" in ");
      if (in == std::string_view::npos || !syncs_logged.recording)
        return;
      auto us = std::strtod(std::string{text.substr(in + 4)}.c_str(), nullptr);
      std::lock_guard<std::mutex> guard{syncs_logged.mtx};
      syncs_logged.busy_ms.push_back(us / 1000);
      return;
    }
    if (level > log_level::warning)
      return;
    if (cat == log_category::wire && level == log_level::warning)
      ++wire_warnings;
    std::fprintf(stderr, "%s %s: %.*s\n", to_string(level).data(),
                 to_string(cat).data(), static_cast<int>(text.size()),
                 text.data());
  });
}

/// Sends `cfg.messages` requests from `pair.a` to `pair.b` and returns
/// messages per second (0 if they did not all arrive), then stops the pair.
double measure_one_way(bench_config& cfg, caf::actor_system& sys,
                       pair_of_peers& pair, const payload& body,
                       std::size_t& dropped_count) {
  caf::scoped_actor self{sys};
  auto main_actor = caf::actor_cast<caf::actor>(self);
  pair.b->add_concern("bench", [&](caf::local_actor* parent, concern_context) {
    return parent->spawn(counter, main_actor, cfg.messages);
  });
  auto done = std::make_shared<progress>();
  auto sink = sys.spawn(owner, done);
  auto rate = send_and_count(self, *pair.a, *pair.b, "bench", cfg.messages,
                             body, sink, *done);
  pair.a->stop();
  pair.b->stop();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  dropped_count += done->dropped_now();
  return rate;
}

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

void one_way(bench_config& cfg, caf::actor_system& sys,
             const std::string& certs, wire_results& out) {
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  auto per_message = [&](double cpu0) {
    return 1e6 * (cpu_seconds() - cpu0) / static_cast<double>(cfg.messages);
  };
  auto cpu0 = cpu_seconds();
  out.raw_rate =
      bench::raw_one_way(sample_frames(body), cfg.messages, !certs.empty());
  out.raw_cpu_us = per_message(cpu0);
  pair_of_peers pair{sys, settings_for(cfg, certs)};
  if (!pair.start()) {
    std::fprintf(stderr, "the pair did not connect\n");
    return;
  }
  cpu0 = cpu_seconds();
  out.our_rate = measure_one_way(cfg, sys, pair, body, out.dropped);
  out.our_cpu_us = per_message(cpu0);
}

/// Adds `count` peers without an address (never contacted) to the table of
/// `peer`, straight to the peer table so no tick follows each.
void fill_table(caf::actor_system& sys, local_peer& target, std::size_t count) {
  caf::scoped_actor self{sys};
  for (std::size_t i = 0; i < count; ++i)
    self->request(target.peer_table(), caf::infinite, add_atom::value,
                  "bench-stored-" + std::to_string(i), std::string{},
                  std::uint16_t{0})
        .receive([](const peer&) {}, [](const caf::error&) {});
}

/// Asks the peer table of `target` for one peer, back to back, for `span`;
/// returns each answer's time in microseconds.
std::vector<double> probe_table(caf::actor_system& sys, local_peer& target,
                                caf::timespan span) {
  caf::scoped_actor self{sys};
  std::vector<double> result;
  auto end = clock_type::now() + span;
  for (auto t0 = clock_type::now(); t0 < end; t0 = clock_type::now()) {
    self->request(target.peer_table(), caf::infinite, get_atom::value,
                  std::string{"bench-stored-0"})
        .receive([](const peer&) {}, [](const caf::error&) {});
    result.push_back(
        std::chrono::duration<double, std::micro>(clock_type::now() - t0)
            .count());
  }
  return result;
}

/// The peer store: sync times on their own; then, for a pair whose tables
/// hold `cfg.store_peers` peers each, how long the peer table takes to answer
/// and the one-way throughput, without a store and with one syncing every
/// `cfg.store_sync_interval` (rounds alternate; medians of three).
void store(bench_config& cfg, caf::actor_system& sys, results& out) {
  auto dir = bench::make_temp_dir();
  out.store_peers = cfg.store_peers;
  out.store_interval_ms =
      std::chrono::duration<double, std::milli>(cfg.store_sync_interval)
          .count();
  out.syncs = bench::time_syncs(dir, cfg.store_peers, 20);
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  auto settings = settings_for(cfg, {});
  settings.store_sync_interval = cfg.store_sync_interval;
  // Room for every peer of the table, and the pair itself.
  settings.max_peers = std::max(settings.max_peers, cfg.store_peers + 2);
  std::vector<double> rates[2];
  std::vector<double> answers[2];
  for (int round = 0; round < 6; ++round) {
    bool with_store = round % 2 == 1;
    std::string db_dir;
    if (with_store) {
      db_dir = dir + "/round-" + std::to_string(round);
      std::filesystem::create_directory(db_dir);
    }
    pair_of_peers pair{sys, settings, db_dir};
    if (!pair.start()) {
      std::fprintf(stderr, "the pair did not connect\n");
      break;
    }
    fill_table(sys, *pair.a, cfg.store_peers);
    fill_table(sys, *pair.b, cfg.store_peers);
    // Let the first syncs (inserting every peer) pass before measuring.
    caf::scoped_actor self{sys};
    self->receive(caf::after(3 * cfg.store_sync_interval) >> [] {});
    syncs_logged.recording = with_store;
    auto probes = probe_table(sys, *pair.a, 10 * cfg.store_sync_interval);
    auto& xs = answers[with_store];
    xs.insert(xs.end(), probes.begin(), probes.end());
    auto before = syncs_logged.count.load();
    rates[with_store].push_back(
        measure_one_way(cfg, sys, pair, body, out.dropped));
    syncs_logged.recording = false;
    // Minus the last sync of each peer, when it stops.
    auto logged = syncs_logged.count.load() - before;
    if (with_store && logged > 2)
      out.syncs_during_run += logged - 2;
  }
  out.loaded_rate = percentile(rates[0], 0.5);
  out.syncing_rate = percentile(rates[1], 0.5);
  out.syncs_during_run /= std::max<std::size_t>(rates[1].size(), 1);
  for (int i = 0; i < 2; ++i) {
    out.answer_p99[i] = percentile(answers[i], 0.99);
    out.answer_max[i] = percentile(answers[i], 1.0);
  }
  std::lock_guard<std::mutex> guard{syncs_logged.mtx};
  out.table_sync_p50 = percentile(syncs_logged.busy_ms, 0.5);
  out.table_sync_max = percentile(syncs_logged.busy_ms, 1.0);
  bench::remove_dir(dir);
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
  auto sink = sys.spawn(owner, std::make_shared<progress>());
  pair.a->add_concern(echo_command, echo(caf::actor_cast<caf::actor>(self)));
  pair.b->add_concern(echo_command, echo());
  auto ours =
      echo_round_trips(self, *pair.a, *pair.b, cfg.round_trips, body, sink);
  out.our_p50 = percentile(ours, 0.5);
  out.our_p99 = percentile(ours, 0.99);
  auto inside =
      bench::concern_round_trips(sys, *pair.a, *pair.b, cfg.round_trips, body);
  out.concern_p50 = percentile(inside, 0.5);
  out.concern_p99 = percentile(inside, 0.99);
  pair.a->stop();
  pair.b->stop();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

void routed(bench_config& cfg, caf::actor_system& sys, results& out) {
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  line_of_peers line{sys, settings_for(cfg, {})};
  if (!line.start()) {
    std::fprintf(stderr, "the line did not connect\n");
    return;
  }
  caf::scoped_actor self{sys};
  auto main_actor = caf::actor_cast<caf::actor>(self);
  auto done = std::make_shared<progress>();
  auto sink = sys.spawn(owner, done);
  line.a().add_concern(echo_command, echo(main_actor));
  for (auto* p : {&line.b(), &line.c()}) {
    p->add_concern(echo_command, echo());
    p->add_concern("bench", [&](caf::local_actor* parent, concern_context) {
      return parent->spawn(counter, main_actor, cfg.messages);
    });
  }
  // The first request to C finds the route through B (ask-around).
  auto warm_up = echo_round_trips(self, line.a(), line.c(), 1, body, sink);
  if (warm_up.empty()) {
    std::fprintf(stderr, "no route from A to C\n");
    line.stop();
    return;
  }
  out.direct_rate = send_and_count(self, line.a(), line.b(), "bench",
                                   cfg.messages, body, sink, *done);
  out.routed_rate = send_and_count(self, line.a(), line.c(), "bench",
                                   cfg.messages, body, sink, *done);
  auto direct =
      echo_round_trips(self, line.a(), line.b(), cfg.round_trips, body, sink);
  auto through =
      echo_round_trips(self, line.a(), line.c(), cfg.round_trips, body, sink);
  out.direct_p50 = percentile(direct, 0.5);
  out.direct_p99 = percentile(direct, 0.99);
  out.routed_p50 = percentile(through, 0.5);
  out.routed_p99 = percentile(through, 0.99);
  caf::scoped_actor asker{sys};
  asker->request(line.b().router(), 5s, stats_atom::value)
      .receive([&](router_stats& x) { out.routed_dropped = x.dropped; },
               [](caf::error&) {});
  out.routed_dropped += done->dropped_now();
  line.stop();
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

/// The receive path: one-way throughput from A to B, without and with
/// another client flooding B's receiver with malformed messages (rounds
/// alternate, a fresh pair each, medians of three), and what B absorbed and
/// logged meanwhile.
void flood(bench_config& cfg, caf::actor_system& sys, results& out) {
  auto body = payload_builder{}.add_integer("seq", 1000).build();
  auto& f = out.flood;
  f.raw_rate = bench::raw_one_way(sample_frames(body), cfg.messages);
  std::vector<double> rates[2];
  for (int round = 0; round < 6; ++round) {
    bool flooded = round % 2 == 1;
    pair_of_peers pair{sys, settings_for(cfg, {})};
    if (!pair.start()) {
      std::fprintf(stderr, "the pair did not connect\n");
      return;
    }
    auto lines = wire_warnings.load();
    auto t0 = clock_type::now();
    std::unique_ptr<bench::malformed_flood> attacker;
    if (flooded) {
      attacker = std::make_unique<bench::malformed_flood>(pair.b->port());
      // Measure once the flood is under way.
      caf::scoped_actor self{sys};
      for (auto deadline = t0 + 5s; clock_type::now() < deadline &&
                                    pair.b->receiver().malformed() < 1000;)
        self->receive(caf::after(1ms) >> [] {});
    }
    auto& receiver = pair.b->receiver();
    rates[flooded].push_back(measure_one_way(cfg, sys, pair, body, f.dropped));
    if (flooded) {
      // The pair stopped: its receiver's counters are final.
      f.secs += std::chrono::duration<double>(clock_type::now() - t0).count();
      f.malformed += receiver.malformed();
      f.lines += wire_warnings.load() - lines;
      attacker->stop();
    }
  }
  f.quiet_rate = percentile(rates[0], 0.5);
  f.flooded_rate = percentile(rates[1], 0.5);
  f.malformed_rate = f.secs > 0 ? f.malformed / f.secs : 0;
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

void wire_table(const results& r, const bench_config& cfg,
                std::ostringstream& out);
void store_table(const results& r, std::ostringstream& out);
void concern_table(const results& r, std::ostringstream& out);
void routed_table(const results& r, std::ostringstream& out);
void flood_table(const results& r, std::ostringstream& out);
void group_table(const results& r, std::ostringstream& out);
void external_table(const results& r, std::ostringstream& out);

/// The report of the runs made: a table per group of runs.
std::string report(const results& r, const std::string& command,
                   const bench_config& cfg) {
  std::ostringstream out;
  out << "Command: `" << command << "`\n";
  auto any = [&](std::initializer_list<const char*> names) {
    for (auto name : names)
      if (cfg.wanted(name))
        return true;
    return false;
  };
  if (any({"memory", "one-way", "round-trip", "curve", "idle"}))
    wire_table(r, cfg, out);
  if (cfg.wanted("store"))
    store_table(r, out);
  if (cfg.wanted("concern"))
    concern_table(r, out);
  if (cfg.wanted("routed"))
    routed_table(r, out);
  if (cfg.wanted("flood"))
    flood_table(r, out);
  if (cfg.wanted("groups"))
    group_table(r, out);
  if (cfg.wanted("external"))
    external_table(r, out);
  return out.str();
}

void wire_table(const results& r, const bench_config& cfg,
                std::ostringstream& out) {
  // The rows of the runs made, each with its target (the fast path's).
  char buf[512];
  out << "\n| measure | raw libzmq | p2p0mq | ratio | target |\n";
  out << "|---|---|---|---|---|\n";
  auto one_way_row = [&](const wire_results& w, const char* mode,
                         const char* target) {
    std::snprintf(buf, sizeof(buf),
                  "| one-way `echo`-sized requests%s, msg/s | %.0f | %.0f | "
                  "%.0f %% of raw | %s |\n",
                  mode, w.raw_rate, w.our_rate,
                  w.raw_rate > 0 ? 100 * w.our_rate / w.raw_rate : 0, target);
    out << buf;
    std::snprintf(buf, sizeof(buf),
                  "| CPU per one-way message%s, us (whole process) | %.2f | "
                  "%.2f | %.2fx raw | reported |\n",
                  mode, w.raw_cpu_us, w.our_cpu_us,
                  w.raw_cpu_us > 0 ? w.our_cpu_us / w.raw_cpu_us : 0);
    out << buf;
  };
  auto round_trip_rows = [&](const wire_results& w, const char* mode) {
    auto rows = [&](const char* how, double p50, double p99) {
      std::snprintf(
          buf, sizeof(buf),
          "| round trip p50%s, %s, us | %.1f | %.1f | %.2fx raw | <= 1.5x |\n",
          mode, how, w.raw_p50, p50, w.raw_p50 > 0 ? p50 / w.raw_p50 : 0);
      out << buf;
      std::snprintf(
          buf, sizeof(buf),
          "| round trip p99%s, %s, us | %.1f | %.1f | %.2fx raw | %s |\n", mode,
          how, w.raw_p99, p99, w.raw_p99 > 0 ? p99 / w.raw_p99 : 0,
          *mode == '\0' ? "<= 2x" : "");
      out << buf;
    };
    rows("from a thread", w.our_p50, w.our_p99);
    rows("concern to concern", w.concern_p50, w.concern_p99);
  };
  if (cfg.wanted("one-way"))
    one_way_row(r.plain, "", ">= 60 %");
  if (cfg.wanted("round-trip"))
    round_trip_rows(r.plain, "");
  if (cfg.wanted("curve")) {
    one_way_row(r.curve, ", CURVE", ">= 80 %");
    round_trip_rows(r.curve, ", CURVE");
  }
  if (cfg.wanted("idle")) {
    std::snprintf(buf, sizeof(buf),
                  "| idle CPU of a connected pair over %.0f s | | %.2f %% of a "
                  "core | | <= 1 %% |\n",
                  r.idle_secs, r.idle_cpu);
    out << buf;
  }
  if (cfg.wanted("memory")) {
    std::snprintf(buf, sizeof(buf),
                  "| resident memory per local peer (%zu in one process) | | "
                  "%.2f MiB | | |\n",
                  r.peers, r.rss_per_peer);
    out << buf;
  }
  if (auto dropped = r.plain.dropped + r.curve.dropped; dropped > 0)
    out << "\n"
        << dropped << " messages of the throughput runs were dropped.\n";
}

void store_table(const results& r, std::ostringstream& out) {
  char buf[512];
  out << "\n| peer store, " << r.store_peers
      << " peers | without store | with store | ratio |\n";
  out << "|---|---|---|---|\n";
  std::snprintf(buf, sizeof(buf),
                "| first sync (every peer inserted), ms | | %.1f | |\n",
                r.syncs.first);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| sync, nothing changed (median), ms | | %.1f | |\n",
                r.syncs.unchanged);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| sync, a tenth of the addresses changed (median), ms | | "
                "%.1f | |\n",
                r.syncs.changed);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| open and load every peer (restart), ms | | %.1f | |\n",
                r.syncs.reopen);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| a sync in the peer table, nothing changed, median / max, "
                "ms | | %.1f / %.1f | |\n",
                r.table_sync_p50, r.table_sync_max);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| peer table answer p99, us (syncing every %.0f ms) | %.0f | "
                "%.0f | %.2fx |\n",
                r.store_interval_ms, r.answer_p99[0], r.answer_p99[1],
                r.answer_p99[0] > 0 ? r.answer_p99[1] / r.answer_p99[0] : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| peer table answer max, us (syncing every %.0f ms) | %.0f | "
                "%.0f | %.2fx |\n",
                r.store_interval_ms, r.answer_max[0], r.answer_max[1],
                r.answer_max[0] > 0 ? r.answer_max[1] / r.answer_max[0] : 0);
  out << buf;
  std::snprintf(
      buf, sizeof(buf),
      "| one-way msg/s, both tables syncing every %.0f ms (%zu syncs in a "
      "run) | %.0f | %.0f | %.0f %% |\n",
      r.store_interval_ms, r.syncs_during_run, r.loaded_rate, r.syncing_rate,
      r.loaded_rate > 0 ? 100 * r.syncing_rate / r.loaded_rate : 0);
  out << buf;
  if (r.dropped > 0)
    out << "\n" << r.dropped << " messages of the store runs were dropped.\n";
}

void concern_table(const results& r, std::ostringstream& out) {
  char buf[512];
  out << "\n| concerns | | p2p0mq | ratio | target |\n";
  out << "|---|---|---|---|---|\n";
  std::snprintf(buf, sizeof(buf),
                "| request/reply to a concern in the same process (%zu in "
                "flight), req/s | | %.0f | | |\n",
                r.concern.window, r.concern.local);
  out << buf;
  auto& tls = r.concern.tls;
  auto& plain = r.concern.plain;
  auto pct = [](double x, double of) { return of > 0 ? 100 * x / of : 0; };
  std::snprintf(buf, sizeof(buf),
                "| request/reply to the same concern in another process, "
                "plain BASP on 127.0.0.1, req/s | | %.0f | %.0f %% of same "
                "process | >= 60 %% |\n",
                plain.window, pct(plain.window, r.concern.local));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| the same over TLS (mutual authentication), req/s | | %.0f "
                "| %.0f %% of plain BASP | |\n",
                tls.window, pct(tls.window, plain.window));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| one request in flight, plain BASP / TLS, req/s | | %.0f / "
                "%.0f | %.0f %% | |\n",
                plain.one, tls.one, pct(tls.one, plain.one));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| second process started to concern registered, plain BASP "
                "/ TLS, ms | | %.0f / %.0f | | |\n",
                plain.attach_ms, tls.attach_ms);
  out << buf;
  if (r.concern.failed > 0)
    out << "\n"
        << r.concern.failed
        << " requests of the concern runs got an error instead of a reply.\n";
}

void routed_table(const results& r, std::ostringstream& out) {
  char buf[512];
  out << "\nRouted: three local peers in a line, A told B's address and B "
         "told C's; A reaches C only through B (its route found by one "
         "ask-around before measuring).\n\n";
  out << "| measure | A→B direct | A→C via B | ratio | target |\n";
  out << "|---|---|---|---|---|\n";
  std::snprintf(buf, sizeof(buf),
                "| one-way requests, msg/s | %.0f | %.0f | %.0f %% of "
                "direct | >= 90 %% |\n",
                r.direct_rate, r.routed_rate,
                r.direct_rate > 0 ? 100 * r.routed_rate / r.direct_rate : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| round trip p50, us | %.1f | %.1f | %.2fx direct | <= 2.1x "
                "|\n",
                r.direct_p50, r.routed_p50,
                r.direct_p50 > 0 ? r.routed_p50 / r.direct_p50 : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| round trip p99, us | %.1f | %.1f | %.2fx direct | |\n",
                r.direct_p99, r.routed_p99,
                r.direct_p99 > 0 ? r.routed_p99 / r.direct_p99 : 0);
  out << buf;
  if (r.routed_dropped > 0)
    out << "\n"
        << r.routed_dropped << " messages of the routed runs were dropped.\n";
}

void group_table(const results& r, std::ostringstream& out) {
  char buf[512];
  auto& g = r.groups;
  out << "\nGroups: one publisher and " << g.members
      << " local peers connected to it, all in one group; " << g.publications
      << " publications, then the same message sent to each member one by "
         "one (rates in publications per second, each reaching every "
         "member).\n\n";
  out << "| measure | raw libzmq | p2p0mq | ratio |\n";
  out << "|---|---|---|---|\n";
  auto raw = g.members > 0 ? r.group_raw_rate / g.members : 0;
  std::snprintf(buf, sizeof(buf),
                "| one by one, publications/s | %.0f | %.0f | %.0f %% |\n", raw,
                g.one_by_one, raw > 0 ? 100 * g.one_by_one / raw : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| group, publications/s | %.0f | %.0f | %.0f %% |\n", raw,
                g.group, raw > 0 ? 100 * g.group / raw : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "\nGroup against one by one: %.0f %%. Deliveries missing: "
                "%llu; copies sent again for want of an acknowledgement: "
                "%llu.\n",
                g.one_by_one > 0 ? 100 * g.group / g.one_by_one : 0,
                static_cast<unsigned long long>(g.missing),
                static_cast<unsigned long long>(g.retransmitted));
  out << buf;
}

void external_table(const results& r, std::ostringstream& out) {
  char buf[512];
  auto& x = r.external;
  std::snprintf(
      buf, sizeof(buf),
      "\nFrom outside: a load generator of raw libzmq (a DEALER under its "
      "own uuid, greeting with `hello`) sends `echo` requests over TCP on "
      "127.0.0.1 to one `p2p0mq-node --echo` and, in the same run, to a "
      "raw-libzmq echo peer that hands each request's frames back; each in "
      "a process of its own. Rounds alternate: %zu requests with %zu in "
      "flight, then %zu round trips one at a time; medians of %zu rounds. "
      "Then %.0f requests per second for %.0f s to each, and the CPU its "
      "process spent.\n\n",
      x.opts.requests, x.opts.window, x.opts.round_trips, x.opts.rounds,
      x.opts.paced_rate, x.opts.paced_secs);
  out << buf;
  if (!x.error.empty()) {
    out << "The run failed: " << x.error << "\n";
    return;
  }
  out << "| measure | raw echo peer | p2p0mq-node | ratio | target |\n";
  out << "|---|---|---|---|---|\n";
  auto ratio = [](double a, double of) { return of > 0 ? a / of : 0; };
  std::snprintf(buf, sizeof(buf),
                "| replies per second | %.0f | %.0f | %.2fx raw | >= 0.85x |\n",
                x.raw.rate, x.node.rate, ratio(x.node.rate, x.raw.rate));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| round trip p50, us | %.1f | %.1f | %.2fx raw | <= 1.25x |\n",
                x.raw.p50, x.node.p50, ratio(x.node.p50, x.raw.p50));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| round trip p99, us | %.1f | %.1f | %.2fx raw | |\n",
                x.raw.p99, x.node.p99, ratio(x.node.p99, x.raw.p99));
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| CPU per request at %.0f req/s (reached %.0f / %.0f), us | "
                "%.2f | %.2f | %.2fx raw | reported |\n",
                x.opts.paced_rate, x.raw.paced_rate, x.node.paced_rate,
                x.raw.cpu_us, x.node.cpu_us,
                ratio(x.node.cpu_us, x.raw.cpu_us));
  out << buf;
}

void flood_table(const results& r, std::ostringstream& out) {
  char buf[512];
  auto& f = r.flood;
  out << "\nReceive path: one-way requests from A to B, while another client "
         "floods B's receiver with malformed messages (four kinds in turn) "
         "from a thread of its own, as fast as B takes them; rounds "
         "alternate, medians of three.\n\n";
  out << "| measure | raw libzmq | p2p0mq, no flood | p2p0mq, flood | ratio "
         "|\n";
  out << "|---|---|---|---|---|\n";
  std::snprintf(buf, sizeof(buf),
                "| one-way requests, msg/s | %.0f | %.0f | %.0f | %.0f %% of "
                "no flood |\n",
                f.raw_rate, f.quiet_rate, f.flooded_rate,
                f.quiet_rate > 0 ? 100 * f.flooded_rate / f.quiet_rate : 0);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| malformed messages B dropped meanwhile, per second | | | "
                "%.0f | |\n",
                f.malformed_rate);
  out << buf;
  std::snprintf(buf, sizeof(buf),
                "| B's log lines about them, in %.1f s of flood (%llu "
                "messages) | | | %zu | |\n",
                f.secs, static_cast<unsigned long long>(f.malformed), f.lines);
  out << buf;
  if (f.dropped > 0)
    out << "\n" << f.dropped << " messages of the flood runs were dropped.\n";
}

/// Replaces the text between the markers `<!-- NAME:begin -->` and
/// `<!-- NAME:end -->` of `path` with `text`, appending the section when the
/// file has none.
void write_section(const std::string& path, const std::string& name,
                   const std::string& text) {
  const std::string begin = "<!-- " + name + ":begin -->";
  const std::string end = "<!-- " + name + ":end -->";
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
  if (cfg.serve_raw_echo)
    return bench::serve_raw_echo();
  count_syncs();
  // The concern runs reach a concern in another process over CAF's
  // middleman, with TLS certificates made for the run.
  auto own_certs = cfg.remote_certs.empty();
  auto remote_certs = own_certs ? bench::make_temp_dir() : cfg.remote_certs;
  if (own_certs)
    for (auto name : {"bench-server", "bench-concern"})
      if (auto err = make_remote_certificate(remote_certs, name)) {
        std::fprintf(stderr, "%s\n", render(err).c_str());
        return 1;
      }
  auto tls = remote_options::in_store(
      remote_certs, cfg.serve_concern != 0 ? "bench-concern" : "bench-server");
  if (auto err = load_remote(cfg, tls)) {
    std::fprintf(stderr, "%s\n", render(err).c_str());
    return 1;
  }
  caf::actor_system sys{cfg};
  if (cfg.serve_concern != 0)
    return bench::serve_concern(sys, cfg.serve_concern, cfg.serve_plain);
  results r;
  // Memory first, while the heap holds nothing freed by earlier runs that
  // would hide what the peers take.
  if (cfg.wanted("memory")) {
    std::fprintf(stderr, "memory...\n");
    memory(cfg, sys, r);
  }
  if (cfg.wanted("one-way")) {
    std::fprintf(stderr, "one-way throughput...\n");
    one_way(cfg, sys, {}, r.plain);
  }
  if (cfg.wanted("round-trip")) {
    std::fprintf(stderr, "round trips...\n");
    round_trip(cfg, sys, {}, r.plain);
  }
  if (cfg.wanted("concern")) {
    std::fprintf(stderr, "request/reply to a concern, here and elsewhere...\n");
    r.concern = bench::measure_concern_rates(
        sys, settings_for(cfg, {}), remote_certs, cfg.concern_requests, 64);
  }
  if (own_certs)
    bench::remove_dir(remote_certs);
  if (cfg.wanted("curve")) {
    auto certs = bench::make_temp_dir();
    std::fprintf(stderr, "one-way throughput, CURVE...\n");
    one_way(cfg, sys, certs, r.curve);
    std::fprintf(stderr, "round trips, CURVE...\n");
    round_trip(cfg, sys, certs, r.curve);
    bench::remove_dir(certs);
  }
  if (cfg.wanted("routed")) {
    std::fprintf(stderr, "routed through a third peer...\n");
    routed(cfg, sys, r);
  }
  if (cfg.wanted("idle")) {
    std::fprintf(stderr, "idle CPU...\n");
    idle(cfg, sys, r);
  }
  if (cfg.wanted("store")) {
    std::fprintf(stderr, "peer store...\n");
    store(cfg, sys, r);
  }
  if (cfg.wanted("flood")) {
    std::fprintf(stderr, "receive path under a flood of malformed input...\n");
    flood(cfg, sys, r);
  }
  if (cfg.wanted("groups")) {
    std::fprintf(stderr, "publishing to a group...\n");
    auto body = payload_builder{}.add_integer("seq", 1000).build();
    r.group_raw_rate =
        bench::raw_one_way(sample_frames(body), cfg.publications * 10);
    r.groups = bench::measure_group_rates(
        sys, settings_for(cfg, {}), cfg.group_members, cfg.publications, body);
  }
  if (cfg.wanted("external")) {
    std::fprintf(stderr, "one node driven from outside...\n");
    bench::external_options opts;
    opts.node = cfg.node;
    if (opts.node.empty()) {
      std::string self = argv[0];
      auto slash = self.rfind('/');
      opts.node = (slash == std::string::npos ? std::string{"."}
                                              : self.substr(0, slash)) +
                  "/p2p0mq-node";
    }
    opts.requests = cfg.external_requests;
    opts.paced_rate = cfg.paced_rate;
    auto certs = bench::make_temp_dir();
    opts.certs = certs;
    r.external = bench::measure_external(opts);
    bench::remove_dir(certs);
  }
  auto text = report(r, command, cfg);
  std::fputs(text.c_str(), stdout);
  // A run of some of the runs has a section of its own.
  if (!cfg.write.empty())
    write_section(
        cfg.write,
        cfg.only.empty() ? "p2p0mq-bench" : "p2p0mq-bench:" + cfg.only, text);
  // Each run made must have measured something.
  bool ok =
      (!cfg.wanted("one-way") || r.plain.our_rate > 0) &&
      (!cfg.wanted("round-trip") || r.plain.our_p50 > 0) &&
      (!cfg.wanted("curve") || (r.curve.our_rate > 0 && r.curve.our_p50 > 0)) &&
      (!cfg.wanted("store") || r.syncing_rate > 0) &&
      (!cfg.wanted("routed") || (r.routed_rate > 0 && r.routed_p50 > 0)) &&
      (!cfg.wanted("concern") ||
       (r.concern.local > 0 && r.concern.tls.window > 0 &&
        r.concern.plain.window > 0)) &&
      (!cfg.wanted("flood") ||
       (r.flood.quiet_rate > 0 && r.flood.flooded_rate > 0 &&
        r.flood.malformed > 0)) &&
      (!cfg.wanted("groups") ||
       (r.groups.group > 0 && r.groups.one_by_one > 0)) &&
      (!cfg.wanted("external") || r.external.error.empty());
  return ok ? 0 : 1;
}
