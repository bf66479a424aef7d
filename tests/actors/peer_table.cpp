#include "p2p0mq/actors/peer_table.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/peer_store.hpp"
#include "support/concern_fixture.hpp"
#include "support/log_capture.hpp"
#include "support/settings.hpp"
#include "support/sqlite.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::message_kind;
using p2p0mq::peer;
using p2p0mq::peer_state;
using p2p0mq::testing::table_fixture;

namespace {

using strings = std::vector<std::string>;

const std::string relay = "relay-0001";

/// Brings the new peer `uuid` to `state` by the table's own rules.
void bring_to(table_fixture& fix, const std::string& uuid, peer_state state) {
  fix.add(uuid);
  switch (state) {
  case peer_state::initial:
    break;
  case peer_state::connecting:
    REQUIRE(fix.set_state(uuid, state));
    break;
  case peer_state::connected:
    REQUIRE(fix.heard(fix.incoming(uuid, "hb")));
    break;
  case peer_state::routed:
    REQUIRE(fix.heard(
        fix.incoming(uuid, "hb", message_kind::request, 1, {}, relay)));
    break;
  case peer_state::unreachable:
    REQUIRE(fix.heard(fix.incoming(uuid, "hb")));
    REQUIRE(fix.set_state(uuid, state));
    break;
  case peer_state::no_connection:
    REQUIRE(fix.set_state(uuid, state));
    break;
  }
  REQUIRE(fix.get(uuid).state == state);
  fix.wire.clear();
}

} // namespace

// -- records ------------------------------------------------------------------

TEST_CASE("the peer table adds a new peer as INITIAL with its address",
          "[peer_table]") {
  table_fixture fix;
  auto p = fix.add("peer-0001", "10.0.0.7", 5007);
  CHECK(p.uuid == "peer-0001");
  CHECK(p.host == "10.0.0.7");
  CHECK(p.port == 5007);
  CHECK(p.state == peer_state::initial);
  CHECK(p.state_since == fix.now());
  CHECK(p.via.empty());
  auto q = fix.get("peer-0001");
  CHECK(q.host == "10.0.0.7");
  CHECK(q.port == 5007);
  CHECK(q.state == peer_state::initial);
  CHECK(fix.wire.empty());
}

TEST_CASE("the peer table lists every peer sorted by uuid", "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0003");
  fix.add("peer-0001");
  fix.add("peer-0002");
  auto all = p2p0mq::testing::ask<std::vector<peer>>(fix, fix.peers,
                                                     p2p0mq::get_atom::value);
  REQUIRE(all);
  strings uuids;
  for (auto& p : *all)
    uuids.push_back(p.uuid);
  CHECK(uuids == strings{"peer-0001", "peer-0002", "peer-0003"});
}

TEST_CASE("adding a known peer updates its address and keeps its state",
          "[peer_table]") {
  table_fixture fix;
  bring_to(fix, "peer-0001", peer_state::connected);
  auto before = fix.get("peer-0001");
  fix.advance_time(5s);
  auto p = fix.add("peer-0001", "10.9.9.9", 6001);
  CHECK(p.host == "10.9.9.9");
  CHECK(p.port == 6001);
  CHECK(p.state == peer_state::connected);
  CHECK(p.state_since == before.state_since);
  CHECK(p.last_heard == before.last_heard);
  CHECK(fix.get("peer-0001").host == "10.9.9.9");
  CHECK(fix.wire.empty());
}

TEST_CASE("the peer table rejects a uuid shorter than four bytes",
          "[peer_table]") {
  table_fixture fix;
  auto three = p2p0mq::testing::ask<peer>(
      fix, fix.peers, p2p0mq::add_atom::value, std::string{"abc"},
      std::string{"10.0.0.1"}, std::uint16_t{5000});
  REQUIRE(!three);
  CHECK(three.error() == errc::invalid_peer);
  CHECK(fix.lookup("abc").error() == errc::unknown_peer);
  auto empty = p2p0mq::testing::ask<peer>(
      fix, fix.peers, p2p0mq::add_atom::value, std::string{},
      std::string{"10.0.0.1"}, std::uint16_t{5000});
  REQUIRE(!empty);
  CHECK(empty.error() == errc::invalid_peer);
  // Four bytes is enough.
  CHECK(fix.add("abcd").uuid == "abcd");
}

TEST_CASE("the peer table rejects the local peer's own uuid", "[peer_table]") {
  table_fixture fix;
  auto own =
      p2p0mq::testing::ask<peer>(fix, fix.peers, p2p0mq::add_atom::value,
                                 std::string{table_fixture::local},
                                 std::string{"10.0.0.1"}, std::uint16_t{5000});
  REQUIRE(!own);
  CHECK(own.error() == errc::invalid_peer);
  CHECK(fix.lookup(table_fixture::local).error() == errc::unknown_peer);
  CHECK(fix.wire.empty());
}

TEST_CASE("removing a peer says whether it was there", "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  auto remove = [&] {
    auto result = p2p0mq::testing::ask<bool>(
        fix, fix.peers, p2p0mq::remove_atom::value, std::string{"peer-0001"});
    REQUIRE(result);
    return *result;
  };
  CHECK(remove());
  CHECK(fix.lookup("peer-0001").error() == errc::unknown_peer);
  CHECK(!remove());
}

