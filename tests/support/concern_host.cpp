// p2p0mq-test-concern-host: the other process of the remote concern tests.
// Connects to the manager published on 127.0.0.1:PORT, registers a concern
// for COMMAND that upper-cases the field "text" of each request and adds its
// process id ("pid"), prints "attached" and serves until the manager goes
// away (exit 0), or fails to attach (exit 1; exit 2 for bad arguments or
// certificates).
//
//   p2p0mq-test-concern-host PORT COMMAND CERTS NAME   # TLS, the certificate
//                                                      # NAME of CERTS
//   p2p0mq-test-concern-host PORT COMMAND plain        # plain BASP
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <unistd.h>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/remote.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"

int main(int argc, char** argv) {
  auto plain = argc == 4 && std::string{argv[3]} == "plain";
  if (argc != 5 && !plain) {
    std::fprintf(stderr, "usage: %s PORT COMMAND (CERTS NAME | plain)\n",
                 argv[0]);
    return 2;
  }
  auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  std::string command = argv[2];
  p2p0mq::system_config cfg;
  auto opts = plain ? p2p0mq::remote_options{}
                    : p2p0mq::remote_options::in_store(argv[3], argv[4]);
  if (auto err = p2p0mq::load_remote(cfg, opts)) {
    std::fprintf(stderr, "%s\n", p2p0mq::render(err).c_str());
    return 2;
  }
  caf::actor_system sys{cfg};
  auto pid = static_cast<std::int64_t>(getpid());
  auto upper =
      p2p0mq::make_concern([pid](p2p0mq::concern_base&,
                                 const p2p0mq::message& req) -> p2p0mq::answer {
        auto text = p2p0mq::field<std::string>(req.payload, "text");
        if (!text)
          return text.error();
        for (auto& c : *text)
          if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        return p2p0mq::payload_builder{}
            .add_string("text", *text)
            .add_integer("pid", pid)
            .build();
      });
  auto concern = p2p0mq::attach_concern(
      sys, "127.0.0.1", port, command, upper, std::chrono::seconds{10},
      plain ? p2p0mq::remote_transport::plain : p2p0mq::remote_transport::tls);
  if (!concern) {
    std::fprintf(stderr, "attach failed: %s\n",
                 p2p0mq::render(concern.error()).c_str());
    return 1;
  }
  std::printf("attached\n");
  std::fflush(stdout);
  caf::scoped_actor self{sys};
  self->wait_for(*concern);
  return 0;
}
