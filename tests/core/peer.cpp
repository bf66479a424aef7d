#include "p2p0mq/peer.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "p2p0mq/config.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

using namespace std::chrono_literals;
using p2p0mq::connect_action;
using p2p0mq::duration;
using p2p0mq::heart_beat_action;
using p2p0mq::peer;
using p2p0mq::peer_state;
using p2p0mq::time_point;

namespace Catch {

template <>
struct StringMaker<peer_state> {
  static std::string convert(peer_state x) {
    return std::string{p2p0mq::to_string(x)};
  }
};

template <>
struct StringMaker<heart_beat_action> {
  static std::string convert(heart_beat_action x) {
    switch (x) {
    case heart_beat_action::none:
      return "none";
    case heart_beat_action::send:
      return "send";
    case heart_beat_action::unreachable:
      return "unreachable";
    case heart_beat_action::no_connection:
      return "no_connection";
    }
    return "?";
  }
};

template <>
struct StringMaker<connect_action> {
  static std::string convert(connect_action x) {
    switch (x) {
    case connect_action::none:
      return "none";
    case connect_action::send_hello:
      return "send_hello";
    case connect_action::give_up:
      return "give_up";
    }
    return "?";
  }
};

} // namespace Catch

namespace {

const peer_state all_states[] = {
    peer_state::initial, peer_state::connecting,  peer_state::connected,
    peer_state::routed,  peer_state::unreachable, peer_state::no_connection,
};

/// The time point `d` after the clock's epoch.
time_point at(duration d) {
  return time_point{} + d;
}

/// How long after the clock's epoch `t` is.
duration since_epoch(time_point t) {
  return t - time_point{};
}

/// A peer in `state` since the epoch, last heard at the epoch, with its
/// heart-beat due at the epoch.
peer make_peer(peer_state state, std::string host = "127.0.0.1") {
  peer result;
  result.uuid = "remote-peer";
  result.host = std::move(host);
  result.port = 8402;
  result.state = state;
  return result;
}

/// A message from `source` that reached us through `previous_hop`.
p2p0mq::message received(std::string source, std::string previous_hop) {
  auto msg = p2p0mq::make_request(std::move(source), "local-peer", "hb", 1,
                                  p2p0mq::payload{});
  msg.next_hop.clear();
  msg.previous_hop = std::move(previous_hop);
  return msg;
}

} // namespace

// -- state names --------------------------------------------------------------

TEST_CASE("peer state names are upper-case and parse back", "[peer]") {
  CHECK(p2p0mq::to_string(peer_state::initial) == "INITIAL");
  CHECK(p2p0mq::to_string(peer_state::connecting) == "CONNECTING");
  CHECK(p2p0mq::to_string(peer_state::connected) == "CONNECTED");
  CHECK(p2p0mq::to_string(peer_state::routed) == "ROUTED");
  CHECK(p2p0mq::to_string(peer_state::unreachable) == "UNREACHABLE");
  CHECK(p2p0mq::to_string(peer_state::no_connection) == "NO_CONNECTION");
  for (auto x : all_states) {
    INFO("state " << p2p0mq::to_string(x));
    CHECK(p2p0mq::parse_peer_state(p2p0mq::to_string(x)) == x);
  }
}

TEST_CASE("parse_peer_state rejects names that are not state names", "[peer]") {
  CHECK_FALSE(p2p0mq::parse_peer_state(""));
  CHECK_FALSE(p2p0mq::parse_peer_state("connected"));
  CHECK_FALSE(p2p0mq::parse_peer_state("CONNECTED "));
  CHECK_FALSE(p2p0mq::parse_peer_state("UNRESPONSIVE"));
}

// -- state predicates ---------------------------------------------------------

TEST_CASE("INITIAL, NO_CONNECTION and UNREACHABLE peers need a reconnect",
          "[peer]") {
  for (auto x : all_states) {
    INFO("state " << p2p0mq::to_string(x));
    auto expected = x == peer_state::initial ||
                    x == peer_state::no_connection ||
                    x == peer_state::unreachable;
    CHECK(make_peer(x).needs_reconnect() == expected);
  }
}

