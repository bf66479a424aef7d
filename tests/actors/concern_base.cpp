#include "p2p0mq/actors/concern_base.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "support/concern_fixture.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using namespace p2p0mq;
using Catch::Matchers::Contains;
using p2p0mq::testing::concern_fixture;
using p2p0mq::testing::sender_record;

namespace {

constexpr const char* remote = "peer-0001";

/// What the instances of a test concern did, in order.
struct journal {
  std::vector<std::string> events;
  int starts = 0;
  std::vector<caf::error> stop_reasons;
};

std::string upper_case(std::string x) {
  for (auto& c : x)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return x;
}

/// A class-based concern that upper-cases the field "text", throws when
/// asked to, and answers a request with "later" on its next tick (it ticks
/// every second).
class shouter : public concern_base {
public:
  shouter(caf::actor_config& cfg, concern_context ctx, journal* log)
      : concern_base(cfg, std::move(ctx)), log_(log) {
  }

protected:
  void on_start() override {
    ++log_->starts;
    log_->events.push_back("start " + command());
    tick_every(std::chrono::seconds{1});
  }

  void on_tick() override {
    log_->events.push_back("tick");
    if (later_) {
      reply(*later_, payload_builder{}.add_string("text", "LATER").build(),
            priority::slow);
      later_.reset();
    }
  }

  answer on_request(const message& req) override {
    log_->events.push_back("request " + std::to_string(req.id));
    if (req.payload.contains("throw"))
      throw std::runtime_error("asked to throw");
    if (req.payload.contains("later")) {
      later_ = req;
      return no_reply;
    }
    auto text = field<std::string>(req.payload, "text");
    if (!text)
      return text.error();
    return payload_builder{}.add_string("text", upper_case(*text)).build();
  }

  void on_reply(const message& reply) override {
    log_->events.push_back("reply " + std::to_string(reply.id));
  }

  void on_sent(const message& msg) override {
    log_->events.push_back("sent " + std::to_string(msg.id));
  }

  bool on_send_failed(const message& msg, const caf::error&) override {
    log_->events.push_back("failed " + std::to_string(msg.id));
    return false;
  }

  void on_dropped(const message& msg, const caf::error& reason) override {
    log_->events.push_back("dropped " + std::to_string(msg.id) + " " +
                           to_string(static_cast<errc>(reason.code())));
  }

  void on_stop(const caf::error& reason) override {
    log_->events.push_back("stop");
    log_->stop_reasons.push_back(reason);
  }

private:
  journal* log_;
  std::optional<message> later_;
};

class base_fixture : public concern_fixture {
public:
  using concern_fixture::concern_fixture;

  /// A request for `command` from `remote`, as the receiver decodes it.
  message request(std::uint64_t id, payload body,
                  const std::string& command = "shout") {
    return incoming(remote, command, message_kind::request, id,
                    std::move(body));
  }

  /// The replies handed to the sender so far.
  std::vector<sender_record::outgoing_call> replies() {
    std::vector<sender_record::outgoing_call> result;
    for (auto& x : wire.outgoing)
      if (x.msg.is_reply())
        result.push_back(x);
    return result;
  }

  /// The payload field `key` of the last reply.
  std::string last_reply_field(const std::string& key) {
    auto xs = replies();
    REQUIRE(!xs.empty());
    auto text = xs.back().msg.payload.get_string(key);
    REQUIRE(text);
    return *text;
  }
};

payload text(const std::string& x) {
  return payload_builder{}.add_string("text", x).build();
}

/// The field "text" of `x`, or "?".
std::string text_of(const payload& x) {
  auto result = x.get_string("text");
  return result ? *result : "?";
}

} // namespace

// -- class-based form ---------------------------------------------------------