TEST_CASE("an unknown peer is answered with unknown_peer", "[peer_table]") {
  table_fixture fix;
  CHECK(fix.lookup("peer-0009").error() == errc::unknown_peer);
  CHECK(fix.heard(fix.incoming("peer-0009", "hb")).error() ==
        errc::unknown_peer);
  CHECK(fix.set_state("peer-0009", peer_state::connecting).error() ==
        errc::unknown_peer);
  CHECK(fix.lookup("peer-0009").error() == errc::unknown_peer);
  CHECK(fix.wire.empty());
}

// -- heard --------------------------------------------------------------------

TEST_CASE("a message straight from a peer makes it CONNECTED", "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  auto p = fix.heard(fix.incoming("peer-0001", "hb"));
  REQUIRE(p);
  CHECK(p->state == peer_state::connected);
  CHECK(p->via.empty());
  CHECK(p->last_heard == fix.now());
  CHECK(p->next_heart_beat == fix.now() + 4s);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::connected);
  CHECK(fix.wire.routes[0].via.empty());
}

TEST_CASE("a relayed message makes a peer ROUTED via the relay, a direct one "
          "makes it CONNECTED again",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  auto relayed = [&](const std::string& via) {
    return fix.incoming("peer-0001", "hb", message_kind::request, 1, {}, via);
  };
  auto p = fix.heard(relayed(relay));
  REQUIRE(p);
  CHECK(p->state == peer_state::routed);
  CHECK(p->via == relay);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::routed);
  CHECK(fix.wire.routes[0].via == relay);
  // The same route again changes nothing the sender needs to know.
  REQUIRE(fix.heard(relayed(relay)));
  CHECK(fix.wire.routes.size() == 1);
  // Another relay is a change of route.
  p = fix.heard(relayed("relay-0002"));
  REQUIRE(p);
  CHECK(p->via == "relay-0002");
  REQUIRE(fix.wire.routes.size() == 2);
  CHECK(fix.wire.routes[1].state == peer_state::routed);
  CHECK(fix.wire.routes[1].via == "relay-0002");
  // Straight from the peer: CONNECTED, via cleared.
  p = fix.heard(fix.incoming("peer-0001", "hb"));
  REQUIRE(p);
  CHECK(p->state == peer_state::connected);
  CHECK(p->via.empty());
  REQUIRE(fix.wire.routes.size() == 3);
  CHECK(fix.wire.routes[2].state == peer_state::connected);
  CHECK(fix.wire.routes[2].via.empty());
}

// -- state --------------------------------------------------------------------

TEST_CASE("CONNECTING applies only to a peer that needs a reconnect",
          "[peer_table]") {
  auto from = GENERATE(peer_state::initial, peer_state::no_connection,
                       peer_state::unreachable, peer_state::connecting,
                       peer_state::connected, peer_state::routed);
  CAPTURE(from);
  table_fixture fix;
  bring_to(fix, "peer-0001", from);
  auto p = fix.set_state("peer-0001", peer_state::connecting);
  REQUIRE(p);
  auto applies = from == peer_state::initial ||
                 from == peer_state::no_connection ||
                 from == peer_state::unreachable;
  if (applies) {
    CHECK(p->state == peer_state::connecting);
    CHECK(p->state_since == fix.now());
    REQUIRE(fix.wire.routes.size() == 1);
    CHECK(fix.wire.routes[0].state == peer_state::connecting);
  } else {
    CHECK(p->state == from);
    CHECK(fix.wire.routes.empty());
  }
  CHECK(fix.get("peer-0001").state == p->state);
}

TEST_CASE("NO_CONNECTION applies to a peer neither CONNECTED nor ROUTED",
          "[peer_table]") {
  auto from = GENERATE(peer_state::initial, peer_state::connecting,
                       peer_state::unreachable, peer_state::no_connection,
                       peer_state::connected, peer_state::routed);
  CAPTURE(from);
  table_fixture fix;
  bring_to(fix, "peer-0001", from);
  fix.advance_time(1s);
  auto p = fix.set_state("peer-0001", peer_state::no_connection);
  REQUIRE(p);
  if (from == peer_state::connected || from == peer_state::routed) {
    CHECK(p->state == from);
    CHECK(fix.wire.routes.empty());
    return;
  }
  CHECK(p->state == peer_state::no_connection);
  CHECK(p->via.empty());
  CHECK(p->next_connect > fix.now());
  if (from == peer_state::no_connection) {
    // Still NO_CONNECTION: nothing changed for the sender.
    CHECK(fix.wire.routes.empty());
  } else {
    REQUIRE(fix.wire.routes.size() == 1);
    CHECK(fix.wire.routes[0].state == peer_state::no_connection);
    CHECK(fix.wire.routes[0].via.empty());
  }
}

TEST_CASE("any other state applies as asked", "[peer_table]") {
  table_fixture fix;
  bring_to(fix, "peer-0001", peer_state::connected);
  auto p = fix.set_state("peer-0001", peer_state::unreachable);
  REQUIRE(p);
  CHECK(p->state == peer_state::unreachable);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::unreachable);
}