TEST_CASE("CONNECTED, ROUTED and UNREACHABLE peers get heart-beats", "[peer]") {
  for (auto x : all_states) {
    INFO("state " << p2p0mq::to_string(x));
    auto expected = x == peer_state::connected || x == peer_state::routed ||
                    x == peer_state::unreachable;
    CHECK(make_peer(x).does_heart_beat() == expected);
  }
}

TEST_CASE("set_state records the time only when the state changes", "[peer]") {
  auto p = make_peer(peer_state::initial);
  p.set_state(peer_state::connecting, at(5s));
  CHECK(p.state == peer_state::connecting);
  CHECK(p.state_since == at(5s));
  p.set_state(peer_state::connecting, at(9s));
  CHECK(p.state == peer_state::connecting);
  CHECK(p.state_since == at(5s));
  p.set_state(peer_state::connected, at(12s));
  CHECK(p.state == peer_state::connected);
  CHECK(p.state_since == at(12s));
}

// -- heart-beat schedule ------------------------------------------------------

TEST_CASE("reset_heart_beat schedules a beat one interval later and clears "
          "the slow-down",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  for (auto t = 0s; t < 30s; t += 5s)
    p.schedule_heart_beat(at(t), cfg);
  REQUIRE(p.slow_down == 10s);
  p.reset_heart_beat(at(100s), cfg);
  CHECK(p.slow_down == 0s);
  CHECK(p.last_heard == at(100s));
  CHECK(p.next_heart_beat == at(104s));
  p.schedule_heart_beat(at(104s), cfg);
  CHECK(p.next_heart_beat == at(108s));
}

TEST_CASE("unanswered heart-beats come 4, 6, 8, 10, 12, 14 and then 14 s "
          "apart",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.reset_heart_beat(at(0s), cfg);
  std::vector<duration> gaps;
  std::vector<duration> slow_downs;
  auto last = at(0s);
  for (int i = 0; i < 9; ++i) {
    auto now = p.next_heart_beat;
    gaps.push_back(now - last);
    last = now;
    p.schedule_heart_beat(now, cfg);
    slow_downs.push_back(p.slow_down);
  }
  std::vector<duration> expected_gaps{4s, 4s, 6s, 8s, 10s, 12s, 14s, 14s, 14s};
  CHECK(gaps == expected_gaps);
  std::vector<duration> expected_slow_downs{2s,  4s,  6s,  8s, 10s,
                                            10s, 10s, 10s, 10s};
  CHECK(slow_downs == expected_slow_downs);
}

TEST_CASE("the slow-down never grows past its configured maximum", "[peer]") {
  p2p0mq::config cfg;
  cfg.heart_beat_slow_down = 3s;
  cfg.heart_beat_max_slow_down = 7s;
  auto p = make_peer(peer_state::connected);
  p.schedule_heart_beat(at(0s), cfg);
  CHECK(p.slow_down == 3s);
  p.schedule_heart_beat(at(0s), cfg);
  CHECK(p.slow_down == 6s);
  p.schedule_heart_beat(at(0s), cfg);
  CHECK(p.slow_down == 7s);
  p.schedule_heart_beat(at(0s), cfg);
  CHECK(p.slow_down == 7s);
  CHECK(p.next_heart_beat == at(11s));
}

TEST_CASE("a zero slow-down step keeps heart-beats one interval apart",
          "[peer]") {
  p2p0mq::config cfg;
  cfg.heart_beat_slow_down = 0s;
  auto p = make_peer(peer_state::connected);
  for (int i = 0; i < 5; ++i) {
    p.schedule_heart_beat(at(i * 4s), cfg);
    CHECK(p.next_heart_beat == at((i + 1) * 4s));
    CHECK(p.slow_down == 0s);
  }
}

// -- heart-beat rule ----------------------------------------------------------

