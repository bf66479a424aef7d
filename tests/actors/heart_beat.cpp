#include "p2p0mq/actors/heart_beat.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/send.hpp>

#include "p2p0mq/errc.hpp"
#include "support/concern_fixture.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::message;
using p2p0mq::message_kind;
using p2p0mq::payload;
using p2p0mq::peer_state;
using p2p0mq::priority;
using p2p0mq::time_point;
using p2p0mq::testing::concern_fixture;

namespace {

using outgoing_call = p2p0mq::testing::sender_record::outgoing_call;

const std::string relay = "relay-0001";

/// The empty msgpack map, all an `hb` carries.
const std::string empty_map = "\x80";

/// A concern fixture running the heart-beat concern.
class heart_beat_fixture : public concern_fixture {
public:
  explicit heart_beat_fixture(
      const std::function<void(p2p0mq::config&)>& tune = nullptr)
      : concern_fixture(tune) {
    add_concern(p2p0mq::heart_beat_command, p2p0mq::heart_beat());
  }

  /// An `hb` from `source`, as the receiver decodes it, reaching us through
  /// `via` (straight from the source when empty).
  message hb(const std::string& source, message_kind kind, std::uint64_t id,
             const std::string& via = "") {
    return incoming(source, "hb", kind, id, payload{}, via);
  }

  /// The heart-beat requests handed to the sender so far.
  std::vector<outgoing_call> beats() const {
    return wire.outgoing_of("hb", message_kind::request);
  }

  /// The heart-beat replies handed to the sender so far.
  std::vector<outgoing_call> replies() const {
    return wire.outgoing_of("hb", message_kind::reply);
  }

  /// The times of the beats sent so far, in seconds after `t0`.
  std::vector<double> beat_times(time_point t0) const {
    std::vector<double> result;
    for (auto& x : beats())
      result.push_back(std::chrono::duration<double>(x.at - t0).count());
    return result;
  }
};

std::vector<double> seconds(std::initializer_list<double> xs) {
  return xs;
}

/// Checks that `call` is a heart-beat request to `uuid`.
void check_beat(const outgoing_call& call, const std::string& uuid) {
  CHECK(call.msg.source == concern_fixture::local);
  CHECK(call.msg.to == uuid);
  // The sender picks the next hop from the peer's route.
  CHECK(call.msg.next_hop.empty());
  CHECK(call.msg.payload.bytes() == empty_map);
  CHECK(call.prio == priority::fast);
}

} // namespace

TEST_CASE("a CONNECTED peer that answers gets a heart-beat every 4 s",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  std::size_t answered = 0;
  for (int i = 0; i < 40; ++i) {
    fix.advance(1s);
    auto beats = fix.beats();
    for (; answered < beats.size(); ++answered) {
      check_beat(beats[answered], "peer-0001");
      fix.deliver(
          fix.hb("peer-0001", message_kind::reply, beats[answered].msg.id));
    }
  }
  CHECK(fix.beat_times(t0) == seconds({4, 8, 12, 16, 20, 24, 28, 32, 36, 40}));
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  CHECK(fix.wire.routes.empty());
  CHECK(fix.replies().empty());
}

TEST_CASE("unanswered heart-beats come 4, 6, 8, 10, 12, 14, 14 s apart",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(72s);
  auto times = fix.beat_times(t0);
  // The first beat is due one interval after the peer was last heard from.
  CHECK(times == seconds({4, 8, 14, 22, 32, 44, 58, 72}));
  std::vector<double> gaps;
  for (std::size_t i = 1; i < times.size(); ++i)
    gaps.push_back(times[i] - times[i - 1]);
  CHECK(gaps == seconds({4, 6, 8, 10, 12, 14, 14}));
  for (auto& beat : fix.beats())
    check_beat(beat, "peer-0001");
}

TEST_CASE("a silent peer becomes UNREACHABLE at its first beat after 40 s, "
          "is still beaten and told to the sender",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(43s);
  CHECK(fix.beat_times(t0).back() == 32);
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  CHECK(fix.wire.routes.empty());
  fix.advance(1s);
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::unreachable);
  CHECK(fix.wire.routes[0].at == t0 + 44s);
  auto beats = fix.beats();
  REQUIRE(!beats.empty());
  CHECK(beats.back().at == t0 + 44s);
  check_beat(beats.back(), "peer-0001");
  // The sender learns the new state before the beat reaches it.
  CHECK(fix.wire.routes[0].seq < beats.back().seq);
  // It answers: CONNECTED again, and beaten every 4 s.
  fix.deliver(fix.hb("peer-0001", message_kind::reply, beats.back().msg.id));
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  REQUIRE(fix.wire.routes.size() == 2);
  CHECK(fix.wire.routes[1].state == peer_state::connected);
  fix.advance(4s);
  CHECK(fix.beat_times(t0).back() == 48);
}

