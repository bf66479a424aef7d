// wire_tour: what a `hello` exchange between two peers looks like on the wire.
//
// Peer 1~1~1~1 greets peer 2~2~2~2 with its address; 2~2~2~2 decodes the
// request as its receiver would and answers with its own address. Every frame
// is printed in hex, exactly as it is handed to (or read from) a ZeroMQ ROUTER
// socket. Uses only p2p0mq::core: no sockets, no actors.
//
// Run: build/examples/wire_tour/wire_tour
#include <cstdio>
#include <string>
#include <vector>

#include <p2p0mq/errc.hpp>
#include <p2p0mq/message.hpp>
#include <p2p0mq/payload.hpp>

namespace {

void print_frames(const char* title, const p2p0mq::frames& xs) {
  std::printf("%s\n", title);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    std::printf("  frame %zu: ", i);
    for (unsigned char c : xs[i])
      std::printf("%02x", c);
    std::printf("%s\n", xs[i].empty() ? "(empty)" : "");
  }
}

p2p0mq::payload address(const char* host, int port) {
  return p2p0mq::payload_builder{}
      .add_string("host", host)
      .add_integer("port", port)
      .build();
}

} // namespace

int main() {
  const std::string alice = "1~1~1~1";
  const std::string bob = "2~2~2~2";
  p2p0mq::message_id_counter alice_ids;

  // Alice's connector composes a hello and her sender encodes it.
  auto hello = p2p0mq::make_request(alice, bob, "hello", alice_ids.next(),
                                    address("127.0.0.1", 8401));
  auto sent = hello.encode(alice);
  print_frames("alice's sender socket gets:", sent);

  // Bob's receiver socket sees Alice's routing id in frame 0.
  auto received = sent;
  received[0] = alice;
  auto decoded = p2p0mq::decode(
      std::vector<std::string>(received.begin(), received.end()), bob);
  if (!decoded) {
    std::printf("decode failed: %s\n", p2p0mq::render(decoded.error()).c_str());
    return 1;
  }
  auto host = decoded->payload.get_string("host");
  auto port = decoded->payload.get_integer("port");
  if (!host || !port) {
    std::printf("bad hello payload\n");
    return 1;
  }
  std::printf("bob decodes: %s %s from %s (previous hop %s), id %llu, "
              "address %s:%lld\n",
              std::string{p2p0mq::to_string(decoded->kind)}.c_str(),
              decoded->command.c_str(), decoded->source.c_str(),
              decoded->previous_hop.c_str(),
              static_cast<unsigned long long>(decoded->id), host->c_str(),
              static_cast<long long>(*port));

  // Bob answers with his own address; the reply retraces the path.
  auto reply = decoded->make_reply(address("127.0.0.1", 8402),
                                   p2p0mq::time_point::max());
  print_frames("bob's sender socket gets:", reply.encode(bob));
  return 0;
}
