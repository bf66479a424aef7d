// Prints the hex of a `hello` payload built with the installed library.
#include <cstdio>

#include <p2p0mq/payload.hpp>

int main() {
  auto body = p2p0mq::payload_builder{}
                  .add_string("host", "127.0.0.1")
                  .add_integer("port", 8402)
                  .build();
  for (unsigned char c : body.bytes())
    std::printf("%02x", c);
  std::printf("\n");
}