TEST_CASE("a silent peer becomes NO_CONNECTION at its first beat after 240 s "
          "and gets no more beats",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(253s);
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  // Silent for exactly 240 s at the last beat: still beaten.
  CHECK(fix.beat_times(t0) ==
        seconds({4,   8,   14,  22,  32,  44,  58,  72,  86,  100,
                 114, 128, 142, 156, 170, 184, 198, 212, 226, 240}));
  fix.advance(1s);
  CHECK(fix.get("peer-0001").state == peer_state::no_connection);
  REQUIRE(fix.wire.routes.size() == 2);
  CHECK(fix.wire.routes[1].state == peer_state::no_connection);
  CHECK(fix.wire.routes[1].at == t0 + 254s);
  auto count = fix.beats().size();
  CHECK(count == 20);
  fix.advance(300s);
  CHECK(fix.beats().size() == count);
}

TEST_CASE("with a steady beat, the silence thresholds are strict",
          "[heart_beat]") {
  heart_beat_fixture fix{
      [](p2p0mq::config& cfg) { cfg.heart_beat_slow_down = {}; }};
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(40s);
  CHECK(fix.beat_times(t0).back() == 40);
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  fix.advance(4s);
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  CHECK(fix.beat_times(t0).back() == 44);
  fix.advance(196s);
  CHECK(fix.beat_times(t0).back() == 240);
  CHECK(fix.get("peer-0001").state == peer_state::unreachable);
  fix.advance(4s);
  CHECK(fix.get("peer-0001").state == peer_state::no_connection);
  CHECK(fix.beat_times(t0).back() == 240);
}

TEST_CASE("peers that are not connected get no heart-beats", "[heart_beat]") {
  heart_beat_fixture fix;
  fix.add("peer-0001");
  fix.add("peer-0002");
  REQUIRE(fix.set_state("peer-0002", peer_state::connecting));
  fix.add("peer-0003");
  REQUIRE(fix.set_state("peer-0003", peer_state::no_connection));
  fix.wire.clear();
  fix.advance(30s);
  CHECK(fix.wire.empty());
}

TEST_CASE("a ROUTED peer is beaten and left to the sender to route",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.add("peer-0001");
  REQUIRE(fix.heard(fix.hb("peer-0001", message_kind::reply, 1, relay)));
  fix.wire.clear();
  fix.advance(4s);
  auto beats = fix.beats();
  REQUIRE(beats.size() == 1);
  check_beat(beats[0], "peer-0001");
}

TEST_CASE("an hb request is answered with {} to its previous hop and resets "
          "the timers",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(3s);
  fix.deliver(fix.hb("peer-0001", message_kind::request, 9));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  auto& reply = replies[0].msg;
  CHECK(reply.source == concern_fixture::local);
  CHECK(reply.to == "peer-0001");
  CHECK(reply.next_hop == "peer-0001");
  CHECK(reply.id == 9);
  CHECK(reply.payload.bytes() == empty_map);
  CHECK(replies[0].prio == priority::fast);
  CHECK(fix.get("peer-0001").last_heard == t0 + 3s);
  // The next beat comes 4 s after the request, not 4 s after t0.
  fix.advance(3s);
  CHECK(fix.beats().empty());
  fix.advance(1s);
  CHECK(fix.beat_times(t0) == seconds({7}));
  CHECK(fix.wire.routes.empty());
}

TEST_CASE("an hb request clears the slow-down of unanswered beats",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  auto t0 = fix.now();
  fix.advance(12s);
  CHECK(fix.beat_times(t0) == seconds({4, 8}));
  // Without the request the next beat would come at 14 s.
  fix.deliver(fix.hb("peer-0001", message_kind::request, 9));
  fix.advance(8s);
  CHECK(fix.beat_times(t0) == seconds({4, 8, 16, 20}));
}

TEST_CASE("an hb request through a relay is answered through it and makes "
          "the peer ROUTED",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  // Nothing heard straight for longer than a heart-beat interval (the beat
  // sent meanwhile gets no answer).
  fix.advance(fix.settings->heart_beat_interval + 1s);
  fix.deliver(fix.hb("peer-0001", message_kind::request, 9, relay));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.to == "peer-0001");
  CHECK(replies[0].msg.next_hop == relay);
  auto frames = replies[0].msg.encode(concern_fixture::local);
  CHECK(frames[0] == relay);
  CHECK(frames[2] == "peer-0001");
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == relay);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::routed);
  CHECK(fix.wire.routes[0].via == relay);
}

