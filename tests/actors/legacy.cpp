// A local peer beside a peer of the Python p2p0mq, played with raw ZeroMQ:
// a `hello` without "speaks" makes a legacy peer, which gets only what it
// understands (no rejections, nothing to relay) over real sockets.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "support/loopback.hpp"
#include "support/raw_wire.hpp"
#include "support/settings.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::testing::wire_frames;
using p2p0mq::testing::zmq_client;
using p2p0mq::testing::zmq_receiver;

namespace {

constexpr const char* cpp_uuid = "cpp-peer-0001";
constexpr const char* legacy_uuid = "py-peer-0002";
constexpr const char* far_uuid = "far-peer-0003";

/// A C++ local peer (without encryption, which the raw sockets do not
/// speak) and a Python-like peer: a ROUTER for what it receives, a DEALER
/// that talks to the C++ peer. The Python peer greets first, with a `hello`
/// of only host and port.
struct legacy_fixture {
  legacy_fixture() {
    auto settings = p2p0mq::testing::test_settings(cpp_uuid);
    settings.encryption = false;
    cpp = net.start(settings);
    REQUIRE(!cpp->add_concern(p2p0mq::echo_command, p2p0mq::echo()));
    out = std::make_unique<zmq_client>(*net.zmq_context, cpp->port(),
                                       legacy_uuid);
    out->send(wire_frames(legacy_uuid, cpp_uuid, "hello", hello_payload()));
    // The answer to its hello, and the C++ peer's own hello (answered).
    while (!(answer && greeting)) {
      auto msg = next();
      REQUIRE(msg.command == "hello");
      (msg.kind == message_kind::reply ? answer : greeting) = msg;
    }
  }

  /// The next message the Python peer receives, decoded as it would; it
  /// answers a `hello` request as a Python peer does, with host and port.
  message next(std::chrono::milliseconds limit = 10s) {
    auto frames = in.receive(limit);
    REQUIRE(frames);
    auto msg = p2p0mq::decode(*frames, legacy_uuid);
    REQUIRE(msg);
    if (msg->command == "hello" && msg->kind == message_kind::request)
      out->send(wire_frames(legacy_uuid, msg->source, "hello", hello_payload(),
                            "", message_kind::reply, msg->id));
    return *msg;
  }

  payload hello_payload() const {
    return payload_builder{}
        .add_string("host", "127.0.0.1")
        .add_integer("port", in.port)
        .build();
  }

  /// Every message the Python peer receives up to the reply to an echo
  /// request it sends now (one connection keeps order, and whatever the
  /// C++ peer sent before it answers the echo arrives before the answer).
  std::vector<message> drain(std::uint64_t id) {
    out->send(wire_frames(legacy_uuid, cpp_uuid, p2p0mq::echo_command,
                          payload_builder{}.add_integer("n", id).build(), "",
                          message_kind::request, id));
    std::vector<message> result;
    for (;;) {
      auto msg = next();
      if (msg.kind == message_kind::reply && msg.id == id &&
          msg.command == p2p0mq::echo_command)
        return result;
      result.push_back(std::move(msg));
    }
  }

  p2p0mq::testing::loopback net;
  std::unique_ptr<p2p0mq::local_peer> cpp;
  zmq_receiver in{*net.zmq_context};
  std::unique_ptr<zmq_client> out;
  std::optional<message> answer;
  std::optional<message> greeting;
};

} // namespace

TEST_CASE("a Python peer on the wire reads the C++ peer's hello, is listed "
          "as legacy, and gets no rejection for a command nobody serves",
          "[legacy][loopback]") {
  legacy_fixture fix;
  auto py = fix.cpp->wait_connected(legacy_uuid, 10s);
  INFO((py ? "" : p2p0mq::render(py.error())));
  REQUIRE(py);
  CHECK(py->legacy());
  CHECK(!py->relays());
  CHECK(py->port == fix.in.port);
  // The answer to its hello and the C++ peer's own hello carry host and
  // port; what else they carry a Python peer ignores.
  for (auto* msg : {&*fix.answer, &*fix.greeting}) {
    auto body = p2p0mq::parse_hello_payload(msg->payload);
    REQUIRE(body);
    CHECK(body->host == "127.0.0.1");
    CHECK(body->port == fix.cpp->port());
    CHECK(body->speaks.announced);
  }
  // A request for a command nobody serves is dropped, not rejected: the
  // Python peer did not announce that it reads rejections.
  fix.out->send(wire_frames(legacy_uuid, cpp_uuid, "nobody-serves-this",
                            payload{}, "", message_kind::request, 7));
  for (auto& msg : fix.drain(8)) {
    INFO(msg.command << " kind " << static_cast<int>(msg.kind) << " id "
                     << msg.id);
    CHECK((msg.command == "hello" || msg.command == "hb"));
    CHECK(msg.id != 7);
  }
}

TEST_CASE("a C++ peer takes no route through a Python peer and sends it "
          "nothing for another peer, failing the request at once",
          "[legacy][loopback]") {
  legacy_fixture fix;
  REQUIRE(fix.cpp->wait_connected(legacy_uuid, 10s));
  // A message that claims to come from a far peer through the Python peer
  // (which cannot forward: a forged or mistaken relay).
  fix.out->send(wire_frames(far_uuid, cpp_uuid, "hb", payload{}, legacy_uuid));
  auto seen = fix.drain(1);
  // The far peer may be known now, but never as reachable through the
  // Python peer.
  if (auto far = fix.cpp->find_peer(far_uuid))
    CHECK(far->via != legacy_uuid);
  auto reply =
      fix.cpp->request(far_uuid, p2p0mq::echo_command,
                       payload_builder{}.add_integer("n", 1).build(), 30s);
  REQUIRE(!reply);
  CHECK(reply.error() == errc::unknown_peer);
  auto after = fix.drain(2);
  seen.insert(seen.end(), after.begin(), after.end());
  for (auto& msg : seen) {
    INFO(msg.command << " to " << msg.to);
    CHECK(msg.to == legacy_uuid);
    CHECK((msg.command == "hello" || msg.command == "hb"));
  }
}