TEST_CASE("a heart-beat is due exactly at next_heart_beat and not a "
          "nanosecond before",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.reset_heart_beat(at(0s), cfg);
  CHECK(p.heart_beat_due(at(4s) - 1ns, cfg) == heart_beat_action::none);
  CHECK(p.heart_beat_due(at(4s), cfg) == heart_beat_action::send);
  CHECK(p.heart_beat_due(at(4s) + 1ns, cfg) == heart_beat_action::send);
}

TEST_CASE("a CONNECTED peer silent for exactly 40 s still gets a heart-beat",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto x : {peer_state::connected, peer_state::routed}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.heart_beat_due(at(40s), cfg) == heart_beat_action::send);
  }
}

TEST_CASE("a CONNECTED peer silent for 40 s and 1 ns becomes UNREACHABLE",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto x : {peer_state::connected, peer_state::routed}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.heart_beat_due(at(40s) + 1ns, cfg) ==
          heart_beat_action::unreachable);
    CHECK(p.heart_beat_due(at(240s), cfg) == heart_beat_action::unreachable);
  }
}

TEST_CASE("an UNREACHABLE peer silent for over 40 s keeps getting "
          "heart-beats",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::unreachable);
  CHECK(p.heart_beat_due(at(40s) + 1ns, cfg) == heart_beat_action::send);
  CHECK(p.heart_beat_due(at(240s), cfg) == heart_beat_action::send);
}

TEST_CASE("a peer silent for exactly 240 s is not yet given up", "[peer]") {
  p2p0mq::config cfg;
  for (auto x :
       {peer_state::connected, peer_state::routed, peer_state::unreachable}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.heart_beat_due(at(240s), cfg) != heart_beat_action::no_connection);
  }
}

TEST_CASE("a peer silent for 240 s and 1 ns becomes NO_CONNECTION", "[peer]") {
  p2p0mq::config cfg;
  for (auto x :
       {peer_state::connected, peer_state::routed, peer_state::unreachable}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.heart_beat_due(at(240s) + 1ns, cfg) ==
          heart_beat_action::no_connection);
  }
}

TEST_CASE("silence is measured from when the peer was last heard", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.reset_heart_beat(at(100s), cfg);
  CHECK(p.heart_beat_due(at(140s), cfg) == heart_beat_action::send);
  CHECK(p.heart_beat_due(at(140s) + 1ns, cfg) ==
        heart_beat_action::unreachable);
  CHECK(p.heart_beat_due(at(340s), cfg) == heart_beat_action::unreachable);
  CHECK(p.heart_beat_due(at(340s) + 1ns, cfg) ==
        heart_beat_action::no_connection);
}

TEST_CASE("peers that do not heart-beat never get a heart-beat action",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto x : {peer_state::initial, peer_state::connecting,
                 peer_state::no_connection}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.heart_beat_due(at(4s), cfg) == heart_beat_action::none);
    CHECK(p.heart_beat_due(at(41s), cfg) == heart_beat_action::none);
    CHECK(p.heart_beat_due(at(1000s), cfg) == heart_beat_action::none);
  }
}

TEST_CASE("a heart-beat that is not due yields nothing even for a long "
          "silent peer",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.next_heart_beat = at(1000s);
  CHECK(p.heart_beat_due(at(999s), cfg) == heart_beat_action::none);
  CHECK(p.heart_beat_due(at(1000s), cfg) == heart_beat_action::no_connection);
}