TEST_CASE("an hb from an unknown peer is ignored", "[heart_beat]") {
  heart_beat_fixture fix;
  fix.deliver(fix.hb("peer-0009", message_kind::request, 1));
  fix.deliver(fix.hb("peer-0009", message_kind::reply, 2));
  CHECK(fix.wire.empty());
  CHECK(fix.lookup("peer-0009").error() == errc::unknown_peer);
}

TEST_CASE("the outcomes of a heart-beat change nothing and ask no retry",
          "[heart_beat]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  fix.advance(4s);
  auto beats = fix.beats();
  REQUIRE(beats.size() == 1);
  auto retry = p2p0mq::testing::ask<bool>(
      fix, beats[0].owner, p2p0mq::send_failed_atom::value, beats[0].msg,
      p2p0mq::make_error(errc::peer_unreachable));
  REQUIRE(retry);
  CHECK(!*retry);
  caf::anon_send(beats[0].owner, p2p0mq::dropped_atom::value, beats[0].msg,
                 p2p0mq::make_error(errc::message_expired));
  caf::anon_send(beats[0].owner, p2p0mq::sent_atom::value,
                 std::vector<message>{beats[0].msg});
  fix.run();
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  CHECK(fix.wire.routes.empty());
  CHECK(fix.wire.outgoing.size() == 1);
}

TEST_CASE("the round trip of a heart-beat runs from its hand-over to ZeroMQ to "
          "its reply, on the actor system's clock",
          "[heart_beat][metrics]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  fix.advance(4s);
  auto beats = fix.beats();
  REQUIRE(beats.size() == 1);
  // The sender hands it to ZeroMQ 10 ms after it got it; the reply comes
  // 25 ms after that.
  fix.advance(10ms);
  caf::anon_send(beats[0].owner, p2p0mq::sent_atom::value,
                 std::vector<message>{beats[0].msg});
  fix.run();
  fix.advance(25ms);
  fix.deliver(fix.hb("peer-0001", message_kind::reply, beats[0].msg.id));
  auto rtt = fix.get("peer-0001").round_trips;
  CHECK(rtt.count == 1);
  CHECK(rtt.last() == 25ms);
  // A reply that comes before the sender said it sent the beat counts from
  // the hand-over to the sender.
  while (fix.beats().size() < 2)
    fix.advance(1s);
  beats = fix.beats();
  fix.advance(40ms);
  fix.deliver(fix.hb("peer-0001", message_kind::reply, beats[1].msg.id));
  rtt = fix.get("peer-0001").round_trips;
  CHECK(rtt.count == 2);
  CHECK(rtt.last() == 40ms);
  CHECK(rtt.min() == 25ms);
  CHECK(rtt.mean() == 32500us);
  CHECK(rtt.max() == 40ms);
  // A duplicate reply, a reply to a beat never sent, and a request measure
  // nothing.
  fix.deliver(fix.hb("peer-0001", message_kind::reply, beats[1].msg.id));
  fix.deliver(fix.hb("peer-0001", message_kind::reply, 999));
  fix.deliver(fix.hb("peer-0001", message_kind::request, beats[0].msg.id));
  CHECK(fix.get("peer-0001").round_trips.count == 2);
}

TEST_CASE("a dropped or long unanswered heart-beat measures no round trip",
          "[heart_beat][metrics]") {
  heart_beat_fixture fix;
  fix.connected_peer("peer-0001");
  fix.advance(4s);
  auto beats = fix.beats();
  REQUIRE(beats.size() == 1);
  caf::anon_send(beats[0].owner, p2p0mq::dropped_atom::value, beats[0].msg,
                 p2p0mq::make_error(errc::message_expired));
  fix.run();
  fix.deliver(fix.hb("peer-0001", message_kind::reply, beats[0].msg.id));
  CHECK(fix.get("peer-0001").round_trips.empty());
  // Unanswered for a time-to-live (30 s): forgotten.
  while (fix.beats().size() < 2)
    fix.advance(1s);
  auto late = fix.beats()[1];
  fix.advance(31s);
  fix.deliver(fix.hb("peer-0001", message_kind::reply, late.msg.id));
  CHECK(fix.get("peer-0001").round_trips.empty());
}
