// Testing a concern with p2p0mq::testing: two simulated local peers run the
// real actors on an in-memory wire, in virtual time, so the test is fast and
// gives the same result every run.
//
// Build it against the installed package:
//   find_package(p2p0mq REQUIRED)
//   find_package(Catch2 2 REQUIRED)
//   add_executable(greeter-tests greeter_test.cpp)
//   target_link_libraries(greeter-tests PRIVATE p2p0mq::testing Catch2::Catch2)
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <p2p0mq/actors/concern_base.hpp>
#include <p2p0mq/errc.hpp>
#include <p2p0mq/field.hpp>
#include <p2p0mq/testing/sim_network.hpp>

using namespace std::chrono_literals;
using namespace p2p0mq;
using p2p0mq::testing::sim_link;
using p2p0mq::testing::sim_network;

/// The concern under test: `{"name": str}` in, `{"text": "hello, <name>"}`
/// out; a request without a name is rejected.
concern_factory greeter() {
  return make_concern([](concern_base&, const message& req) -> answer {
    auto name = field<std::string>(req.payload, "name");
    if (!name)
      return name.error();
    return payload_builder{}.add_string("text", "hello, " + *name).build();
  });
}

payload named(const std::string& name) {
  return payload_builder{}.add_string("name", name).build();
}

TEST_CASE("the greeter answers over a simulated network") {
  sim_network net;
  net.add("alice-01");
  net.add("bob-0002");
  net.add_concern("bob-0002", "greet", greeter());
  // Alice knows Bob's address; they greet each other and connect.
  net.tell("alice-01", "bob-0002");
  REQUIRE(net.run_until(
      [&] {
        return net.connected({"alice-01", "bob-0002"});
      },
      5s));

  SECTION("a request gets its answer") {
    auto reply = net.request("alice-01", "bob-0002", "greet", named("Alice"));
    REQUIRE(reply);
    CHECK(field<std::string>(reply->payload, "text") == "hello, Alice");
  }

  SECTION("a request without a name is rejected") {
    auto reply = net.request("alice-01", "bob-0002", "greet", payload{});
    REQUIRE_FALSE(reply);
    CHECK(is(reply.error(), errc::rejected));
  }

  SECTION("the answer takes the link's latency both ways") {
    net.set_link("alice-01", "bob-0002", sim_link{250ms});
    auto t0 = net.now();
    auto reply = net.request("alice-01", "bob-0002", "greet", named("Al"));
    REQUIRE(reply);
    CHECK(net.now() - t0 >= 500ms);
  }

  SECTION("behind a cut link the caller times out, and Bob's peer becomes "
          "unreachable for Alice") {
    net.cut("alice-01", "bob-0002");
    auto reply =
        net.request("alice-01", "bob-0002", "greet", named("Alice"), 3s);
    REQUIRE_FALSE(reply);
    CHECK(is(reply.error(), errc::request_timeout));
    CHECK(net.run_until(
        [&] {
          return net.sees("alice-01", "bob-0002", peer_state::unreachable);
        },
        60s, 1s));
  }
}