TEST_CASE("a class-based concern goes through its whole life cycle",
          "[concern_base]") {
  journal log; // outlives the concern, which logs its stop
  base_fixture fix;
  fix.add_concern("shout", concern_class<shouter>(&log));
  CHECK(log.events == std::vector<std::string>{"start shout"});
  // A request is answered by its handler's reply.
  fix.deliver(fix.request(7, text("hi there")));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  auto reply = replies[0];
  CHECK(reply.msg.id == 7);
  CHECK(reply.msg.to == remote);
  CHECK(reply.msg.next_hop == remote);
  CHECK(reply.msg.command == "shout");
  CHECK(reply.prio == priority::fast);
  CHECK(fix.last_reply_field("text") == "HI THERE");
  // Ticks, replies and the outcomes of its messages reach their hooks.
  fix.advance(1s);
  fix.deliver(fix.incoming(remote, "shout", message_kind::reply, 8));
  caf::anon_send(reply.owner, sent_atom::value,
                 std::vector<message>{reply.msg});
  auto again =
      p2p0mq::testing::ask<bool>(fix, reply.owner, send_failed_atom::value,
                                 reply.msg, make_error(errc::peer_unreachable));
  REQUIRE(again);
  CHECK_FALSE(*again);
  caf::anon_send(reply.owner, dropped_atom::value, reply.msg,
                 make_error(errc::message_expired));
  fix.run();
  // Removed: it stops.
  caf::anon_send(fix.supervisor, remove_atom::value, std::string{"shout"});
  fix.run();
  CHECK(log.events ==
        std::vector<std::string>{"start shout", "request 7", "tick", "reply 8",
                                 "sent 7", "failed 7",
                                 "dropped 7 message_expired", "stop"});
  REQUIRE(log.stop_reasons.size() == 1);
  CHECK(log.stop_reasons[0] == caf::exit_reason::user_shutdown);
}

TEST_CASE("a request with a missing or mistyped field is rejected with the "
          "field's error",
          "[concern_base]") {
  journal log; // outlives the concern, which logs its stop
  base_fixture fix;
  fix.add_concern("shout", concern_class<shouter>(&log));
  fix.deliver(fix.request(1, payload{}));
  auto why = fix.last_reply_field(rejection_field);
  CHECK_THAT(why, Contains("missing_field"));
  CHECK_THAT(why, Contains("\"text\""));
  fix.deliver(fix.request(2, payload_builder{}.add_integer("text", 5).build()));
  why = fix.last_reply_field(rejection_field);
  CHECK_THAT(why, Contains("wrong_field_type"));
  CHECK(fix.replies().size() == 2);
  CHECK(fix.replies().back().msg.id == 2);
  // The concern keeps running.
  fix.deliver(fix.request(3, text("ok")));
  CHECK(fix.last_reply_field("text") == "OK");
  CHECK(log.starts == 1);
}

TEST_CASE("a concern whose handler throws rejects the request with "
          "concern_failed and is restarted",
          "[concern_base]") {
  journal log; // outlives the concern, which logs its stop
  base_fixture fix;
  fix.add_concern("shout", concern_class<shouter>(&log));
  fix.deliver(
      fix.request(1, payload_builder{}.add_integer("throw", 1).build()));
  auto why = fix.last_reply_field(rejection_field);
  CHECK_THAT(why, Contains("concern_failed"));
  CHECK_THAT(why, Contains("asked to throw"));
  CHECK(log.starts == 2);
  REQUIRE(log.stop_reasons.size() == 1);
  CHECK(log.stop_reasons[0] == errc::concern_failed);
  fix.deliver(fix.request(2, text("again")));
  CHECK(fix.last_reply_field("text") == "AGAIN");
}

TEST_CASE("a concern hands its replies to a batch of requests to the sender "
          "in one batch, in order: a hook that throws ends the batch, and "
          "what it posted before still goes",
          "[concern_base]") {
  journal log;
  base_fixture fix;
  fix.add_concern("shout", concern_class<shouter>(&log));
  fix.wire.clear();
  auto deliver_batch = [&](std::vector<message> xs) {
    caf::anon_send(fix.dispatcher, incoming_atom::value, std::move(xs));
    fix.run();
  };
  deliver_batch({fix.request(1, text("a")), fix.request(2, text("b")),
                 fix.request(3, text("c"))});
  CHECK(fix.wire.batches == std::vector<std::size_t>{3});
  auto xs = fix.replies();
  REQUIRE(xs.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(xs[i].msg.id == i + 1);
    CHECK(xs[i].prio == priority::fast);
  }
  CHECK(text_of(xs[0].msg.payload) == "A");
  CHECK(text_of(xs[2].msg.payload) == "C");
  fix.wire.clear();
  log.events.clear();
  deliver_batch(
      {fix.request(4, text("d")),
       fix.request(5, payload_builder{}.add_integer("throw", 1).build()),
       fix.request(6, text("f"))});
  // The reply to 4 and the rejection of 5, in one batch; 6 was never
  // handled: the concern failed on 5 and was restarted.
  CHECK(fix.wire.batches == std::vector<std::size_t>{2});
  xs = fix.replies();
  REQUIRE(xs.size() == 2);
  CHECK(text_of(xs[0].msg.payload) == "D");
  CHECK(xs[1].msg.id == 5);
  CHECK_THAT(*xs[1].msg.payload.get_string(rejection_field),
             Contains("concern_failed"));
  CHECK(log.events == std::vector<std::string>{"request 4", "request 5", "stop",
                                               "start shout"});
  CHECK(log.starts == 2);
}