TEST_CASE("NO_CONNECTION schedules the next attempt after the reconnect wait, "
          "growing by the slow-down step up to its maximum",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  std::vector<p2p0mq::duration> waits;
  for (int i = 0; i < 7; ++i) {
    auto p = fix.set_state("peer-0001", peer_state::no_connection);
    REQUIRE(p);
    waits.push_back(p->next_connect - fix.now());
    fix.advance_time(1s);
  }
  using s = std::chrono::seconds;
  CHECK(waits == std::vector<p2p0mq::duration>{s{120}, s{122}, s{124}, s{126},
                                               s{128}, s{130}, s{130}});
}

TEST_CASE("every change of state or route is told to the sender, and nothing "
          "else is",
          "[peer_table]") {
  table_fixture fix;
  using route = std::tuple<std::string, peer_state, std::string>;
  std::vector<route> told;
  auto routes = [&] {
    std::vector<route> result;
    for (auto& x : fix.wire.routes)
      result.emplace_back(x.uuid, x.state, x.via);
    return result;
  };
  fix.add("peer-0001");
  fix.add("peer-0001", "10.0.0.2", 5002);
  CHECK(routes() == told);
  REQUIRE(fix.set_state("peer-0001", peer_state::connecting));
  told.emplace_back("peer-0001", peer_state::connecting, "");
  CHECK(routes() == told);
  REQUIRE(fix.set_state("peer-0001", peer_state::connecting));
  CHECK(routes() == told);
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hello", message_kind::reply)));
  told.emplace_back("peer-0001", peer_state::connected, "");
  CHECK(routes() == told);
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  REQUIRE(fix.set_state("peer-0001", peer_state::connecting));
  REQUIRE(fix.set_state("peer-0001", peer_state::no_connection));
  CHECK(routes() == told);
  // A relayed message counts once nothing came straight for a heart-beat
  // interval.
  fix.advance_time(fix.settings->heart_beat_interval + 1s);
  REQUIRE(fix.heard(
      fix.incoming("peer-0001", "hb", message_kind::request, 2, {}, relay)));
  told.emplace_back("peer-0001", peer_state::routed, relay);
  CHECK(routes() == told);
  REQUIRE(fix.set_state("peer-0001", peer_state::unreachable));
  told.emplace_back("peer-0001", peer_state::unreachable, relay);
  CHECK(routes() == told);
  REQUIRE(fix.set_state("peer-0001", peer_state::no_connection));
  told.emplace_back("peer-0001", peer_state::no_connection, "");
  CHECK(routes() == told);
  CHECK(fix.wire.connects.empty());
  CHECK(fix.wire.outgoing.empty());
}

// -- heart-beat rules ---------------------------------------------------------

TEST_CASE("the heart-beat rules return the peers due and schedule their next "
          "beat",
          "[peer_table]") {
  table_fixture fix;
  bring_to(fix, "peer-0002", peer_state::connected);
  bring_to(fix, "peer-0001", peer_state::routed);
  bring_to(fix, "peer-0003", peer_state::initial);
  bring_to(fix, "peer-0004", peer_state::connecting);
  bring_to(fix, "peer-0005", peer_state::no_connection);
  auto t0 = fix.now();
  fix.advance_time(4s - 1ns);
  CHECK(fix.heart_beat().empty());
  fix.advance_time(1ns);
  CHECK(fix.heart_beat() == strings{"peer-0001", "peer-0002"});
  // Rescheduled: not due again at once.
  CHECK(fix.heart_beat().empty());
  CHECK(fix.get("peer-0002").next_heart_beat == t0 + 4s + 4s);
  fix.advance_time(4s);
  CHECK(fix.heart_beat() == strings{"peer-0001", "peer-0002"});
  // The unanswered beat slows the next one down by a step.
  CHECK(fix.get("peer-0002").next_heart_beat == t0 + 8s + 6s);
  CHECK(fix.get("peer-0001").state == peer_state::routed);
  CHECK(fix.get("peer-0002").state == peer_state::connected);
  CHECK(fix.wire.empty());
}

TEST_CASE("a peer becomes UNREACHABLE strictly after 40 s of silence",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  fix.add("peer-0002");
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  fix.advance_time(1ns);
  REQUIRE(fix.heard(fix.incoming("peer-0002", "hb")));
  fix.wire.clear();
  // peer-0001 has been silent for 40 s and 1 ns, peer-0002 for exactly 40 s.
  fix.advance_time(40s);
  CHECK(fix.heart_beat() == strings{"peer-0001", "peer-0002"});
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  CHECK(fix.get("peer-0002").state == peer_state::connected);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::unreachable);
  // An UNREACHABLE peer still gets its beats; nothing more is told.
  fix.advance_time(60s);
  CHECK(fix.heart_beat() == strings{"peer-0001", "peer-0002"});
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  CHECK(fix.get("peer-0002").state == peer_state::unreachable);
  REQUIRE(fix.wire.routes.size() == 2);
  CHECK(fix.wire.routes[1].uuid == "peer-0002");
  // Hearing from it makes it CONNECTED again.
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb", message_kind::reply)));
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  REQUIRE(fix.wire.routes.size() == 3);
  CHECK(fix.wire.routes[2].state == peer_state::connected);
}

