// Prints the hex of a `hello` payload built with the installed library, after
// setting up an actor system config the way a p2p0mq application does.
#include <cstdio>

#include <caf/actor_system_config.hpp>
#include <p2p0mq/actors/types.hpp>
#include <p2p0mq/payload.hpp>

int main() {
  caf::actor_system_config cfg;
  p2p0mq::add_message_types(cfg);
  auto body = p2p0mq::payload_builder{}
                  .add_string("host", "127.0.0.1")
                  .add_integer("port", 8402)
                  .build();
  for (unsigned char c : body.bytes())
    std::printf("%02x", c);
  std::printf("\n");
}
