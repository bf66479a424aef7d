#include "p2p0mq/actors/connector.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
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
using p2p0mq::payload_builder;
using p2p0mq::peer_state;
using p2p0mq::priority;
using p2p0mq::testing::address_payload;
using p2p0mq::testing::concern_fixture;

namespace {

const std::string relay = "relay-0001";

/// A concern fixture running the connector.
class connector_fixture : public concern_fixture {
public:
  connector_fixture() {
    add_concern(p2p0mq::connector_command, p2p0mq::connector());
  }

  /// Decodes the frames a remote peer would send us: `previous_hop` is the
  /// routing id the message came on, `source` frame 1 (empty: the previous
  /// hop is the source).
  message from_wire(const std::string& previous_hop, const std::string& source,
                    message_kind kind, std::uint64_t id, const payload& body) {
    std::vector<std::string> frames{
        previous_hop, source,
        "",           std::string(1, static_cast<char>(kind)),
        "hello",      p2p0mq::encode_message_id(id),
        body.bytes()};
    auto result = p2p0mq::decode(frames, local);
    REQUIRE(result);
    return *result;
  }

  /// The hello requests handed to the sender so far.
  std::vector<p2p0mq::testing::sender_record::outgoing_call> hellos() const {
    return wire.outgoing_of("hello", message_kind::request);
  }

  /// The hello replies handed to the sender so far.
  std::vector<p2p0mq::testing::sender_record::outgoing_call> replies() const {
    return wire.outgoing_of("hello", message_kind::reply);
  }

  /// The one hello sent so far, to `uuid`.
  p2p0mq::testing::sender_record::outgoing_call
  greeted(const std::string& uuid) {
    run();
    REQUIRE(hellos().size() == 1);
    REQUIRE(hellos().front().msg.to == uuid);
    return hellos().front();
  }

  /// Tells the owner of `call` that it was sent.
  void sent(const p2p0mq::testing::sender_record::outgoing_call& call) {
    caf::anon_send(call.owner, p2p0mq::sent_atom::value,
                   std::vector<message>{call.msg});
    run();
  }

  /// Tells the owner of `call` that it was dropped.
  void dropped(const p2p0mq::testing::sender_record::outgoing_call& call) {
    caf::anon_send(call.owner, p2p0mq::dropped_atom::value, call.msg,
                   p2p0mq::make_error(errc::message_expired));
    run();
  }
};

/// The host and port a hello carries.
std::pair<std::string, std::int64_t> address_in(const payload& body) {
  auto parsed = payload::parse(body.bytes());
  REQUIRE(parsed);
  auto host = parsed->get_string("host");
  auto port = parsed->get_integer("port");
  REQUIRE(host);
  REQUIRE(port);
  // And what we speak (see the capability tests below).
  CHECK(parsed->size() == 4);
  return {*host, *port};
}

} // namespace

// -- greeting -----------------------------------------------------------------

TEST_CASE("an INITIAL peer is greeted at once: connect, then a hello carrying "
          "our address",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  REQUIRE(fix.wire.connects.size() == 1);
  CHECK(fix.wire.connects[0].uuid == "peer-0001");
  CHECK(fix.wire.connects[0].endpoint == "tcp://10.0.0.2:5001");
  auto hellos = fix.hellos();
  REQUIRE(hellos.size() == 1);
  REQUIRE(fix.wire.outgoing.size() == 1);
  CHECK(fix.wire.connects[0].seq < hellos[0].seq);
  auto& msg = hellos[0].msg;
  CHECK(msg.source == concern_fixture::local);
  CHECK(msg.to == "peer-0001");
  CHECK(msg.next_hop == "peer-0001");
  CHECK(msg.id == 1);
  CHECK(msg.deadline == fix.now() + 30s);
  CHECK(hellos[0].prio == priority::fast);
  CHECK(address_in(msg.payload) ==
        std::make_pair(std::string{"127.0.0.1"}, std::int64_t{7000}));
  CHECK(msg.payload.bytes() ==
        p2p0mq::make_hello_payload("127.0.0.1", 7000, fix.ctx.speaks).bytes());
  // As the peer reads it off its receiver socket.
  auto frames = msg.encode(concern_fixture::local);
  CHECK(frames[0] == "peer-0001");
  CHECK(frames[1].empty());
  CHECK(frames[2].empty());
  frames[0] = concern_fixture::local;
  auto remote = p2p0mq::decode(
      std::vector<std::string>(frames.begin(), frames.end()), "peer-0001");
  REQUIRE(remote);
  CHECK(remote->source == concern_fixture::local);
  CHECK(remote->to == "peer-0001");
  CHECK(remote->command == "hello");
  CHECK(remote->is_request());
  CHECK(address_in(remote->payload) ==
        std::make_pair(std::string{"127.0.0.1"}, std::int64_t{7000}));
  // Nothing changes until the outcome is known, and no second hello goes.
  CHECK(fix.get("peer-0001").state == peer_state::initial);
  CHECK(fix.wire.routes.empty());
  fix.advance(10s);
  CHECK(fix.hellos().size() == 1);
}