TEST_CASE("a peer becomes NO_CONNECTION strictly after 240 s of silence and "
          "gets no more beats",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001");
  fix.add("peer-0002");
  auto routed_at = fix.now();
  REQUIRE(fix.heard(
      fix.incoming("peer-0001", "hb", message_kind::request, 1, {}, relay)));
  fix.advance_time(1ns);
  REQUIRE(fix.heard(fix.incoming("peer-0002", "hb")));
  fix.wire.clear();
  fix.advance_time(240s);
  // peer-0001: 240 s and 1 ns; peer-0002: exactly 240 s, only UNREACHABLE.
  CHECK(fix.heart_beat() == strings{"peer-0002"});
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.via.empty());
  // Its straight greeting, due since 120 s after it became ROUTED, is not
  // put off by giving up on the relay.
  CHECK(p.next_connect == routed_at + 120s);
  CHECK(fix.get("peer-0002").state == peer_state::unreachable);
  REQUIRE(fix.wire.routes.size() == 2);
  for (auto& x : fix.wire.routes) {
    if (x.uuid == "peer-0001") {
      CHECK(x.state == peer_state::no_connection);
      CHECK(x.via.empty());
    } else {
      CHECK(x.state == peer_state::unreachable);
    }
  }
  // peer-0002 is due again 4 s later, and given up too by then.
  fix.advance_time(4s);
  CHECK(fix.heart_beat().empty());
  CHECK(fix.get("peer-0002").state == peer_state::no_connection);
  for (int i = 0; i < 5; ++i) {
    fix.advance_time(14s);
    CHECK(fix.heart_beat().empty());
  }
}

// -- connector rules ----------------------------------------------------------

TEST_CASE("an INITIAL peer with a host is greeted once, and again only "
          "after two time-to-lives without news",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001", "10.0.0.1", 5001);
  fix.add("peer-0002", "", 0);
  CHECK(fix.greet() == strings{"peer-0001"});
  CHECK(fix.greet().empty());
  fix.advance_time(60s);
  CHECK(fix.greet().empty());
  fix.advance_time(1ns);
  CHECK(fix.greet() == strings{"peer-0001"});
  CHECK(fix.greet().empty());
  CHECK(fix.get("peer-0001").state == peer_state::initial);
  // Each greeting has the sender connect first; nothing else is told.
  REQUIRE(fix.wire.connects.size() == 2);
  for (auto& x : fix.wire.connects) {
    CHECK(x.uuid == "peer-0001");
    CHECK(x.endpoint == "tcp://10.0.0.1:5001");
  }
  CHECK(fix.wire.outgoing.empty());
  CHECK(fix.wire.routes.empty());
}

TEST_CASE("a NO_CONNECTION peer is greeted again after 120 s, then after a "
          "growing wait",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001", "10.0.0.1", 5001);
  fix.add("peer-0002", "", 0);
  REQUIRE(fix.set_state("peer-0002", peer_state::no_connection));
  for (auto wait : {120s, 122s, 124s, 126s, 128s, 130s, 130s}) {
    CAPTURE(wait.count());
    // The hello was dropped: the peer is given up for a while.
    REQUIRE(fix.set_state("peer-0001", peer_state::no_connection));
    fix.advance_time(wait - 1ns);
    CHECK(fix.greet().empty());
    fix.advance_time(1ns);
    CHECK(fix.greet() == strings{"peer-0001"});
  }
}

TEST_CASE("a peer given up is greeted at once when the user adds it again or "
          "its certificate appears",
          "[peer_table]") {
  table_fixture fix;
  fix.add("peer-0001", "10.0.0.1", 5001);
  fix.add("peer-0002", "10.0.0.2", 5002);
  CHECK(fix.greet() == strings{"peer-0001", "peer-0002"});
  // Both hellos failed (e.g. a missing certificate): given up for 120 s.
  REQUIRE(fix.set_state("peer-0001", peer_state::no_connection));
  REQUIRE(fix.set_state("peer-0002", peer_state::no_connection));
  fix.advance_time(10s);
  CHECK(fix.greet().empty());
  // The user adds it again: greeted now.
  fix.add("peer-0001", "10.0.0.1", 5001);
  CHECK(fix.greet() == strings{"peer-0001"});
  // Its certificate appears: greeted now; a connected peer's does nothing.
  caf::anon_send(fix.peers, p2p0mq::trusted_atom::value,
                 std::string{"peer-0002"});
  caf::anon_send(fix.peers, p2p0mq::trusted_atom::value,
                 std::string{"peer-0009"});
  CHECK(fix.greet() == strings{"peer-0002"});
  CHECK(fix.get("peer-0002").state == peer_state::no_connection);
}

TEST_CASE("a CONNECTING peer is given up strictly after 40 s without an answer",
          "[peer_table]") {
  table_fixture fix;
  bring_to(fix, "peer-0001", peer_state::connecting);
  fix.advance_time(40s);
  CHECK(fix.greet().empty());
  CHECK(fix.get("peer-0001").state == peer_state::connecting);
  CHECK(fix.wire.empty());
  fix.advance_time(1ns);
  CHECK(fix.greet().empty());
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.next_connect == fix.now() + 120s);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::no_connection);
}

// -- peer store ---------------------------------------------------------------

