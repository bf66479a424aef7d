#include "groups.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/groups.hpp"

namespace p2p0mq::sim_tool {

namespace {

using testing::sim_network;
using testing::sim_uuid;

double seconds(duration x) {
  return std::chrono::duration<double>(x).count();
}

/// Everything the listeners record, shared by all of them (the simulated
/// network runs on one thread).
struct experiment {
  /// The groups of the experiment, and how many members each has.
  std::map<std::string, std::size_t> sizes;
  /// The sum of `sizes`.
  std::size_t all = 0;
  /// Per peer: the members it knows of the experiment's groups, and when it
  /// first knew all of them.
  std::map<std::string, std::size_t> known;
  std::map<std::string, time_point> knew_all;
  /// Per peer: when it first heard of the probe's join.
  std::map<std::string, time_point> probe_known;
  /// Publications by (publisher, group, seq): when, and the shortest
  /// distance from the publisher to each peer, in hops.
  std::map<std::tuple<std::string, std::string, std::uint64_t>, time_point>
      published;
  std::map<std::string, std::vector<int>> hops;
  duration latency{};
  /// Per (member, publisher, group): the last number delivered.
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t>
      last;
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t unknown = 0;
  std::vector<double> latency_ms;
  std::vector<double> shortest_ms;
  std::vector<double> stretch;
};

group_listener_actor::behavior_type listener(group_listener_actor::pointer self,
                                             experiment* x, std::string me,
                                             std::size_t index) {
  return {
      [=](const group_event& ev) {
        if (ev.group == "probe") {
          if (ev.what == group_event_kind::join)
            x->probe_known.emplace(me, self->clock().now());
          return;
        }
        if (x->sizes.count(ev.group) == 0)
          return;
        if (ev.what != group_event_kind::join) {
          --x->known[me];
          return;
        }
        if (++x->known[me] == x->all)
          x->knew_all.emplace(me, self->clock().now());
      },
      [=](const group_message& m) {
        auto key = std::make_tuple(me, m.publisher, m.group);
        auto& last = x->last[key];
        if (m.seq == last)
          ++x->duplicates;
        else if (m.seq < last)
          ++x->reordered;
        last = std::max(last, m.seq);
        ++x->delivered;
        auto i = x->published.find({m.publisher, m.group, m.seq});
        if (i == x->published.end()) {
          ++x->unknown;
          return;
        }
        auto took = std::chrono::duration<double, std::milli>(
                        self->clock().now() - i->second)
                        .count();
        auto h = x->hops[m.publisher][index];
        auto shortest =
            h * std::chrono::duration<double, std::milli>(x->latency).count();
        x->latency_ms.push_back(took);
        x->shortest_ms.push_back(shortest);
        if (shortest > 0)
          x->stretch.push_back(took / shortest);
      },
  };
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(xs.size() - 1));
  return xs[i];
}

/// The sum over all peers of the group concern's counter `key`.
std::uint64_t total(sim_network& net, const char* key) {
  std::uint64_t result = 0;
  for (auto& uuid : net.uuids()) {
    auto x = testing::try_ask<concern_counters>(net, net[uuid].actors.groups(),
                                                stats_atom::value);
    if (x && *x)
      if (auto i = (*x)->find(key); i != (*x)->end())
        result += i->second;
  }
  return result;
}

} // namespace

