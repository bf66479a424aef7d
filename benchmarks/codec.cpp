// Encode and decode of the two messages every peer exchanges most: `hb`
// (empty payload) and `hello` (`{"host": str, "port": int}`), with uuids as
// the Python peer makes them (32 hex characters). Encode is `message::encode`
// into the 7 frames handed to the sender socket; decode is `p2p0mq::decode`
// from views of the 7 frames read from the receiver socket. Items per second
// are messages per second on one core.
//
// Run: build-bench/benchmarks/p2p0mq-bench-codec

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include <benchmark/benchmark.h>

#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

namespace {

const std::string sender_uuid = "6f1c0e54a9b04c2f8d3e7a1b2c4d5e6f";
const std::string receiver_uuid = "0a9b8c7d6e5f40312233445566778899";

p2p0mq::message hb_message() {
  return p2p0mq::make_request(sender_uuid, receiver_uuid, "hb", 300,
                              p2p0mq::payload{});
}

p2p0mq::message hello_message() {
  auto body = p2p0mq::payload_builder{}
                  .add_string("host", "127.0.0.1")
                  .add_integer("port", 8402)
                  .build();
  return p2p0mq::make_request(sender_uuid, receiver_uuid, "hello", 1,
                              std::move(body));
}

void encode(benchmark::State& state, const p2p0mq::message& msg) {
  for (auto _ : state) {
    auto xs = msg.encode(sender_uuid);
    benchmark::DoNotOptimize(xs);
  }
  state.SetItemsProcessed(state.iterations());
}

void decode(benchmark::State& state, const p2p0mq::message& msg) {
  // What the receiver socket of the destination reads: frame 0 is the
  // routing id of the connection, the sender's uuid.
  auto owned = msg.encode(sender_uuid);
  owned[0] = sender_uuid;
  std::array<std::string_view, p2p0mq::frame_count> views;
  for (std::size_t i = 0; i < views.size(); ++i)
    views[i] = owned[i];
  for (auto _ : state) {
    auto x = p2p0mq::decode(views.data(), views.size(), receiver_uuid);
    if (!x)
      state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}

void encode_hb(benchmark::State& state) {
  encode(state, hb_message());
}

void encode_hello(benchmark::State& state) {
  encode(state, hello_message());
}

void decode_hb(benchmark::State& state) {
  decode(state, hb_message());
}

void decode_hello(benchmark::State& state) {
  decode(state, hello_message());
}

} // namespace

BENCHMARK(encode_hb);
BENCHMARK(encode_hello);
BENCHMARK(decode_hb);
BENCHMARK(decode_hello);

BENCHMARK_MAIN();