namespace {

/// A database for the peer table of `table_fixture`, and a way to look at it.
struct store_file {
  p2p0mq::testing::temp_dir dir;
  std::string path = dir / "peers.db";

  /// Opens the store as `local_peer::start` would.
  std::unique_ptr<p2p0mq::peer_store> open() {
    auto store = p2p0mq::peer_store::open(path, table_fixture::local,
                                          std::chrono::seconds{5});
    INFO((store ? "" : p2p0mq::render(store.error())));
    REQUIRE(store);
    return std::make_unique<p2p0mq::peer_store>(std::move(*store));
  }

  /// The rows as "uuid host:port", sorted by uuid.
  strings rows() {
    p2p0mq::testing::sql_connection db{path};
    strings result;
    for (auto& r : db.query("SELECT uuid, host, port FROM p2p0mq_peers "
                            "ORDER BY uuid"))
      result.push_back(r[0].bytes + " " + r[1].bytes + ":" +
                       std::to_string(r[2].integer));
    return result;
  }

  void exec(const std::string& sql) {
    p2p0mq::testing::sql_connection{path}.exec(sql);
  }
};

} // namespace

TEST_CASE("the peer table loads the stored peers as INITIAL peers before its "
          "first message",
          "[peer_table][peer_store]") {
  store_file file;
  {
    auto store = file.open();
    auto synced = store->sync({{"peer-0001", "10.0.0.1", 5001, {}},
                               {"peer-0002", "10.0.0.2", 5002, {}}});
    REQUIRE(synced);
  }
  table_fixture fix{nullptr, file.open()};
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::initial);
  CHECK(p.host == "10.0.0.1");
  CHECK(p.port == 5001);
  CHECK(p.db_id == 1);
  CHECK(p.state_since == fix.now());
  CHECK(fix.get("peer-0002").port == 5002);
  // The connector contacts them.
  CHECK(fix.greet() == strings{"peer-0001", "peer-0002"});
  REQUIRE(fix.wire.connects.size() == 2);
  CHECK(fix.wire.connects[0].endpoint == "tcp://10.0.0.1:5001");
  CHECK(fix.wire.connects[1].endpoint == "tcp://10.0.0.2:5002");
  CHECK(fix.wire.outgoing.empty());
  CHECK(fix.wire.routes.empty());
}

TEST_CASE("a row another connection inserts becomes an INITIAL peer within "
          "one sync interval",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{nullptr, file.open()};
  // As a user types it into the sqlite3 tool while the peer runs.
  file.exec("INSERT INTO p2p0mq_peers(uuid, host, port) "
            "VALUES('typed-0001', '10.0.0.7', 5007)");
  fix.advance(9s);
  CHECK(fix.lookup("typed-0001").error() == errc::unknown_peer);
  fix.advance(1s);
  auto p = fix.get("typed-0001");
  CHECK(p.state == peer_state::initial);
  CHECK(p.host == "10.0.0.7");
  CHECK(p.port == 5007);
  CHECK(p.state_since == fix.now());
  CHECK(fix.greet() == strings{"typed-0001"});
}

TEST_CASE("the sync interval is the configured one",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.store_sync_interval = 3s; },
                    file.open()};
  file.exec("INSERT INTO p2p0mq_peers(uuid) VALUES('typed-0001')");
  fix.advance(2s);
  CHECK(fix.lookup("typed-0001").error() == errc::unknown_peer);
  fix.advance(1s);
  CHECK(fix.lookup("typed-0001"));
  file.exec("INSERT INTO p2p0mq_peers(uuid) VALUES('typed-0002')");
  fix.advance(3s);
  CHECK(fix.lookup("typed-0002"));
}

TEST_CASE("peers and address changes of the table reach the store at the "
          "next sync",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{nullptr, file.open()};
  fix.add("peer-0001", "10.0.0.1", 5001);
  fix.add("peer-0002", "10.0.0.2", 5002);
  CHECK(file.rows().empty());
  CHECK(!fix.get("peer-0001").db_id);
  fix.advance(10s);
  CHECK(file.rows() ==
        strings{"peer-0001 10.0.0.1:5001", "peer-0002 10.0.0.2:5002"});
  CHECK(fix.get("peer-0001").db_id);
  fix.add("peer-0001", "10.9.9.9", 6001);
  fix.advance(10s);
  CHECK(file.rows() ==
        strings{"peer-0001 10.9.9.9:6001", "peer-0002 10.0.0.2:5002"});
}

TEST_CASE("an address changed in the store moves the peer at the next sync",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{nullptr, file.open()};
  bring_to(fix, "peer-0001", peer_state::connected);
  fix.advance(10s);
  file.exec("UPDATE p2p0mq_peers SET host = '10.7.7.7', port = 7001");
  fix.advance(10s);
  auto p = fix.get("peer-0001");
  CHECK(p.host == "10.7.7.7");
  CHECK(p.port == 7001);
  CHECK(p.state == peer_state::connected);
}

TEST_CASE("a peer removed from the table loses its row at the next sync",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{nullptr, file.open()};
  fix.add("peer-0001", "10.0.0.1", 5001);
  fix.add("peer-0002", "10.0.0.2", 5002);
  fix.advance(10s);
  REQUIRE(file.rows().size() == 2);
  REQUIRE(p2p0mq::testing::ask<bool>(fix, fix.peers, p2p0mq::remove_atom::value,
                                     std::string{"peer-0001"}));
  fix.advance(10s);
  CHECK(file.rows() == strings{"peer-0002 10.0.0.2:5002"});
  CHECK(fix.lookup("peer-0001").error() == errc::unknown_peer);
}