TEST_CASE("no peer without a host is greeted", "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "", 0);
  fix.advance(5s);
  CHECK(fix.wire.empty());
}

TEST_CASE("a sent hello makes the peer CONNECTING", "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.sent(hello);
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::connecting);
  CHECK(p.state_since == fix.now());
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].uuid == "peer-0001");
  CHECK(fix.wire.routes[0].state == peer_state::connecting);
}

TEST_CASE("a hello that found no connection yet is retried, one that failed "
          "otherwise is not, neither changes the peer",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  auto answer = [&](errc code) {
    auto retry = p2p0mq::testing::ask<bool>(
        fix, hello.owner, p2p0mq::send_failed_atom::value, hello.msg,
        p2p0mq::make_error(code));
    REQUIRE(retry);
    return *retry;
  };
  // A connection in its handshake takes it shortly.
  CHECK(answer(errc::peer_unreachable));
  // A missing certificate stays missing until the next attempt.
  CHECK(!answer(errc::missing_certificate));
  CHECK(!answer(errc::socket_error));
  CHECK(fix.get("peer-0001").state == peer_state::initial);
  CHECK(fix.wire.routes.empty());
  CHECK(fix.wire.outgoing.size() == 1);
}

TEST_CASE("a dropped hello makes the peer NO_CONNECTION", "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.dropped(hello);
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::no_connection);
  CHECK(p.next_connect == fix.now() + 120s);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::no_connection);
}

TEST_CASE("an unanswered hello gives the peer up strictly after 40 s",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.sent(hello);
  auto since = fix.now();
  fix.wire.clear();
  fix.advance(40s);
  CHECK(fix.get("peer-0001").state == peer_state::connecting);
  CHECK(fix.wire.empty());
  fix.advance(1s);
  CHECK(fix.get("peer-0001").state == peer_state::no_connection);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::no_connection);
  CHECK(fix.wire.routes[0].at == since + 41s);
  CHECK(fix.wire.outgoing.empty());
}

TEST_CASE("a peer given up is greeted again 120 s later, then after a growing "
          "wait",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.sent(hello);
  fix.advance(41s);
  REQUIRE(fix.get("peer-0001").state == peer_state::no_connection);
  for (auto wait : {120s, 122s, 124s, 126s, 128s, 130s, 130s}) {
    CAPTURE(wait.count());
    auto given_up = fix.now();
    fix.wire.clear();
    fix.advance(wait - 1s);
    CHECK(fix.wire.empty());
    fix.advance(1s);
    auto hellos = fix.hellos();
    REQUIRE(hellos.size() == 1);
    CHECK(hellos[0].at == given_up + wait);
    CHECK(hellos[0].msg.next_hop == "peer-0001");
    REQUIRE(fix.wire.connects.size() == 1);
    CHECK(fix.wire.connects[0].seq < hellos[0].seq);
    // This one is dropped too.
    fix.dropped(hellos[0]);
    REQUIRE(fix.get("peer-0001").state == peer_state::no_connection);
  }
}

// -- incoming requests --------------------------------------------------------