TEST_CASE("a silent peer goes UNREACHABLE at 44 s and NO_CONNECTION at 254 s "
          "when driven by its heart-beats",
          "[peer]") {
  // Beats at 4, 8, 14, 22, 32, 44, then every 14 s: 58, ..., 240, 254. The
  // peer never answers.
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.reset_heart_beat(at(0s), cfg);
  std::vector<duration> beats;
  auto unreachable_at = duration::zero();
  auto no_connection_at = duration::zero();
  for (auto now = at(0s); now <= at(300s); now += 1s) {
    switch (p.heart_beat_due(now, cfg)) {
    case heart_beat_action::none:
      break;
    case heart_beat_action::unreachable:
      unreachable_at = since_epoch(now);
      p.set_state(peer_state::unreachable, now);
      [[fallthrough]];
    case heart_beat_action::send:
      beats.push_back(since_epoch(now));
      p.schedule_heart_beat(now, cfg);
      break;
    case heart_beat_action::no_connection:
      no_connection_at = since_epoch(now);
      p.become_no_connection(now, cfg);
      break;
    }
  }
  CHECK(unreachable_at == 44s);
  CHECK(no_connection_at == 254s);
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.state_since == at(254s));
  REQUIRE(beats.size() >= 7);
  std::vector<duration> first{4s, 8s, 14s, 22s, 32s, 44s, 58s};
  CHECK(std::vector<duration>(beats.begin(), beats.begin() + 7) == first);
  CHECK(beats.back() == 240s);
}

// -- become_connected ---------------------------------------------------------

TEST_CASE("a message straight from its source makes the peer CONNECTED",
          "[peer]") {
  p2p0mq::config cfg;
  SECTION("previous hop is the source") {
    auto p = make_peer(peer_state::connecting);
    p.become_connected(received("remote-peer", "remote-peer"), at(7s), cfg);
    CHECK(p.state == peer_state::connected);
    CHECK(p.state_since == at(7s));
    CHECK(p.via.empty());
    CHECK(p.last_heard == at(7s));
    CHECK(p.next_heart_beat == at(11s));
  }
  SECTION("previous hop is empty") {
    auto p = make_peer(peer_state::initial);
    p.become_connected(received("remote-peer", ""), at(7s), cfg);
    CHECK(p.state == peer_state::connected);
    CHECK(p.via.empty());
  }
}

TEST_CASE("a relayed message makes the peer ROUTED via the relay and a "
          "direct one clears the via",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connecting);
  p.become_connected(received("remote-peer", "relay-peer"), at(3s), cfg);
  CHECK(p.state == peer_state::routed);
  CHECK(p.state_since == at(3s));
  CHECK(p.via == "relay-peer");
  CHECK(p.last_heard == at(3s));
  CHECK(p.next_heart_beat == at(7s));
  // Another relayed message keeps the state and its start time.
  p.become_connected(received("remote-peer", "relay-peer"), at(5s), cfg);
  CHECK(p.state == peer_state::routed);
  CHECK(p.state_since == at(3s));
  CHECK(p.last_heard == at(5s));
  // A direct message switches to CONNECTED.
  p.become_connected(received("remote-peer", "remote-peer"), at(9s), cfg);
  CHECK(p.state == peer_state::connected);
  CHECK(p.state_since == at(9s));
  CHECK(p.via.empty());
}

TEST_CASE("a message from an UNREACHABLE peer clears its slow-down", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::unreachable);
  for (int i = 0; i < 4; ++i)
    p.schedule_heart_beat(at(50s), cfg);
  REQUIRE(p.slow_down == 8s);
  p.become_connected(received("remote-peer", "remote-peer"), at(60s), cfg);
  CHECK(p.state == peer_state::connected);
  CHECK(p.state_since == at(60s));
  CHECK(p.slow_down == 0s);
  CHECK(p.next_heart_beat == at(64s));
  CHECK(p.heart_beat_due(at(64s), cfg) == heart_beat_action::send);
}

// -- connector rule -----------------------------------------------------------

TEST_CASE("an INITIAL peer gets a hello only when its host is known",
          "[peer]") {
  p2p0mq::config cfg;
  CHECK(make_peer(peer_state::initial).connect_due(at(0s), cfg) ==
        connect_action::send_hello);
  CHECK(make_peer(peer_state::initial, "").connect_due(at(0s), cfg) ==
        connect_action::none);
}