TEST_CASE("the peer table syncs a last time when it exits",
          "[peer_table][peer_store]") {
  store_file file;
  {
    table_fixture fix{nullptr, file.open()};
    fix.add("peer-0001", "10.0.0.1", 5001);
    fix.advance(1s);
    CHECK(file.rows().empty());
  }
  CHECK(file.rows() == strings{"peer-0001 10.0.0.1:5001"});
}

TEST_CASE("a sync that finds the store locked is tried again at the next "
          "interval",
          "[peer_table][peer_store]") {
  store_file file;
  table_fixture fix{nullptr, file.open()};
  fix.add("peer-0001", "10.0.0.1", 5001);
  {
    p2p0mq::testing::sql_connection other{file.path};
    other.exec("BEGIN IMMEDIATE");
    fix.advance(10s);
    other.exec("COMMIT");
  }
  CHECK(file.rows().empty());
  CHECK(!fix.get("peer-0001").db_id);
  fix.advance(10s);
  CHECK(file.rows() == strings{"peer-0001 10.0.0.1:5001"});
  CHECK(fix.get("peer-0001").db_id);
}

// -- route hints --------------------------------------------------------------

namespace {

caf::expected<peer> hint(table_fixture& fix, const std::string& uuid,
                         const std::string& via) {
  return p2p0mq::testing::ask<peer>(fix, fix.peers, p2p0mq::via_atom::value,
                                    uuid, via);
}

} // namespace

TEST_CASE("a route hint creates an unknown peer ROUTED through the relay, "
          "without an address",
          "[peer_table]") {
  table_fixture fix;
  auto t0 = fix.now();
  auto p = hint(fix, "peer-0001", relay);
  REQUIRE(p);
  CHECK(p->state == peer_state::routed);
  CHECK(p->via == relay);
  CHECK(p->host.empty());
  CHECK(p->port == 0);
  CHECK(p->last_heard == t0);
  CHECK(fix.get("peer-0001").via == relay);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::routed);
  CHECK(fix.wire.routes[0].via == relay);
  // A ROUTED peer heart-beats through its via; the connector leaves it be.
  fix.advance(4s);
  CHECK(fix.heart_beat() == strings{"peer-0001"});
  CHECK(fix.greet().empty());
}

TEST_CASE("a route hint moves a peer without a direct route to the new relay "
          "and leaves a CONNECTED one as it is",
          "[peer_table]") {
  for (auto state :
       {peer_state::initial, peer_state::connecting, peer_state::routed,
        peer_state::unreachable, peer_state::no_connection}) {
    INFO("state " << p2p0mq::to_string(state));
    table_fixture fix;
    bring_to(fix, "peer-0001", state);
    auto p = hint(fix, "peer-0001", "relay-0002");
    REQUIRE(p);
    CHECK(p->state == peer_state::routed);
    CHECK(p->via == "relay-0002");
    CHECK(p->host == "10.0.0.1");
    REQUIRE(fix.wire.routes.size() == 1);
    CHECK(fix.wire.routes[0].via == "relay-0002");
  }
  table_fixture fix;
  bring_to(fix, "peer-0001", peer_state::connected);
  auto p = hint(fix, "peer-0001", "relay-0002");
  REQUIRE(p);
  CHECK(p->state == peer_state::connected);
  CHECK(p->via.empty());
  CHECK(fix.wire.routes.empty());
}

TEST_CASE("a peer heard through a relay takes that route when it has none, "
          "and keeps the route it has otherwise",
          "[peer_table]") {
  table_fixture fix;
  auto heard_via = [&](const std::string& uuid, const std::string& relay) {
    caf::anon_send(fix.peers, p2p0mq::heard_atom::value, uuid, relay);
    fix.run();
    return fix.get(uuid);
  };
  // Unknown: created ROUTED through the relay.
  auto p = heard_via("peer-0001", "relay-0001");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == "relay-0001");
  auto t0 = fix.now();
  fix.advance_time(3s);
  // Through another relay: the route stays, the peer counts as heard.
  p = heard_via("peer-0001", "relay-0002");
  CHECK(p.via == "relay-0001");
  CHECK(p.last_heard == t0 + 3s);
  CHECK(p.next_heart_beat == t0 + 3s + 4s);
  // A peer given up on takes the route it is heard through.
  fix.add("peer-0002");
  REQUIRE(fix.set_state("peer-0002", peer_state::no_connection));
  p = heard_via("peer-0002", "relay-0002");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == "relay-0002");
  // A CONNECTED peer keeps its direct route.
  fix.add("peer-0003");
  REQUIRE(fix.heard(fix.incoming("peer-0003", "hb")));
  CHECK(heard_via("peer-0003", "relay-0001").state == peer_state::connected);
  // Nonsense is ignored: ourselves, a peer as its own relay.
  caf::anon_send(fix.peers, p2p0mq::heard_atom::value,
                 std::string{table_fixture::local}, std::string{"relay-0001"});
  caf::anon_send(fix.peers, p2p0mq::heard_atom::value, std::string{"peer-0004"},
                 std::string{"peer-0004"});
  fix.run();
  CHECK(fix.lookup("peer-0004").error() == errc::unknown_peer);
}