TEST_CASE("a hello from an unknown peer adds it, is answered with our address "
          "and greets it back",
          "[connector]") {
  connector_fixture fix;
  fix.deliver(fix.from_wire("peer-0002", "", message_kind::request, 7,
                            address_payload("10.0.0.3", 5003)));
  auto p = fix.get("peer-0002");
  CHECK(p.host == "10.0.0.3");
  CHECK(p.port == 5003);
  REQUIRE(!fix.wire.connects.empty());
  CHECK(fix.wire.connects[0].uuid == "peer-0002");
  CHECK(fix.wire.connects[0].endpoint == "tcp://10.0.0.3:5003");
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  auto& reply = replies[0].msg;
  CHECK(fix.wire.connects[0].seq < replies[0].seq);
  CHECK(reply.source == concern_fixture::local);
  CHECK(reply.to == "peer-0002");
  CHECK(reply.next_hop == "peer-0002");
  CHECK(reply.id == 7);
  CHECK(replies[0].prio == priority::fast);
  CHECK(address_in(reply.payload) ==
        std::make_pair(std::string{"127.0.0.1"}, std::int64_t{7000}));
  // The reply goes on the wire with both path frames empty.
  auto frames = reply.encode(concern_fixture::local);
  CHECK(frames[1].empty());
  CHECK(frames[2].empty());
  CHECK(frames[3] == "\x02");
  CHECK(frames[5] == p2p0mq::encode_message_id(7));
  // Greeted back, straight to it.
  auto hellos = fix.hellos();
  REQUIRE(hellos.size() == 1);
  CHECK(hellos[0].msg.to == "peer-0002");
  CHECK(hellos[0].msg.next_hop == "peer-0002");
  CHECK(address_in(hellos[0].msg.payload) ==
        std::make_pair(std::string{"127.0.0.1"}, std::int64_t{7000}));
  // The outcomes of the reply change nothing; the hello's do.
  fix.sent(replies[0]);
  CHECK(fix.get("peer-0002").state == peer_state::initial);
  fix.dropped(replies[0]);
  CHECK(fix.get("peer-0002").state == peer_state::initial);
  CHECK(fix.wire.routes.empty());
  fix.sent(hellos[0]);
  CHECK(fix.get("peer-0002").state == peer_state::connecting);
}

TEST_CASE("a peer greeted back gets no second hello until the outcome of the "
          "first",
          "[connector]") {
  connector_fixture fix;
  fix.deliver(fix.from_wire("peer-0002", "", message_kind::request, 7,
                            address_payload("10.0.0.3", 5003)));
  REQUIRE(fix.hellos().size() == 1);
  // Neither time nor another greeting from it sends one more.
  fix.advance(5s);
  fix.deliver(fix.from_wire("peer-0002", "", message_kind::request, 8,
                            address_payload("10.0.0.3", 5003)));
  CHECK(fix.replies().size() == 2);
  REQUIRE(fix.hellos().size() == 1);
  CHECK(fix.get("peer-0002").state == peer_state::initial);
  // Dropped: given up, and greeted again after the reconnect wait.
  auto given_up = fix.now();
  fix.dropped(fix.hellos()[0]);
  fix.advance(119s);
  CHECK(fix.hellos().size() == 1);
  fix.advance(1s);
  REQUIRE(fix.hellos().size() == 2);
  CHECK(fix.hellos()[1].at == given_up + 120s);
}

TEST_CASE("a hello whose outcome never comes is sent again after two "
          "time-to-lives",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto first = fix.greeted("peer-0001");
  fix.advance(59s);
  CHECK(fix.hellos().size() == 1);
  fix.advance(1s);
  CHECK(fix.hellos().size() == 1);
  fix.advance(1s);
  REQUIRE(fix.hellos().size() == 2);
  CHECK(fix.hellos()[1].at == first.at + 61s);
}

TEST_CASE("a hello from a CONNECTED peer is answered and greets nobody",
          "[connector]") {
  connector_fixture fix;
  fix.connected_peer("peer-0001", "10.0.0.2", 5001);
  fix.deliver(fix.from_wire("peer-0001", "", message_kind::request, 3,
                            address_payload("10.0.0.2", 5001)));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.next_hop == "peer-0001");
  CHECK(replies[0].msg.id == 3);
  CHECK(fix.hellos().empty());
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  CHECK(fix.wire.routes.empty());
  fix.advance(3s);
  CHECK(fix.hellos().empty());
}