TEST_CASE("a CONNECTING peer is given up 40 s and 1 ns after its hello, not "
          "at exactly 40 s",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::initial);
  p.set_state(peer_state::connecting, at(10s));
  CHECK(p.connect_due(at(10s), cfg) == connect_action::none);
  CHECK(p.connect_due(at(50s), cfg) == connect_action::none);
  CHECK(p.connect_due(at(50s) + 1ns, cfg) == connect_action::give_up);
  p.host.clear();
  CHECK(p.connect_due(at(50s) + 1ns, cfg) == connect_action::give_up);
}

TEST_CASE("the CONNECTING give-up counts from entering CONNECTING, not from "
          "when the peer was last heard",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::initial);
  p.last_heard = at(100s);
  p.set_state(peer_state::connecting, at(10s));
  CHECK(p.connect_due(at(50s) + 1ns, cfg) == connect_action::give_up);
}

TEST_CASE("a NO_CONNECTION peer is tried again exactly 120 s later", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connecting);
  p.become_no_connection(at(60s), cfg);
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.state_since == at(60s));
  CHECK(p.next_connect == at(180s));
  CHECK(p.connect_due(at(180s) - 1ns, cfg) == connect_action::none);
  CHECK(p.connect_due(at(180s), cfg) == connect_action::send_hello);
  CHECK(p.connect_due(at(500s), cfg) == connect_action::send_hello);
  p.host.clear();
  CHECK(p.connect_due(at(500s), cfg) == connect_action::none);
}

TEST_CASE("each failed reconnect waits 2 s longer, up to 130 s", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::initial);
  auto now = at(0s);
  std::vector<duration> waits;
  for (int i = 0; i < 8; ++i) {
    // Hello sent, never answered: give up once the threshold has passed.
    p.set_state(peer_state::connecting, now);
    now += 40s + 1ns;
    REQUIRE(p.connect_due(now, cfg) == connect_action::give_up);
    p.become_no_connection(now, cfg);
    waits.push_back(p.next_connect - now);
    REQUIRE(p.connect_due(p.next_connect - 1ns, cfg) == connect_action::none);
    now = p.next_connect;
    REQUIRE(p.connect_due(now, cfg) == connect_action::send_hello);
  }
  std::vector<duration> expected{120s, 122s, 124s, 126s,
                                 128s, 130s, 130s, 130s};
  CHECK(waits == expected);
  // An answer clears the slow-down: the next give-up waits 120 s again.
  p.become_connected(received("remote-peer", "remote-peer"), now, cfg);
  CHECK(p.slow_down == 0s);
  p.become_no_connection(now + 1s, cfg);
  CHECK(p.next_connect == now + 1s + 120s);
}

TEST_CASE("CONNECTED and UNREACHABLE peers get no connector action", "[peer]") {
  p2p0mq::config cfg;
  for (auto x : {peer_state::connected, peer_state::unreachable}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    CHECK(p.connect_due(at(0s), cfg) == connect_action::none);
    CHECK(p.connect_due(at(1000s), cfg) == connect_action::none);
  }
}

TEST_CASE("a peer that becomes ROUTED and has an address is greeted straight "
          "one reconnect wait later, and again a reconnect wait after each "
          "greeting",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto how : {"relayed message", "route hint"}) {
    INFO(how);
    auto p = make_peer(peer_state::unreachable);
    if (how == std::string{"relayed message"})
      p.become_connected(received("remote-peer", "relay-peer"), at(10s), cfg);
    else
      CHECK(p.become_routed("relay-peer", at(10s), cfg));
    REQUIRE(p.state == peer_state::routed);
    CHECK(p.next_connect == at(130s));
    CHECK(p.next_due(cfg) == at(14s)); // its next beat comes first
    p.next_heart_beat = at(1000s);
    CHECK(p.next_due(cfg) == at(130s));
    CHECK(p.connect_due(at(130s) - 1ns, cfg) == connect_action::none);
    CHECK(p.connect_due(at(130s), cfg) == connect_action::send_hello);
    // More news through a relay does not put the greeting off.
    p.become_connected(received("remote-peer", "relay-peer"), at(100s), cfg);
    CHECK(p.become_routed("other-relay", at(110s), cfg));
    CHECK(p.next_connect == at(130s));
    p.greeted(at(131s), cfg);
    CHECK(p.next_connect == at(251s));
    CHECK(p.connect_due(at(250s), cfg) == connect_action::none);
    // It stays ROUTED until it answers straight.
    CHECK(p.state == peer_state::routed);
    p.become_connected(received("remote-peer", "remote-peer"), at(140s), cfg);
    CHECK(p.state == peer_state::connected);
    CHECK(p.connect_due(at(1000s), cfg) == connect_action::none);
  }
}

