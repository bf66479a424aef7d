#include "p2p0mq/actors/router.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <caf/send.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "support/concern_fixture.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::incoming_atom;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::priority;
using p2p0mq::router_actor;
using p2p0mq::router_stats;
using p2p0mq::testing::table_fixture;

namespace {

/// A fake sender (recording what the router hands it) and a router.
class router_fixture : public table_fixture {
public:
  /// With `tell_table`, the router tells the fixture's peer table of loops.
  explicit router_fixture(bool tell_table = false) {
    settings->message_ttl = 20s;
    router =
        p2p0mq::spawn_router(sys(), local, settings, sender,
                             tell_table ? peers : p2p0mq::peer_table_actor{});
    run();
  }

  ~router_fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    run();
  }

  /// A message from `source` for `to`, as the receiver decodes it, that came
  /// from `previous_hop`.
  message transit(const std::string& source, const std::string& to,
                  std::uint64_t id, const std::string& previous_hop = "") {
    message result;
    result.source = source;
    result.to = to;
    result.previous_hop = previous_hop.empty() ? source : previous_hop;
    result.command = "echo";
    result.id = id;
    result.payload = p2p0mq::payload_builder{}.add_integer("n", 7).build();
    return result;
  }

  void forward(std::vector<message> xs) {
    caf::anon_send(router, incoming_atom::value, std::move(xs));
    run();
  }

  router_stats stats() {
    auto result = p2p0mq::testing::ask<router_stats>(*this, router,
                                                     p2p0mq::stats_atom::value);
    REQUIRE(result);
    return *result;
  }

  router_actor router;
};

/// Collects warnings of the router category while it lives.
struct router_warnings {
  router_warnings() {
    p2p0mq::set_log_sink([this](p2p0mq::log_level level,
                                p2p0mq::log_category cat,
                                std::string_view line) {
      if (level == p2p0mq::log_level::warning &&
          cat == p2p0mq::log_category::router)
        lines.emplace_back(line);
    });
  }

  ~router_warnings() {
    p2p0mq::set_log_sink({});
  }

  std::vector<std::string> lines;
};

} // namespace

TEST_CASE("the router hands each message of a batch to the sender, leaving "
          "the next hop to its routing rules",
          "[router]") {
  router_fixture fix;
  auto t0 = fix.now();
  fix.forward({fix.transit("peer-0001", "peer-0002", 1),
               fix.transit("peer-0003", "peer-0002", 2, "peer-0001")});
  auto& out = fix.wire.outgoing;
  REQUIRE(out.size() == 2);
  for (auto& call : out) {
    CHECK(call.msg.next_hop.empty());
    CHECK(call.msg.deadline == t0 + 20s);
    CHECK(call.prio == priority::fast);
    CHECK(call.owner == fix.router);
    CHECK(call.msg.to == "peer-0002");
  }
  CHECK(out[0].msg.source == "peer-0001");
  CHECK(out[0].msg.previous_hop == "peer-0001");
  CHECK(out[1].msg.source == "peer-0003");
  CHECK(out[1].msg.previous_hop == "peer-0001");
  CHECK(out[1].msg.id == 2);
  auto st = fix.stats();
  CHECK(st.received == 2);
  CHECK(st.sent == 0);
  CHECK(st.dropped == 0);
}

TEST_CASE("the router counts the outcomes of what it forwards, logs its "
          "drops, and asks for retries",
          "[router]") {
  router_warnings warnings;
  router_fixture fix;
  fix.forward({fix.transit("peer-0001", "peer-0002", 1),
               fix.transit("peer-0001", "peer-0002", 2)});
  auto& out = fix.wire.outgoing;
  REQUIRE(out.size() == 2);
  caf::anon_send(fix.router, p2p0mq::sent_atom::value,
                 std::vector<message>{out[0].msg});
  caf::anon_send(fix.router, p2p0mq::dropped_atom::value, out[1].msg,
                 p2p0mq::make_error(errc::message_expired, "no route"));
  fix.run();
  auto again = p2p0mq::testing::ask<bool>(
      fix, fix.router, p2p0mq::send_failed_atom::value, out[0].msg,
      p2p0mq::make_error(errc::peer_unreachable));
  REQUIRE(again);
  CHECK(*again);
  auto st = fix.stats();
  CHECK(st.received == 2);
  CHECK(st.sent == 1);
  CHECK(st.dropped == 1);
  CHECK(st.looped == 0);
  REQUIRE(warnings.lines.size() == 1);
  CHECK(warnings.lines[0].find("message_expired") != std::string::npos);
}

