// Rendering a local peer's metrics: to_json (one line of p2p0mq-node
// --json, by nlohmann-json) and to_prometheus (the /metrics page), for a
// peer table of 10, 100 and 1000 peers (1000 is max-peers' default).
#include <chrono>
#include <string>

#include <benchmark/benchmark.h>

#include "p2p0mq/actors/metrics.hpp"

namespace {

p2p0mq::local_peer_metrics snapshot(int peers) {
  using namespace std::chrono_literals;
  p2p0mq::local_peer_metrics m;
  m.uuid = "peer-a-0001";
  m.host = "127.0.0.1";
  m.port = 8401;
  for (auto command : {"hello", "hb", "r", "echo"}) {
    p2p0mq::concern_metrics c;
    c.command = command;
    c.in = {3, 30};
    m.concerns.push_back(c);
  }
  for (int i = 0; i < peers; ++i) {
    p2p0mq::peer_metrics p;
    p.uuid = "peer-" + std::to_string(100000 + i);
    p.host = "127.0.0.1";
    p.port = static_cast<std::uint16_t>(9000 + i);
    p.state = p2p0mq::peer_state::connected;
    p.seconds_in_state = 12.5;
    p.seconds_since_heard = 0.25;
    p.round_trips.add(250us);
    p.round_trips.add(750us);
    p.in = {7, 70};
    m.peers.push_back(p);
  }
  return m;
}

void to_json(benchmark::State& state) {
  auto m = snapshot(static_cast<int>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(p2p0mq::to_json(m));
}
BENCHMARK(to_json)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void to_prometheus(benchmark::State& state) {
  auto m = snapshot(static_cast<int>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(p2p0mq::to_prometheus(m));
}
BENCHMARK(to_prometheus)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