TEST_CASE("a handler that answers no_reply replies later", "[concern_base]") {
  journal log; // outlives the concern, which logs its stop
  base_fixture fix;
  fix.add_concern("shout", concern_class<shouter>(&log));
  fix.deliver(
      fix.request(4, payload_builder{}.add_integer("later", 1).build()));
  CHECK(fix.replies().empty());
  fix.advance(1s);
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.id == 4);
  CHECK(replies[0].prio == priority::slow);
  CHECK(fix.last_reply_field("text") == "LATER");
}

TEST_CASE("a concern spawned without a local peer has its messages dropped",
          "[concern_base]") {
  journal log;
  base_fixture fix;
  caf::scoped_actor self{fix.sys()};
  concern_context nowhere;
  nowhere.command = "shout";
  nowhere.settings = fix.settings;
  auto handle = concern_class<shouter>(&log)(self.ptr(), nowhere);
  fix.run();
  caf::anon_send(handle, incoming_atom::value,
                 std::vector<message>{fix.request(9, text("hi"))});
  fix.run();
  CHECK(log.events == std::vector<std::string>{"start shout", "request 9",
                                               "dropped 9 not_started"});
  caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  fix.run();
}

// -- function-based form ------------------------------------------------------

TEST_CASE("a function-based concern runs its handlers, missing ones do what "
          "the base does",
          "[concern_base]") {
  auto log = std::make_shared<journal>();
  base_fixture fix;
  concern_handlers h;
  h.on_start = [log](concern_base& self) {
    log->events.push_back("start " + self.command());
  };
  h.on_request = [log](concern_base&, const message& req) -> answer {
    auto n = field<std::int64_t>(req.payload, "n");
    if (!n)
      return n.error();
    return {payload_builder{}.add_integer("n", *n * 2).build(),
            priority::medium};
  };
  h.on_stop = [log](concern_base&, const caf::error&) {
    log->events.push_back("stop");
  };
  fix.add_concern("double", make_concern(h));
  fix.add_concern("mute", make_concern(concern_handlers{}));
  CHECK(log->events == std::vector<std::string>{"start double"});
  fix.deliver(
      fix.request(1, payload_builder{}.add_integer("n", 21).build(), "double"));
  auto replies = fix.replies();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].msg.payload.get_integer("n") == std::int64_t{42});
  CHECK(replies[0].prio == priority::medium);
  // A concern without a request handler rejects requests.
  fix.deliver(fix.request(2, payload{}, "mute"));
  CHECK_THAT(fix.last_reply_field(rejection_field),
             Contains("takes no requests"));
  caf::anon_send(fix.supervisor, remove_atom::value, std::string{"double"});
  fix.run();
  CHECK(log->events.back() == "stop");
}

TEST_CASE("a concern sends requests of its command and asks other peers "
          "through the requester",
          "[concern_base]") {
  auto log = std::make_shared<journal>();
  base_fixture fix;
  concern_handlers h;
  h.on_tick = [log](concern_base& self) {
    if (!log->events.empty())
      return;
    auto sent = self.send_request(remote, text("ping"), priority::slow);
    log->events.push_back("sent request " + std::to_string(sent.id));
    self.ask(remote, "shout", text("ask"), 5s)
        .then(
            [log](message& reply) {
              log->events.push_back("answer " + text_of(reply.payload));
            },
            [log](caf::error& err) {
              log->events.push_back("error " + render(err));
            });
  };
  h.on_reply = [log](concern_base&, const message& reply) {
    log->events.push_back("reply " + std::to_string(reply.id));
  };
  fix.connected_peer(remote);
  fix.add_concern("asker", make_concern(h));
  fix.advance(1s);
  REQUIRE(fix.wire.outgoing.size() == 2);
  auto own = fix.wire.outgoing[0];
  auto asked = fix.wire.outgoing[1];
  CHECK(own.msg.command == "asker");
  CHECK(own.prio == priority::slow);
  CHECK(asked.msg.command == "shout");
  CHECK(asked.owner.address() != own.owner.address());
  // The reply to its own request comes to on_reply, the answer to `then`.
  fix.deliver(fix.incoming(remote, "asker", message_kind::reply, own.msg.id));
  fix.deliver(fix.incoming(remote, "shout", message_kind::reply, asked.msg.id,
                           text("ASK")));
  CHECK(log->events ==
        std::vector<std::string>{"sent request " + std::to_string(own.msg.id),
                                 "reply " + std::to_string(own.msg.id),
                                 "answer ASK"});
}

