// first_concern: the program of the README's "Write your first concern",
// whole. Bob serves `shout`, a concern that answers {"text": "hi"} with
// {"text": "HI"}; alice asks it once and prints the answer. Options as in
// first_peer (`--p2p0mq.encryption=false`, ...); with encryption on, the key
// pairs are kept in ./first_concern-certificates. Exits 0 when bob answered.
//
// Run: build-release/examples/first_concern/first_concern
#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>

#include <p2p0mq/p2p0mq.hpp>

class shout : public p2p0mq::concern_base {
public:
  using concern_base::concern_base;

protected:
  p2p0mq::answer on_request(const p2p0mq::message& request) override {
    auto text = p2p0mq::field<std::string>(request.payload, "text");
    if (!text)
      return text.error(); // the asker gets errc::rejected, saying why
    for (auto& c : *text)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return p2p0mq::payload_builder{}.add_string("text", *text).build();
  }
};

int main(int argc, char** argv) {
  p2p0mq::system_config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::fprintf(stderr, "%s\n", cfg.render(err).c_str());
    return 2;
  }
  caf::actor_system sys{cfg};
  auto settings = cfg.settings;
  settings.port = 0;
  settings.public_cert_dir = "first_concern-certificates/public";
  settings.private_cert_dir = "first_concern-certificates/private";
  settings.uuid = "alice-01";
  p2p0mq::local_peer alice{sys, settings};
  settings.uuid = "bob-0002";
  p2p0mq::local_peer bob{sys, settings};
  for (auto* peer : {&alice, &bob})
    if (auto err = peer->start()) {
      std::fprintf(stderr, "%s\n", p2p0mq::render(err).c_str());
      return 1;
    }
  alice.add_peer(bob.uuid(), "127.0.0.1", bob.port());

  bob.add_concern("shout", p2p0mq::concern_class<shout>());

  auto body = p2p0mq::payload_builder{}.add_string("text", "hello").build();
  auto reply =
      alice.request("bob-0002", "shout", body, std::chrono::seconds{5});
  if (reply)
    std::puts(reply->payload.get_string("text")->c_str()); // HELLO
  else
    std::puts(p2p0mq::render(reply.error()).c_str());
  return reply ? 0 : 1;
}