bool run_groups(sim_network& net, const testing::sim_graph& graph,
                const group_options& opts, std::uint64_t seed,
                duration latency) {
  auto n = graph.size();
  std::mt19937_64 random{seed ^ 0x67726f757073ull};
  auto x = std::make_unique<experiment>();
  x->latency = latency;
  // Every peer listens, to time membership; members also deliver.
  for (std::size_t i = 0; i < n; ++i) {
    auto l = net.sys().spawn(listener, x.get(), sim_uuid(i), i);
    caf::anon_send(net[sim_uuid(i)].actors.groups(), subscribe_atom::value,
                   group_listener_actor{l});
  }
  net.run();
  // Groups of random members.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  std::vector<std::size_t> everyone(n);
  for (std::size_t i = 0; i < n; ++i)
    everyone[i] = i;
  auto m = std::min(opts.members, n);
  for (std::size_t g = 0; g < opts.groups; ++g) {
    std::shuffle(everyone.begin(), everyone.end(), random);
    std::vector<std::size_t> ms(everyone.begin(), everyone.begin() + m);
    std::sort(ms.begin(), ms.end());
    auto name = "group-" + std::to_string(g + 1);
    x->sizes[name] = m;
    x->all += m;
    groups.emplace_back(name, std::move(ms));
  }
  auto t_join = net.now();
  for (auto& [name, ms] : groups)
    for (auto i : ms)
      caf::anon_send(net[sim_uuid(i)].actors.groups(), join_atom::value, name);
  net.run_until([&] { return x->knew_all.size() == n; },
                std::chrono::seconds{60}, std::chrono::milliseconds{100});
  std::optional<double> converged;
  if (x->knew_all.size() == n) {
    time_point latest = t_join;
    for (auto& kv : x->knew_all)
      latest = std::max(latest, kv.second);
    converged = seconds(latest - t_join);
  }
  // One more join, by a peer in no group, alone on the network.
  std::set<std::size_t> in_some;
  for (auto& g : groups)
    in_some.insert(g.second.begin(), g.second.end());
  std::size_t prober = 0;
  while (prober < n && in_some.count(prober) > 0)
    ++prober;
  prober %= n;
  auto t_probe = net.now();
  caf::anon_send(net[sim_uuid(prober)].actors.groups(), join_atom::value,
                 std::string{"probe"});
  net.run_until([&] { return x->probe_known.size() == n; },
                std::chrono::seconds{60}, std::chrono::milliseconds{10});
  std::optional<double> probe;
  if (x->probe_known.size() == n) {
    time_point latest = t_probe;
    for (auto& kv : x->probe_known)
      latest = std::max(latest, kv.second);
    probe = seconds(latest - t_probe);
  }
  std::printf("groups: %zu of %zu members, %zu publications at %.0f per "
              "virtual second\n",
              opts.groups, m, opts.publishes, opts.rate);
  if (converged)
    std::printf("membership converged: every peer knew every member %.3f s "
                "after the joins (virtual)\n",
                *converged);
  else
    std::printf("membership did not converge: %zu of %zu peers knew every "
                "member after 60 s\n",
                x->knew_all.size(), n);
  if (probe)
    std::printf("one join known to every peer after %.3f s (virtual)\n",
                *probe);
  else
    std::printf("one join known to %zu of %zu peers after 60 s\n",
                x->probe_known.size(), n);
  // Publications.
  auto transfers0 = total(net, "publication_transfers");
  auto acks0 = total(net, "publication_acks");
  auto lost0 = net.total_traffic()["g"].lost;
  std::map<std::pair<std::string, std::string>, std::uint64_t> seqs;
  std::uint64_t expected = 0;
  double hop_sum = 0;
  auto step = std::chrono::duration_cast<duration>(
      std::chrono::duration<double>{1.0 / std::max(opts.rate, 1e-3)});
  auto t_pub = net.now();
  for (std::size_t k = 0; k < opts.publishes && !groups.empty(); ++k) {
    auto& [name, ms] = groups[random() % groups.size()];
    auto from = ms[random() % ms.size()];
    auto uuid = sim_uuid(from);
    auto& hops = x->hops[uuid];
    if (hops.empty())
      hops = graph.hops_from(from);
    auto seq = ++seqs[{uuid, name}];
    x->published[{uuid, name, seq}] = net.now();
    for (auto i : ms)
      if (i != from) {
        ++expected;
        hop_sum += hops[i];
      }
    auto body = payload_builder{}
                    .add_integer("seq", static_cast<std::int64_t>(seq))
                    .add_string("text", "hello")
                    .build();
    caf::anon_send(net[uuid].actors.groups(), publish_atom::value, name, body);
    net.advance(step);
  }
  auto publishing = seconds(net.now() - t_pub);
  // Settle: retransmissions and held publications.
  net.advance(std::chrono::seconds{15});
  auto transfers = total(net, "publication_transfers") - transfers0;
  auto acks = total(net, "publication_acks") - acks0;
  auto lost = net.total_traffic()["g"].lost - lost0;
  auto delivered = x->delivered;
  auto ratio = expected > 0 ? 100.0 * static_cast<double>(delivered) /
                                  static_cast<double>(expected)
                            : 100.0;
  auto per = [&](double v) {
    return delivered > 0 ? v / static_cast<double>(delivered) : 0.0;
  };
  std::printf("delivery ratio: %.3f %% (%" PRIu64 " of %" PRIu64
              " deliveries over %.1f s), duplicates delivered: %" PRIu64
              ", out of order: %" PRIu64 "\n",
              ratio, delivered, expected, publishing, x->duplicates,
              x->reordered);
  std::printf("wire transfers per delivery: %.3f publication copies, %.3f "
              "with acknowledgements (%" PRIu64 " g parts lost on the way); "
              "bound 1.5 x shortest hops per member: %.3f\n",
              per(static_cast<double>(transfers)),
              per(static_cast<double>(transfers + acks)), lost,
              expected > 0 ? 1.5 * hop_sum / static_cast<double>(expected)
                           : 0.0);
  std::printf("delivery latency: p50 %.2f ms, p99 %.2f ms (virtual); "
              "shortest path p50 %.2f ms, p99 %.2f ms; latency / shortest "
              "path p50 %.2f, p99 %.2f\n",
              percentile(x->latency_ms, 0.5), percentile(x->latency_ms, 0.99),
              percentile(x->shortest_ms, 0.5), percentile(x->shortest_ms, 0.99),
              percentile(x->stretch, 0.5), percentile(x->stretch, 0.99));
  if (opts.partition > duration::zero()) {
    // Two halves of the ring the graph is built on, each connected.
    std::vector<std::string> left;
    std::vector<std::string> right;
    for (std::size_t i = 0; i < n; ++i)
      (i < n / 2 ? left : right).push_back(sim_uuid(i));
    auto everyone_knows = [&] {
      for (std::size_t i = 0; i < n; ++i)
        if (x->known[sim_uuid(i)] != x->all)
          return false;
      return true;
    };
    net.partition({left, right});
    net.advance(opts.partition);
    std::size_t knowing = 0;
    for (std::size_t i = 0; i < n; ++i)
      knowing += x->known[sim_uuid(i)] == x->all ? 1 : 0;
    auto t_heal = net.now();
    net.heal();
    auto limit = std::chrono::seconds{600};
    auto healed =
        net.run_until(everyone_knows, limit, std::chrono::milliseconds{100});
    auto took = seconds(net.now() - t_heal);
    net.run_until([&] { return graph.broken_links(net) == 0; }, limit,
                  std::chrono::seconds{1});
    auto links = seconds(net.now() - t_heal);
    std::printf("partition: two halves apart for %.0f s (%zu of %zu peers "
                "still knew every member at the end); after it healed, "
                "membership converged in %s%.1f s (virtual), every link "
                "CONNECTED again after %.1f s\n",
                seconds(opts.partition), knowing, n, healed ? "" : "more than ",
                took, links);
  }
  std::printf("group concern counters:");
  for (auto key : {"retransmitted", "rerouted", "gave_up", "unicast",
                   "hop_limit", "dropped", "gaps", "duplicates", "malformed"})
    std::printf(" %s %" PRIu64, key, total(net, key));
  std::printf("\n");
  if (opts.markdown)
    std::printf("| %zu | %zu x %zu | %zu | %.3f | %.3f | %.3f %% | %" PRIu64
                " | %.3f | %.3f | %.2f | %.2f |\n",
                n, opts.groups, m, opts.publishes, converged ? *converged : -1,
                probe ? *probe : -1, ratio, x->duplicates,
                per(static_cast<double>(transfers)),
                expected > 0 ? 1.5 * hop_sum / static_cast<double>(expected)
                             : 0.0,
                percentile(x->latency_ms, 0.99), percentile(x->stretch, 0.99));
  return x->duplicates == 0 && x->reordered == 0;
}

} // namespace p2p0mq::sim_tool
