// echo: a custom concern and request/reply between two local peers.
//
// Bob runs `shout`, a concern written as a class: it answers each request
// with the field "text" in capitals, and rejects a request without it.
// Alice asks bob three ways: waiting for the answer (`request` without an
// actor), from a scoped actor (`request(self, ...)` and `.receive`), and
// from an event-based actor (`.then`). Then she sees the errors a caller
// gets: a rejection (no "text"), an unknown command (bob's hello told alice
// that bob answers a command it does not serve) and a timeout (a peer that
// never answers). Both peers keep their certificates in one temporary directory, so
// they trust each other. Prints one line per step and a last line
// "echo: success ..."; exits 0 when every step went as expected, 1 otherwise.
//
// Run: build/examples/echo/echo
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <unistd.h>
#include <zmq.hpp>

#include <p2p0mq/actors/concern_base.hpp>
#include <p2p0mq/actors/local_peer.hpp>
#include <p2p0mq/actors/system_config.hpp>
#include <p2p0mq/errc.hpp>

namespace {

using namespace p2p0mq;
using namespace std::chrono_literals;

/// The concern: `{"text": str}` in, `{"text": STR, "by": uuid}` out.
class shout : public concern_base {
public:
  using concern_base::concern_base;

protected:
  answer on_request(const message& request) override {
    auto text = field<std::string>(request.payload, "text");
    if (!text)
      return text.error(); // the asker gets errc::rejected, saying why
    for (auto& c : *text)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return payload_builder{}
        .add_string("text", *text)
        .add_string("by", local_uuid())
        .build();
  }
};

payload text(const std::string& x) {
  return payload_builder{}.add_string("text", x).build();
}

std::string text_of(const message& reply) {
  auto x = reply.payload.get_string("text");
  return x ? *x : "<no text>";
}

/// Asks once from an event-based actor and reports to `main_actor`.
void event_based_asker(caf::event_based_actor* self, local_peer* alice,
                       std::string bob, caf::actor main_actor) {
  alice->request(self, bob, "shout", text("from an actor"), 5s)
      .then([=](message& reply) { caf::anon_send(main_actor, text_of(reply)); },
            [=](caf::error& err) { caf::anon_send(main_actor, render(err)); });
}

/// A directory for the run's certificates, removed at the end.
struct temp_dir {
  temp_dir() {
    auto pattern =
        (std::filesystem::temp_directory_path() / "p2p0mq-echo-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) != nullptr)
      path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

} // namespace

int main(int argc, char** argv) {
  system_config cfg;
  if (auto err = cfg.parse(argc, argv))
    return std::fprintf(stderr, "%s\n", cfg.render(err).c_str()), 2;
  if (cfg.cli_helptext_printed)
    return 0;
  temp_dir certs;
  if (certs.path.empty())
    return std::fprintf(stderr, "cannot make a temporary directory\n"), 1;
  caf::actor_system sys{cfg};
  auto zmq_context = std::make_shared<zmq::context_t>(1);
  auto settings_of = [&](const std::string& uuid) {
    auto settings = cfg.settings;
    settings.uuid = uuid;
    settings.public_cert_dir = certs.path + "/public";
    settings.private_cert_dir = certs.path + "/private";
    return settings;
  };
  local_peer alice{sys, settings_of("alice-0001"), zmq_context};
  local_peer bob{sys, settings_of("bob-0002"), zmq_context};
  for (auto* peer : {&alice, &bob})
    if (auto err = peer->start())
      return std::fprintf(stderr, "%s\n", render(err).c_str()), 1;
  bob.add_concern("shout", concern_class<shout>());
  alice.add_peer(bob.uuid(), "127.0.0.1", bob.port());

  // Wait until the two greeted each other.
  if (auto bob_seen = alice.wait_connected(bob.uuid(), 5s); !bob_seen)
    return std::fprintf(stderr, "alice and bob did not connect: %s\n",
                        render(bob_seen.error()).c_str()),
           1;
  std::printf("alice and bob are connected\n");
  caf::scoped_actor self{sys};

  int good = 0;
  // 1. Waiting for the answer.
  if (auto reply = alice.request(bob.uuid(), "shout", text("hello"), 5s)) {
    std::printf("waiting:     %s\n", text_of(*reply).c_str());
    good += text_of(*reply) == "HELLO";
  } else {
    std::printf("waiting:     %s\n", render(reply.error()).c_str());
  }
  // 2. From a scoped actor.
  alice.request(self, bob.uuid(), "shout", text("scoped"), 5s)
      .receive(
          [&](message& reply) {
            std::printf("scoped:      %s\n", text_of(reply).c_str());
            good += text_of(reply) == "SCOPED";
          },
          [&](caf::error& err) {
            std::printf("scoped:      %s\n", render(err).c_str());
          });
  // 3. From an event-based actor.
  sys.spawn(event_based_asker, &alice, bob.uuid(),
            caf::actor_cast<caf::actor>(self));
  self->receive(
      [&](const std::string& what) {
        std::printf("event-based: %s\n", what.c_str());
        good += what == "FROM AN ACTOR";
      },
      caf::after(10s) >> [] { std::printf("event-based: no answer\n"); });
  // 4. Errors: a rejection, an unknown command, and a timeout.
  auto rejected = alice.request(bob.uuid(), "shout", payload{}, 5s);
  std::printf("rejected:    %s\n",
              rejected ? "(a reply?)" : render(rejected.error()).c_str());
  good += !rejected && rejected.error() == errc::rejected;
  auto unknown = alice.request(bob.uuid(), "whisper", text("?"), 5s);
  std::printf("unknown:     %s\n",
              unknown ? "(a reply?)" : render(unknown.error()).c_str());
  good += !unknown && unknown.error() == errc::unknown_command;
  // Bob stops: alice still thinks him connected, and her request waits
  // until its timeout.
  bob.stop();
  auto unanswered = alice.request(bob.uuid(), "shout", text("?"), 500ms);
  std::printf("timeout:     %s\n",
              unanswered ? "(a reply?)" : render(unanswered.error()).c_str());
  good += !unanswered && unanswered.error() == errc::request_timeout;

  alice.stop();
  if (good != 6) {
    std::printf("echo: %d of 6 steps went as expected\n", good);
    return 1;
  }
  std::printf("echo: success: 3 replies, 1 rejection, 1 unknown command, "
              "1 timeout\n");
  return 0;
}