TEST_CASE("a ROUTED peer whose route came round a loop loses it",
          "[peer_table]") {
  table_fixture fix;
  REQUIRE(hint(fix, "peer-0001", "relay-0001"));
  fix.add("peer-0002");
  REQUIRE(fix.heard(fix.incoming("peer-0002", "hb")));
  fix.wire.clear();
  for (auto& x : {"peer-0001", "peer-0002", "peer-0009"})
    caf::anon_send(fix.peers, p2p0mq::lost_atom::value, std::string{x});
  fix.run();
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.via.empty());
  CHECK(fix.get("peer-0002").state == peer_state::connected);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::no_connection);
}

TEST_CASE("a ROUTED peer comes back to CONNECTED when a direct message "
          "arrives",
          "[peer_table]") {
  table_fixture fix;
  REQUIRE(hint(fix, "peer-0001", relay));
  fix.wire.clear();
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::connected);
  CHECK(p.via.empty());
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::connected);
}

TEST_CASE("the peer table rejects route hints through or to ourselves, or "
          "with a short uuid",
          "[peer_table]") {
  table_fixture fix;
  CHECK(hint(fix, table_fixture::local, relay).error() == errc::invalid_peer);
  CHECK(hint(fix, "peer-0001", table_fixture::local).error() ==
        errc::invalid_peer);
  CHECK(hint(fix, "peer-0001", "peer-0001").error() == errc::invalid_peer);
  CHECK(hint(fix, "abc", relay).error() == errc::invalid_peer);
  CHECK(hint(fix, "peer-0001", "").error() == errc::invalid_peer);
  CHECK(fix.lookup("peer-0001").error() == errc::unknown_peer);
  CHECK(fix.wire.routes.empty());
}

// -- a peer heard before we connected to it ---------------------------------

TEST_CASE("a peer heard directly before we connected to it is connected to "
          "at its address, before its route changes",
          "[peer_table][faults]") {
  // E.g. a peer that goes on with its heart-beats to us after our restart,
  // while its record, from the store, is still INITIAL: without the
  // connection, every answer would fail and, being CONNECTED, it would never
  // be greeted.
  auto from = GENERATE(peer_state::initial, peer_state::no_connection,
                       peer_state::routed, peer_state::unreachable);
  table_fixture fix;
  bring_to(fix, "peer-0001", from);
  fix.add("peer-0001", "10.0.0.9", 5009);
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  REQUIRE(fix.wire.connects.size() == 1);
  CHECK(fix.wire.connects[0].uuid == "peer-0001");
  CHECK(fix.wire.connects[0].endpoint == "tcp://10.0.0.9:5009");
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.connects[0].seq < fix.wire.routes[0].seq);
}

TEST_CASE("a peer heard while CONNECTED or CONNECTING, through a relay or "
          "without an address is not connected to again",
          "[peer_table][faults]") {
  table_fixture fix;
  bring_to(fix, "peer-0001", peer_state::connected);
  bring_to(fix, "peer-0002", peer_state::connecting);
  bring_to(fix, "peer-0003", peer_state::initial);
  REQUIRE(hint(fix, "peer-0004", relay));
  fix.wire.clear();
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  REQUIRE(fix.heard(fix.incoming("peer-0002", "hello", message_kind::reply)));
  REQUIRE(fix.heard(
      fix.incoming("peer-0003", "hb", message_kind::request, 1, {}, relay)));
  REQUIRE(fix.heard(fix.incoming("peer-0004", "hb")));
  CHECK(fix.get("peer-0002").state == peer_state::connected);
  CHECK(fix.get("peer-0003").state == peer_state::routed);
  CHECK(fix.get("peer-0004").state == peer_state::connected);
  CHECK(fix.wire.connects.empty());
}

// -- size limit ---------------------------------------------------------------

namespace {

/// Adds `uuid` as a peer that introduced itself (`learn_atom`).
caf::expected<peer> learn(table_fixture& fix, const std::string& uuid) {
  return p2p0mq::testing::ask<peer>(
      fix, fix.peers, p2p0mq::learn_atom::value, uuid, std::string{"10.0.0.1"},
      std::uint16_t{5000}, false, p2p0mq::capabilities::ours());
}

strings removed(const table_fixture& fix) {
  strings result;
  for (auto& x : fix.wire.removes)
    result.push_back(x.uuid);
  return result;
}

strings known(table_fixture& fix) {
  auto all = p2p0mq::testing::ask<std::vector<peer>>(fix, fix.peers,
                                                     p2p0mq::get_atom::value);
  REQUIRE(all);
  strings result;
  for (auto& p : *all)
    result.push_back(p.uuid);
  return result;
}

} // namespace