TEST_CASE("a ROUTED peer without an address is never greeted", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::initial, "");
  CHECK(p.become_routed("relay-peer", at(10s), cfg));
  p.next_heart_beat = at(1000s);
  CHECK(p.connect_due(at(10000s), cfg) == connect_action::none);
  CHECK(p.next_due(cfg) == at(1000s));
}

TEST_CASE("a greeting changes the next connect time of a ROUTED peer only",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto x : all_states) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    p.next_connect = at(5s);
    p.greeted(at(10s), cfg);
    CHECK(p.next_connect == (x == peer_state::routed ? at(130s) : at(5s)));
  }
  // And of an UNREACHABLE peer that went silent while ROUTED.
  auto p = make_peer(peer_state::unreachable);
  p.via = "relay-peer";
  p.next_connect = at(5s);
  p.greeted(at(10s), cfg);
  CHECK(p.next_connect == at(130s));
}

TEST_CASE("a ROUTED peer that goes silent is still greeted straight on its "
          "schedule, and nothing puts that greeting off",
          "[peer]") {
  // Two ends of a link, each ROUTED to the other through a relay that then
  // died, went UNREACHABLE before their straight greeting was due and beat
  // each other through the dead relay only; a route hint or giving up
  // pushed the greeting later each time, and the healed link stayed unused.
  p2p0mq::config cfg;
  auto routed_at_10s = [&] {
    auto p = make_peer(peer_state::connecting);
    p.become_connected(received("remote-peer", "relay-peer"), at(10s), cfg);
    REQUIRE(p.state == peer_state::routed);
    REQUIRE(p.next_connect == at(130s));
    return p;
  };
  SECTION("silent: UNREACHABLE with its via, greeted at the same time") {
    auto p = routed_at_10s();
    CHECK(p.heart_beat_due(at(60s), cfg) == heart_beat_action::unreachable);
    p.set_state(peer_state::unreachable, at(60s));
    p.next_heart_beat = at(1000s);
    CHECK(p.relayed_with_address());
    CHECK(p.next_due(cfg) == at(130s));
    CHECK(p.connect_due(at(130s) - 1ns, cfg) == connect_action::none);
    CHECK(p.connect_due(at(130s), cfg) == connect_action::send_hello);
    p.greeted(at(130s), cfg);
    CHECK(p.next_connect == at(250s));
  }
  SECTION("a route hint while silent keeps the schedule") {
    auto p = routed_at_10s();
    p.set_state(peer_state::unreachable, at(60s));
    CHECK(p.become_routed("other-relay", at(100s), cfg));
    CHECK(p.next_connect == at(130s));
    p.set_state(peer_state::unreachable, at(105s));
    p.become_connected(received("remote-peer", "relay-peer"), at(110s), cfg);
    CHECK(p.next_connect == at(130s));
  }
  SECTION("giving up keeps the straight greeting when it comes sooner") {
    auto p = routed_at_10s();
    p.set_state(peer_state::unreachable, at(60s));
    p.become_no_connection(at(100s), cfg);
    CHECK(p.state == peer_state::no_connection);
    CHECK(p.via.empty());
    CHECK(p.next_connect == at(130s));
    CHECK(p.connect_due(at(130s), cfg) == connect_action::send_hello);
    // The slow-down still grows for the attempts after.
    CHECK(p.slow_down == cfg.heart_beat_slow_down);
  }
  SECTION("a route hint never puts off a reconnect already scheduled") {
    auto p = make_peer(peer_state::connected);
    p.become_no_connection(at(100s), cfg);
    REQUIRE(p.next_connect == at(220s));
    CHECK(p.become_routed("relay-peer", at(150s), cfg));
    CHECK(p.next_connect == at(220s));
    // One due later than a reconnect wait from now comes a wait from now.
    auto q = make_peer(peer_state::no_connection);
    q.next_connect = at(500s);
    CHECK(q.become_routed("relay-peer", at(150s), cfg));
    CHECK(q.next_connect == at(270s));
  }
  SECTION("UNREACHABLE without a via beats straight and is not greeted") {
    auto p = make_peer(peer_state::unreachable);
    p.next_connect = at(5s);
    CHECK_FALSE(p.relayed_with_address());
    CHECK(p.connect_due(at(1000s), cfg) == connect_action::none);
    auto q = make_peer(peer_state::unreachable, "");
    q.via = "relay-peer";
    CHECK_FALSE(q.relayed_with_address());
    CHECK(q.connect_due(at(1000s), cfg) == connect_action::none);
  }
}