// -- timers and news ----------------------------------------------------------

namespace {

/// Records its ticks, and asks for more as its handlers say.
class ticker : public concern_base {
public:
  ticker(caf::actor_config& cfg, concern_context ctx,
         std::vector<p2p0mq::time_point>* ticks)
      : concern_base(cfg, std::move(ctx)), ticks_(ticks) {
  }

  using concern_base::tick_after;
  using concern_base::tick_every;

protected:
  void on_tick() override {
    ticks_->push_back(clock().now());
  }

private:
  std::vector<p2p0mq::time_point>* ticks_;
};

/// The seconds from `t0` of each time in `xs`.
std::vector<double> seconds_since(p2p0mq::time_point t0,
                                  const std::vector<p2p0mq::time_point>& xs) {
  std::vector<double> result;
  for (auto x : xs)
    result.push_back(std::chrono::duration<double>(x - t0).count());
  return result;
}

} // namespace

TEST_CASE("a concern ticks only when it asks: tick_every repeats, tick_after "
          "runs once at the earliest time asked for",
          "[concern_base]") {
  base_fixture fix;
  std::vector<p2p0mq::time_point> ticks;
  auto handle = fix.sys().spawn<ticker>(fix.ctx, &ticks);
  auto& self = *caf::actor_cast<ticker*>(handle);
  auto t0 = fix.now();
  fix.advance(10s);
  CHECK(ticks.empty());
  // Two one-shots: the earlier one wins, the later one is dropped.
  self.tick_after(5s);
  self.tick_after(2s);
  fix.advance(10s);
  CHECK(seconds_since(t0, ticks) == std::vector<double>{12});
  ticks.clear();
  t0 = fix.now();
  self.tick_every(3s);
  fix.advance(10s);
  CHECK(seconds_since(t0, ticks) == std::vector<double>{3, 6, 9});
  // A zero period stops the ticks.
  self.tick_every(0s);
  fix.advance(10s);
  CHECK(ticks.size() == 3);
  caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  fix.run();
}

TEST_CASE("a function-based concern with an on_tick handler ticks every "
          "tick_interval",
          "[concern_base]") {
  base_fixture fix{[](p2p0mq::config& cfg) { cfg.tick_interval = 5s; }};
  auto ticks = std::make_shared<int>(0);
  concern_handlers h;
  h.on_tick = [ticks](concern_base&) { ++*ticks; };
  fix.add_concern("ticking", make_concern(h));
  fix.add_concern("quiet", make_concern(concern_handlers{}));
  fix.advance(4s);
  CHECK(*ticks == 0);
  fix.advance(1s);
  CHECK(*ticks == 1);
  fix.advance(10s);
  CHECK(*ticks == 3);
}

TEST_CASE("a concern that watches the peers sees every peer at once, then "
          "each change, one that takes due work gets it",
          "[concern_base]") {
  base_fixture fix;
  fix.add("peer-0001");
  auto changes = std::make_shared<std::vector<std::string>>();
  auto due = std::make_shared<std::vector<std::string>>();
  concern_handlers h;
  h.on_start = [](concern_base& self) {
    self.watch_peers();
    self.take_due(p2p0mq::due_kind::greeting);
  };
  h.on_peers_changed = [changes](concern_base&,
                                 const std::vector<p2p0mq::peer_change>& xs) {
    for (auto& x : xs)
      changes->push_back(std::to_string(static_cast<int>(x.what)) + " " +
                         x.record.uuid + " " +
                         std::string{to_string(x.record.state)});
  };
  h.on_due = [due](concern_base&, p2p0mq::due_kind kind,
                   const std::vector<peer>& xs) {
    for (auto& x : xs)
      due->push_back(std::string{to_string(kind)} + " " + x.uuid);
  };
  fix.add_concern("watcher", make_concern(h));
  CHECK(*changes == std::vector<std::string>{"0 peer-0001 INITIAL"});
  // Nobody took greetings before: peer-0001 is handed out at once.
  CHECK(*due == std::vector<std::string>{"greeting peer-0001"});
  fix.add("peer-0002");
  REQUIRE(fix.heard(fix.incoming("peer-0001", "hb")));
  CHECK(*changes == std::vector<std::string>{"0 peer-0001 INITIAL",
                                             "0 peer-0002 INITIAL",
                                             "1 peer-0001 CONNECTED"});
  // peer-0001 was heard before its hello told what it speaks: it is greeted
  // once more, to learn that.
  CHECK(*due == std::vector<std::string>{"greeting peer-0001",
                                         "greeting peer-0002",
                                         "greeting peer-0001"});
  REQUIRE(p2p0mq::testing::ask<bool>(fix, fix.peers, p2p0mq::remove_atom::value,
                                     std::string{"peer-0002"}));
  CHECK(changes->back() == "2 peer-0002 INITIAL");
}

