// first_peer: the program of the README's "Using the library", whole. Two
// local peers in one process, each on a port the system picks; alice learns
// bob's address, and asks bob's `echo` concern once. Options come from the
// command line or a config file (`--p2p0mq.encryption=false`,
// `--config-file=FILE`); with encryption on, the key pairs are kept in
// ./first_peer-certificates. Exits 0 when bob answered.
//
// Run: build-release/examples/first_peer/first_peer
#include <chrono>
#include <cstdio>

#include <p2p0mq/p2p0mq.hpp>

int main(int argc, char** argv) {
  p2p0mq::system_config cfg; // p2p0mq's types and options
  if (auto err = cfg.parse(argc, argv)) {
    std::fprintf(stderr, "%s\n", cfg.render(err).c_str());
    return 2;
  }
  caf::actor_system sys{cfg};
  auto settings = cfg.settings; // as read from the command line and file
  settings.port = 0;            // any free port
  settings.public_cert_dir = "first_peer-certificates/public";
  settings.private_cert_dir = "first_peer-certificates/private";
  settings.uuid = "alice-01";
  p2p0mq::local_peer alice{sys, settings};
  settings.uuid = "bob-0002";
  p2p0mq::local_peer bob{sys, settings};
  for (auto* peer : {&alice, &bob})
    if (auto err = peer->start()) { // binds, spawns the actors
      std::fprintf(stderr, "%s\n", p2p0mq::render(err).c_str());
      return 1;
    }
  bob.add_concern(p2p0mq::echo_command, p2p0mq::echo());
  alice.add_peer(bob.uuid(), "127.0.0.1", bob.port());
  // The request waits in alice's sender until the two have greeted.
  auto body = p2p0mq::payload_builder{}.add_string("text", "hi").build();
  auto reply = alice.request(bob.uuid(), p2p0mq::echo_command, body,
                             std::chrono::seconds{10});
  if (!reply) {
    std::fprintf(stderr, "%s\n", p2p0mq::render(reply.error()).c_str());
    return 1;
  }
  std::printf("bob answered: %s\n", reply->payload.get_string("text")->c_str());
  return 0;
}