TEST_CASE("a relayed message from a peer heard straight within the last "
          "interval leaves it CONNECTED, a later one makes it ROUTED",
          "[peer]") {
  // Both ends of a link that came back: one greets the other straight and
  // becomes CONNECTED, while a beat the other sent through the relay before
  // it heard the greeting is still on its way. Taken as a route, it sent
  // each end back to the relay after every greeting, for good.
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::routed);
  p.via = "relay-peer";
  p.become_connected(received("remote-peer", "remote-peer"), at(100s), cfg);
  REQUIRE(p.state == peer_state::connected);
  p.become_connected(received("remote-peer", "relay-peer"), at(100s) + 12ms,
                     cfg);
  CHECK(p.state == peer_state::connected);
  CHECK(p.via.empty());
  CHECK(p.last_heard == at(100s));
  p.become_connected(received("remote-peer", "relay-peer"), at(104s), cfg);
  CHECK(p.state == peer_state::connected);
  // Silent straight for longer than the interval: the peer does not hear us
  // straight any more, and its messages come round; they show the way back.
  p.become_connected(received("remote-peer", "relay-peer"), at(104s) + 1ns,
                     cfg);
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == "relay-peer");
  CHECK(p.last_heard == at(104s) + 1ns);
}

TEST_CASE("a ROUTED peer given up on is no longer routed through its via",
          "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::routed);
  p.via = "relay-uuid";
  p.become_no_connection(at(300s), cfg);
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.via.empty());
}

// -- route hints --------------------------------------------------------------

TEST_CASE("a route hint makes a peer without a direct connection ROUTED and "
          "resets its heart-beat",
          "[peer]") {
  p2p0mq::config cfg;
  for (auto x :
       {peer_state::initial, peer_state::connecting, peer_state::routed,
        peer_state::unreachable, peer_state::no_connection}) {
    INFO("state " << p2p0mq::to_string(x));
    auto p = make_peer(x);
    p.via = "old-relay";
    for (int i = 0; i < 3; ++i)
      p.schedule_heart_beat(at(1s), cfg);
    CHECK(p.become_routed("new-relay", at(20s), cfg));
    CHECK(p.state == peer_state::routed);
    CHECK(p.state_since == (x == peer_state::routed ? at(0s) : at(20s)));
    CHECK(p.via == "new-relay");
    CHECK(p.last_heard == at(20s));
    CHECK(p.slow_down == 0s);
    CHECK(p.next_heart_beat == at(24s));
  }
}

TEST_CASE("a route hint leaves a CONNECTED peer as it is", "[peer]") {
  p2p0mq::config cfg;
  auto p = make_peer(peer_state::connected);
  p.last_heard = at(5s);
  CHECK_FALSE(p.become_routed("relay-peer", at(20s), cfg));
  CHECK(p.state == peer_state::connected);
  CHECK(p.via.empty());
  CHECK(p.last_heard == at(5s));
}