// -- loopback -----------------------------------------------------------------

namespace {

struct pair_of_peers {
  pair_of_peers() : sys(cfg) {
    a = start("peer-a-0001");
    b = start("peer-b-0002");
    REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
    auto connected = [&](local_peer& x, local_peer& y) {
      auto p = x.find_peer(y.uuid());
      return p && p->state == peer_state::connected;
    };
    REQUIRE(p2p0mq::testing::wait_until(
        sys, [&] { return connected(*a, *b) && connected(*b, *a); }, 5000ms));
  }

  std::unique_ptr<local_peer> start(const std::string& uuid) {
    auto result = std::make_unique<local_peer>(
        sys, p2p0mq::testing::test_settings(uuid), zmq_context);
    auto err = result->start();
    INFO(render(err));
    REQUIRE(!err);
    return result;
  }

  system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<zmq::context_t> zmq_context =
      std::make_shared<zmq::context_t>(1);
  std::unique_ptr<local_peer> a;
  std::unique_ptr<local_peer> b;
};

} // namespace

TEST_CASE("a local peer asks a concern of another and gets its reply, or the "
          "rejection, or a timeout",
          "[concern_base][loopback]") {
  pair_of_peers net;
  caf::scoped_actor self{net.sys};
  auto listener = caf::actor_cast<caf::actor>(self);
  // Upper-cases "text"; tells the listener of each request.
  auto shout =
      make_concern([listener](concern_base&, const message& req) -> answer {
        caf::anon_send(listener, incoming_atom::value, req);
        auto x = field<std::string>(req.payload, "text");
        if (!x)
          return x.error();
        return text(upper_case(*x));
      });
  REQUIRE(!net.b->add_concern("shout", shout));
  auto requests = 0;
  auto drain = [&] {
    for (auto done = false; !done;)
      self->receive([&](incoming_atom, const message&) { ++requests; },
                    caf::after(0ms) >> [&] { done = true; });
  };
  // Blocking.
  auto reply = net.a->request(net.b->uuid(), "shout", text("abc"), 60s);
  INFO((reply ? "" : render(reply.error())));
  REQUIRE(reply);
  CHECK(reply->payload.get_string("text") == std::string{"ABC"});
  CHECK(reply->source == net.b->uuid());
  // Through a scoped actor's response handle.
  std::string got;
  net.a->request(self, net.b->uuid(), "shout", text("def"), 60s)
      .receive([&](message& x) { got = text_of(x.payload); },
               [&](caf::error& err) { got = render(err); });
  CHECK(got == "DEF");
  // Rejected.
  auto rejected = net.a->request(net.b->uuid(), "shout", payload{}, 60s);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error() == errc::rejected);
  CHECK_THAT(context_of(rejected.error()), Contains("missing_field"));
  // No concern of that command over there: it says so at once.
  auto unanswered = net.a->request(net.b->uuid(), "nobody", payload{}, 60s);
  REQUIRE_FALSE(unanswered);
  CHECK(unanswered.error() == errc::unknown_command);
  CHECK_THAT(context_of(unanswered.error()), Contains("'nobody'"));
  drain();
  CHECK(requests == 3);
  // Fire-and-forget: it arrives, and nobody waits.
  net.a->send(net.b->uuid(), "shout", text("fire"), priority::slow);
  std::string fired;
  self->receive(
      [&](incoming_atom, const message& req) { fired = text_of(req.payload); },
      caf::after(60s) >> [] {});
  CHECK(fired == "fire");
}

TEST_CASE("a local peer that is not started refuses requests with "
          "not_started",
          "[concern_base]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  local_peer idle{sys, p2p0mq::testing::test_settings("idle-0001")};
  auto reply = idle.request("peer-0002", "shout", text("x"), 1s);
  REQUIRE_FALSE(reply);
  CHECK(reply.error() == errc::not_started);
  // Fire-and-forget: logged and dropped.
  idle.send("peer-0002", "shout", text("x"));
  CHECK_FALSE(idle.running());
}