TEST_CASE("the router drops a message that came back round a loop within a "
          "second, and forwards its twin later",
          "[router]") {
  router_warnings warnings;
  router_fixture fix;
  auto msg = fix.transit("peer-0001", "peer-0002", 1);
  fix.forward({msg});
  fix.advance_time(999ms);
  // The same message again, through another relay: a loop.
  auto looped = msg;
  looped.previous_hop = "peer-0003";
  fix.forward({looped});
  CHECK(fix.wire.outgoing.size() == 1);
  // Another message (other id, or other payload) goes on.
  auto other = msg;
  other.id = 2;
  auto other_body = msg;
  other_body.payload = p2p0mq::payload{};
  fix.forward({other, other_body});
  CHECK(fix.wire.outgoing.size() == 3);
  // A second after it was first seen, the same message is forwarded again
  // (a peer that restarted and numbers its messages afresh).
  fix.advance_time(1ms);
  fix.forward({msg});
  CHECK(fix.wire.outgoing.size() == 4);
  auto st = fix.stats();
  CHECK(st.received == 5);
  CHECK(st.dropped == 1);
  CHECK(st.looped == 1);
  REQUIRE(warnings.lines.size() == 1);
  CHECK(warnings.lines[0].find("loop") != std::string::npos);
}

TEST_CASE("a message that came round a loop costs its destination the route "
          "that loops",
          "[router]") {
  router_fixture fix{true};
  // peer-0002 is reached through peer-0004, which sends it back to us.
  REQUIRE(p2p0mq::testing::ask<p2p0mq::peer>(
      fix, fix.peers, p2p0mq::via_atom::value, std::string{"peer-0002"},
      std::string{"peer-0004"}));
  auto msg = fix.transit("peer-0001", "peer-0002", 1);
  fix.forward({msg});
  auto looped = msg;
  looped.previous_hop = "peer-0004";
  fix.forward({looped});
  auto p = fix.get("peer-0002");
  CHECK(p.state == p2p0mq::peer_state::no_connection);
  CHECK(p.via.empty());
  // A CONNECTED destination keeps its direct route.
  fix.add("peer-0003");
  REQUIRE(fix.heard(fix.incoming("peer-0003", "hb")));
  auto direct = fix.transit("peer-0001", "peer-0003", 2);
  fix.forward({direct});
  direct.previous_hop = "peer-0004";
  fix.forward({direct});
  CHECK(fix.get("peer-0003").state == p2p0mq::peer_state::connected);
  CHECK(fix.stats().looped == 2);
}

TEST_CASE("the router drops our own message coming back, and one for us",
          "[router]") {
  router_fixture fix;
  fix.forward({fix.transit(table_fixture::local, "peer-0002", 1, "peer-0001"),
               fix.transit("peer-0001", table_fixture::local, 2)});
  CHECK(fix.wire.outgoing.empty());
  auto st = fix.stats();
  CHECK(st.received == 2);
  CHECK(st.dropped == 2);
  CHECK(st.looped == 1);
}

TEST_CASE("the router forwards a burst of distinct messages from one source "
          "without mistaking any for a loop",
          "[router]") {
  router_fixture fix;
  std::vector<message> batch;
  for (std::uint64_t id = 1; id <= 100000; ++id)
    batch.push_back(fix.transit("peer-0001", "peer-0002", id));
  fix.forward(std::move(batch));
  CHECK(fix.wire.outgoing.size() == 100000);
  CHECK(fix.stats().looped == 0);
}

TEST_CASE("the router logs the first drop from a previous hop in full and "
          "summarises the rest once per interval, by reason",
          "[router]") {
  router_warnings warnings;
  router_fixture fix;
  // 1000 messages from made-up sources, all through one relay.
  std::vector<message> batch;
  for (std::uint64_t id = 1; id <= 1000; ++id)
    batch.push_back(fix.transit("ghost-" + std::to_string(id), "peer-0002", id,
                                "relay-0001"));
  fix.forward(std::move(batch));
  auto out = fix.wire.outgoing;
  REQUIRE(out.size() == 1000);
  for (std::size_t i = 0; i < out.size(); ++i)
    caf::anon_send(fix.router, p2p0mq::dropped_atom::value, out[i].msg,
                   p2p0mq::make_error(i % 4 == 0 ? errc::send_queue_full
                                                 : errc::message_expired));
  fix.run();
  REQUIRE(warnings.lines.size() == 1);
  CHECK(warnings.lines[0].find("from \"ghost-1\" via \"relay-0001\"") !=
        std::string::npos);
  fix.advance_time(10s);
  REQUIRE(warnings.lines.size() == 2);
  CHECK(warnings.lines[1] ==
        "dropped 999 messages on their way to other peers from "
        "\"relay-0001\" in the last 10 s: 750 expired, 249 send queue full");
  CHECK(fix.stats().dropped == 1000);
}