TEST_CASE("round-trip times keep the last eight samples: last, min, mean and "
          "max of those",
          "[peer]") {
  p2p0mq::round_trip_times x;
  CHECK(x.empty());
  CHECK(x.size() == 0);
  CHECK(x.last() == 0s);
  CHECK(x.min() == 0s);
  CHECK(x.mean() == 0s);
  CHECK(x.max() == 0s);
  x.add(4ms);
  CHECK(x.size() == 1);
  CHECK(x.last() == 4ms);
  CHECK(x.min() == 4ms);
  CHECK(x.mean() == 4ms);
  CHECK(x.max() == 4ms);
  x.add(2ms);
  CHECK(x.last() == 2ms);
  CHECK(x.min() == 2ms);
  CHECK(x.mean() == 3ms);
  CHECK(x.max() == 4ms);
  // 100 ms, then eight samples of 1..8 ms push it (and 4 and 2) out.
  x.add(100ms);
  for (int i = 1; i <= 8; ++i)
    x.add(std::chrono::milliseconds{i});
  CHECK(x.count == 11);
  CHECK(x.size() == 8);
  CHECK(x.last() == 8ms);
  CHECK(x.min() == 1ms);
  CHECK(x.mean() == 4500us);
  CHECK(x.max() == 8ms);
  x.add(-5ms);
  CHECK(x.last() == 0s);
  CHECK(x.min() == 0s);
}

TEST_CASE("next_due is the first instant any rule acts on a peer", "[peer]") {
  p2p0mq::config cfg;
  const time_point t0{1000s};
  auto acts = [&](const peer& p, time_point now) {
    return p.heart_beat_due(now, cfg) != heart_beat_action::none ||
           p.connect_due(now, cfg) != connect_action::none;
  };
  std::vector<peer> xs;
  for (auto state :
       {peer_state::initial, peer_state::connecting, peer_state::connected,
        peer_state::routed, peer_state::unreachable, peer_state::no_connection})
    for (auto host : {"", "10.0.0.1"}) {
      peer p;
      p.uuid = "peer-0001";
      p.host = host;
      p.state = state;
      p.state_since = t0;
      p.last_heard = t0;
      p.next_heart_beat = t0 + 4s;
      p.next_connect = t0 + 120s;
      p.via = state == peer_state::routed ? "relay-01" : "";
      xs.push_back(p);
      if (state == peer_state::unreachable) {
        p.via = "relay-01";
        xs.push_back(p);
      }
    }
  for (auto& p : xs) {
    CAPTURE(p2p0mq::to_string(p.state), p.host);
    auto due = p.next_due(cfg);
    if (due == time_point::max()) {
      // No rule acts, however long we wait.
      CHECK_FALSE(acts(p, t0 + 10000s));
      continue;
    }
    if (due <= t0) {
      CHECK(acts(p, t0));
      continue;
    }
    CHECK_FALSE(acts(p, due - duration{1}));
    CHECK(acts(p, due));
  }
  // The times each state is due at.
  CHECK(xs[1].next_due(cfg) == time_point{});           // INITIAL with a host
  CHECK(xs[3].next_due(cfg) == t0 + 40s + duration{1}); // CONNECTING
  CHECK(xs[5].next_due(cfg) == t0 + 4s);                // CONNECTED
  CHECK(xs[12].next_due(cfg) == time_point::max()); // NO_CONNECTION, no host
  CHECK(xs[13].next_due(cfg) == t0 + 120s);         // NO_CONNECTION with a host
  // UNREACHABLE with a host, without a via and with one, beaten first.
  CHECK(xs[10].next_due(cfg) == t0 + 4s);
  CHECK(xs[11].next_due(cfg) == t0 + 4s);
  xs[10].next_heart_beat = xs[11].next_heart_beat = t0 + 1000s;
  CHECK(xs[10].next_due(cfg) == t0 + 1000s);
  CHECK(xs[11].next_due(cfg) == t0 + 120s); // greeted straight
}