TEST_CASE("a hello from a peer being greeted makes it CONNECTED",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  fix.sent(fix.greeted("peer-0001"));
  REQUIRE(fix.get("peer-0001").state == peer_state::connecting);
  fix.wire.clear();
  fix.deliver(fix.from_wire("peer-0001", "", message_kind::request, 3,
                            address_payload("10.0.0.2", 5001)));
  CHECK(fix.replies().size() == 1);
  CHECK(fix.hellos().empty());
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::connected);
}

TEST_CASE("a hello through a relay makes the peer ROUTED via the relay and is "
          "answered through it",
          "[connector]") {
  connector_fixture fix;
  fix.connected_peer("peer-0001", "10.0.0.2", 5001);
  // Nothing heard straight for longer than a heart-beat interval.
  fix.advance(fix.settings->heart_beat_interval + 1s);
  fix.deliver(fix.from_wire(relay, "peer-0001", message_kind::request, 4,
                            address_payload("10.0.0.2", 5001)));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  auto& reply = replies[0].msg;
  CHECK(reply.to == "peer-0001");
  CHECK(reply.next_hop == relay);
  CHECK(reply.id == 4);
  // On the wire the destination frame names the peer behind the relay.
  auto frames = reply.encode(concern_fixture::local);
  CHECK(frames[0] == relay);
  CHECK(frames[2] == "peer-0001");
  CHECK(fix.hellos().empty());
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == relay);
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::routed);
  CHECK(fix.wire.routes[0].via == relay);
}

TEST_CASE("a hello through a relay from a peer heard straight within the "
          "heart-beat interval is answered through the relay and leaves it "
          "CONNECTED",
          "[connector]") {
  // Both ends of a link that comes back greet each other while their
  // messages still go round through a relay: a relayed one that left
  // before the greeting must not undo the straight link.
  connector_fixture fix;
  fix.connected_peer("peer-0001", "10.0.0.2", 5001);
  fix.advance(fix.settings->heart_beat_interval);
  fix.deliver(fix.from_wire(relay, "peer-0001", message_kind::request, 4,
                            address_payload("10.0.0.2", 5001)));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.next_hop == relay);
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::connected);
  CHECK(p.via.empty());
  CHECK(fix.wire.routes.empty());
}

TEST_CASE("a hello from an unknown peer through a relay is answered through "
          "the relay and greeted back directly, the peer ROUTED meanwhile",
          "[connector]") {
  connector_fixture fix;
  fix.deliver(fix.from_wire(relay, "peer-0002", message_kind::request, 4,
                            address_payload("10.0.0.3", 5003)));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.to == "peer-0002");
  CHECK(replies[0].msg.next_hop == relay);
  auto hellos = fix.hellos();
  REQUIRE(hellos.size() == 1);
  CHECK(hellos[0].msg.next_hop == "peer-0002");
  REQUIRE(!fix.wire.connects.empty());
  CHECK(fix.wire.connects.back().endpoint == "tcp://10.0.0.3:5003");
  CHECK(fix.wire.connects.back().seq < hellos[0].seq);
  // The dispatcher learnt the way back through the relay.
  auto p = fix.get("peer-0002");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == relay);
  // Whatever becomes of the direct hello, the relay still reaches it.
  fix.dropped(hellos[0]);
  CHECK(fix.get("peer-0002").state == peer_state::routed);
}

TEST_CASE("a hello updates the address of a known peer", "[connector]") {
  connector_fixture fix;
  fix.connected_peer("peer-0001", "10.0.0.2", 5001);
  fix.deliver(fix.from_wire("peer-0001", "", message_kind::request, 3,
                            address_payload("10.0.0.9", 65535)));
  auto p = fix.get("peer-0001");
  CHECK(p.host == "10.0.0.9");
  CHECK(p.port == 65535);
  CHECK(p.state == peer_state::connected);
}

// -- incoming replies ---------------------------------------------------------

TEST_CASE("a hello reply makes the peer CONNECTED", "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.sent(hello);
  fix.wire.clear();
  fix.advance(2s);
  fix.deliver(fix.from_wire("peer-0001", "", message_kind::reply, hello.msg.id,
                            address_payload("10.0.0.2", 5001)));
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::connected);
  CHECK(p.last_heard == fix.now());
  REQUIRE(fix.wire.routes.size() == 1);
  CHECK(fix.wire.routes[0].state == peer_state::connected);
  CHECK(fix.wire.outgoing.empty());
  CHECK(fix.wire.connects.empty());
  // Connected peers are not greeted any more, nor given up.
  fix.advance(60s);
  CHECK(fix.get("peer-0001").state == peer_state::connected);
  CHECK(fix.hellos().empty());
}