TEST_CASE("a full peer table evicts the learned peer idle the longest for a "
          "new one and tells the sender",
          "[peer_table]") {
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.max_peers = 3; }};
  REQUIRE(learn(fix, "peer-000a"));
  REQUIRE(learn(fix, "peer-000b"));
  REQUIRE(learn(fix, "peer-000c"));
  REQUIRE(fix.heard(fix.incoming("peer-000a", "hb")));
  fix.wire.clear();
  // peer-000a answered: peer-000b is the oldest idle one.
  REQUIRE(learn(fix, "peer-000d"));
  CHECK(removed(fix) == strings{"peer-000b"});
  CHECK(fix.lookup("peer-000b").error() == errc::unknown_peer);
  // CONNECTING peers are idle too.
  REQUIRE(fix.set_state("peer-000c", peer_state::connecting));
  REQUIRE(learn(fix, "peer-000e"));
  CHECK(removed(fix) == strings{"peer-000b", "peer-000c"});
  CHECK(known(fix) == strings{"peer-000a", "peer-000d", "peer-000e"});
  // A known peer takes no room.
  REQUIRE(learn(fix, "peer-000d"));
  CHECK(removed(fix).size() == 2);
}

TEST_CASE("a full peer table refuses a new peer when every peer is pinned or "
          "talks to us",
          "[peer_table]") {
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.max_peers = 3; }};
  fix.add("peer-0001");
  fix.add("peer-0002");
  REQUIRE(learn(fix, "peer-0003"));
  fix.add("peer-0003");
  REQUIRE(fix.heard(fix.incoming("peer-0003", "hb")));
  auto learned = learn(fix, "peer-0004");
  REQUIRE(!learned);
  CHECK(learned.error() == errc::peer_table_full);
  auto added = p2p0mq::testing::ask<peer>(
      fix, fix.peers, p2p0mq::add_atom::value, std::string{"peer-0005"},
      std::string{"10.0.0.1"}, std::uint16_t{5000});
  REQUIRE(!added);
  CHECK(added.error() == errc::peer_table_full);
  CHECK(hint(fix, "peer-0006", relay).error() == errc::peer_table_full);
  CHECK(known(fix) == strings{"peer-0001", "peer-0002", "peer-0003"});
  CHECK(fix.wire.removes.empty());
  // The user's peers stay pinned while they never answer, and a learned
  // peer the user adds becomes pinned.
  REQUIRE(fix.set_state("peer-0001", peer_state::no_connection));
  CHECK(learn(fix, "peer-0007").error() == errc::peer_table_full);
  table_fixture other{[](p2p0mq::config& cfg) { cfg.max_peers = 1; }};
  REQUIRE(learn(other, "peer-0001"));
  other.add("peer-0001");
  CHECK(learn(other, "peer-0002").error() == errc::peer_table_full);
}

TEST_CASE("a learned peer silent until NO_CONNECTION becomes evictable, after "
          "the peers idle before it",
          "[peer_table]") {
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.max_peers = 2; }};
  REQUIRE(learn(fix, "peer-0001"));
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  REQUIRE(learn(fix, "peer-0002"));
  fix.advance_time(241s);
  fix.heart_beat();
  REQUIRE(fix.get("peer-0001").state == peer_state::no_connection);
  fix.wire.clear();
  REQUIRE(learn(fix, "peer-0003"));
  REQUIRE(learn(fix, "peer-0004"));
  CHECK(removed(fix) == strings{"peer-0002", "peer-0001"});
  // A route hint makes room the same way, and the routed peer is safe.
  REQUIRE(hint(fix, "peer-0005", relay));
  CHECK(removed(fix) == strings{"peer-0002", "peer-0001", "peer-0003"});
  CHECK(known(fix) == strings{"peer-0004", "peer-0005"});
}

TEST_CASE("a full peer table warns at most once per 10 s, counting the "
          "evictions and refusals in between",
          "[peer_table]") {
  auto& logs = p2p0mq::testing::log_capture::install();
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.max_peers = 2; }};
  fix.add("peer-0001");
  REQUIRE(learn(fix, "peer-0002"));
  auto from = logs.mark();
  // 100 new peers: each evicts the one before it.
  for (int i = 0; i < 100; ++i)
    REQUIRE(learn(fix, "flood-" + std::to_string(i)));
  CHECK(fix.wire.removes.size() == 100);
  CHECK(logs.count(from, {"peer table is full"}) == 1);
  CHECK(logs.contains(from, {"1 idle peers evicted and 0 new peers refused"}));
  REQUIRE(fix.heard(fix.incoming("flood-99", "hb")));
  for (int i = 0; i < 50; ++i)
    CHECK(learn(fix, "late-" + std::to_string(i)).error() ==
          errc::peer_table_full);
  CHECK(logs.count(from, {"peer table is full"}) == 1);
  fix.advance_time(10s);
  CHECK(learn(fix, "late-50").error() == errc::peer_table_full);
  CHECK(logs.count(from, {"peer table is full"}) == 2);
  CHECK(
      logs.contains(from, {"99 idle peers evicted and 51 new peers refused"}));
}

TEST_CASE("a peer table with max_peers 0 has no limit", "[peer_table]") {
  table_fixture fix{[](p2p0mq::config& cfg) { cfg.max_peers = 0; }};
  for (int i = 0; i < 2000; ++i)
    REQUIRE(learn(fix, "peer-" + std::to_string(1000 + i)));
  CHECK(known(fix).size() == 2000);
  CHECK(fix.wire.removes.empty());
}