TEST_CASE("a hello reply through a relay makes the peer ROUTED",
          "[connector]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  fix.sent(hello);
  fix.deliver(fix.from_wire(relay, "peer-0001", message_kind::reply,
                            hello.msg.id, address_payload("10.0.0.2", 5001)));
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::routed);
  CHECK(p.via == relay);
}

// -- malformed hellos ---------------------------------------------------------

TEST_CASE("a malformed hello is dropped: no state change, nothing sent",
          "[connector]") {
  auto body = GENERATE(
      payload_builder{}.add_integer("port", 5001).build(),
      payload_builder{}.add_string("host", "10.0.0.2").build(),
      payload_builder{}
          .add_string("host", "10.0.0.2")
          .add_string("port", "5001")
          .build(),
      address_payload("10.0.0.2", 0), address_payload("10.0.0.2", -1),
      address_payload("10.0.0.2", 65536), address_payload("10.0.0.2", 70000),
      address_payload("", 5001), payload{});
  auto kind = GENERATE(message_kind::request, message_kind::reply);
  CAPTURE(p2p0mq::to_string(kind));
  connector_fixture fix;
  fix.connected_peer("peer-0001", "10.0.0.1", 5000);
  fix.deliver(fix.from_wire("peer-0001", "", kind, 5, body));
  fix.deliver(fix.from_wire("peer-0002", "", kind, 6, body));
  fix.deliver(fix.from_wire(relay, "peer-0001", kind, 7, body));
  CHECK(fix.wire.empty());
  auto p = fix.get("peer-0001");
  CHECK(p.state == peer_state::connected);
  CHECK(p.host == "10.0.0.1");
  CHECK(p.port == 5000);
  CHECK(fix.lookup("peer-0002").error() == errc::unknown_peer);
}

TEST_CASE("a hello with the extreme ports 1 and 65535 is accepted",
          "[connector]") {
  auto port = GENERATE(1, 65535);
  connector_fixture fix;
  fix.deliver(fix.from_wire("peer-0002", "", message_kind::request, 1,
                            address_payload("10.0.0.3", port)));
  CHECK(fix.get("peer-0002").port == port);
  CHECK(fix.replies().size() == 1);
}

// -- capabilities -------------------------------------------------------------

TEST_CASE("a hello carries what we speak, and the peer's hello tells what it "
          "speaks, and one without it makes a legacy peer",
          "[connector][capabilities]") {
  connector_fixture fix;
  fix.add("peer-0001", "10.0.0.2", 5001);
  auto hello = fix.greeted("peer-0001");
  auto body = p2p0mq::parse_hello_payload(hello.msg.payload);
  REQUIRE(body);
  CHECK(body->speaks.announced);
  CHECK(body->speaks == fix.ctx.speaks);
  CHECK(body->speaks.has(p2p0mq::capability::forward));
  CHECK(body->speaks.has(p2p0mq::capability::reject));
  // Its reply says what it speaks: a C++ peer.
  auto speaks = p2p0mq::capabilities::ours();
  fix.deliver(
      fix.from_wire("peer-0001", "", message_kind::reply, hello.msg.id,
                    p2p0mq::make_hello_payload("10.0.0.2", 5001, speaks)));
  auto p = fix.get("peer-0001");
  REQUIRE(p.speaks);
  CHECK(*p.speaks == speaks);
  CHECK_FALSE(p.legacy());
  CHECK(p.relays());
  // A hello from a Python peer: host and port only.
  fix.deliver(fix.from_wire("python-01", "", message_kind::request, 4,
                            p2p0mq::make_hello_payload("10.0.0.3", 5003)));
  auto py = fix.get("python-01");
  CHECK(py.legacy());
  CHECK_FALSE(py.relays());
  // It is answered all the same (a Python peer reads host and port only).
  REQUIRE(fix.replies().size() == 1);
  CHECK(fix.replies()[0].msg.to == "python-01");
}
