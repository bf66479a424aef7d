#include "p2p0mq/actors/requester.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "support/concern_fixture.hpp"
#include "support/log_capture.hpp"
#include "support/log_levels.hpp"

using namespace std::chrono_literals;
using namespace p2p0mq;
using p2p0mq::testing::concern_fixture;
using p2p0mq::testing::log_capture;
using p2p0mq::testing::sender_record;

namespace {

using answer_slot = std::shared_ptr<std::optional<caf::expected<message>>>;

/// Asks the requester once and keeps the answer.
void caller(caf::event_based_actor* self, answer_slot out,
            requester_actor requester, std::string peer, std::string command,
            payload body, caf::timespan timeout, priority prio) {
  self->request(requester, caf::infinite, request_atom::value, std::move(peer),
                std::move(command), std::move(body), timeout, prio)
      .then([out](message& x) { out->emplace(std::move(x)); },
            [out](caf::error& err) { out->emplace(std::move(err)); });
}

/// What the concern of the test command got.
struct seen {
  std::vector<message> messages;
};

concern_actor::behavior_type recorder(concern_actor::pointer, seen* log) {
  return {
      [log](incoming_atom, std::vector<message>& msgs) {
        for (auto& msg : msgs)
          log->messages.push_back(std::move(msg));
      },
      [](tick_atom) {},
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
      [](changed_atom, const std::vector<peer_change>&) {},
      [](due_atom, due_kind, const std::vector<peer>&) {},
      [](wanted_atom, const std::vector<wanted_route>&) {},
      [](stats_atom) { return concern_counters{}; },
  };
}

constexpr const char* remote = "peer-0001";

/// A concern fixture with the local peer's requester at hand and a recording
/// concern for the command `upper`.
class requester_fixture : public concern_fixture {
public:
  explicit requester_fixture(const std::function<void(config&)>& tune = nullptr)
      : concern_fixture(tune) {
    auto info = p2p0mq::testing::ask<remote_context>(*this, supervisor,
                                                     context_atom::value);
    REQUIRE(info);
    requester = info->requester;
    REQUIRE(requester);
    add_concern("upper", [this](caf::local_actor* parent, concern_context) {
      return parent->spawn(recorder, &upper);
    });
    // The peer asked: a known one, so that requests leave.
    connected_peer(remote);
  }

  /// Starts a request; its answer arrives in the returned slot.
  answer_slot ask(const std::string& peer = remote, caf::timespan timeout = 5s,
                  payload body = payload{}, priority prio = priority::fast) {
    auto out = std::make_shared<std::optional<caf::expected<message>>>();
    sys().spawn(caller, out, requester, peer, std::string{"upper"},
                std::move(body), timeout, prio);
    run();
    return out;
  }

  /// The last message the requester handed to the sender.
  sender_record::outgoing_call last_outgoing() {
    REQUIRE(!wire.outgoing.empty());
    return wire.outgoing.back();
  }

  /// The reply `from` sends to our request `id`, as the receiver decodes it.
  message reply_to(std::uint64_t id, payload body = payload{},
                   const std::string& from = remote) {
    return incoming(from, "upper", message_kind::reply, id, std::move(body));
  }

  requester_actor requester;
  seen upper;
};

payload number(std::int64_t n) {
  return payload_builder{}.add_integer("n", n).build();
}

std::int64_t number_of(const answer_slot& x) {
  REQUIRE(x->has_value());
  REQUIRE(**x);
  auto n = (**x)->payload.get_integer("n");
  REQUIRE(n);
  return *n;
}

caf::error error_of(const answer_slot& x) {
  REQUIRE(x->has_value());
  REQUIRE_FALSE(**x);
  INFO(render((*x)->error()));
  return (*x)->error();
}

} // namespace

TEST_CASE("a request leaves numbered, owned by the requester, with its "
          "priority and a deadline within its timeout",
          "[requester]") {
  requester_fixture fix;
  auto start = fix.now();
  fix.ask(remote, 5s, number(1), priority::slow);
  auto call = fix.last_outgoing();
  CHECK(call.msg.command == "upper");
  CHECK(call.msg.to == remote);
  CHECK(call.msg.source == concern_fixture::local);
  CHECK(call.msg.is_request());
  CHECK(call.msg.id > 0);
  CHECK(call.msg.payload == number(1));
  CHECK(call.prio == priority::slow);
  CHECK(call.msg.deadline == start + 5s);
  CHECK(call.owner.address() == fix.requester.address());
  // A timeout beyond the time-to-live: the deadline is the time-to-live.
  fix.ask(remote, 60s);
  CHECK(fix.last_outgoing().msg.deadline == start + fix.settings->message_ttl);
}

TEST_CASE("replies arriving out of order reach the caller of their request",
          "[requester]") {
  requester_fixture fix;
  auto first = fix.ask();
  auto first_id = fix.last_outgoing().msg.id;
  auto second = fix.ask();
  auto second_id = fix.last_outgoing().msg.id;
  REQUIRE(first_id != second_id);
  fix.deliver(fix.reply_to(second_id, number(2)));
  CHECK_FALSE(first->has_value());
  CHECK(number_of(second) == 2);
  fix.deliver(fix.reply_to(first_id, number(1)));
  CHECK(number_of(first) == 1);
  // Neither went to the concern of the command.
  CHECK(fix.upper.messages.empty());
}

TEST_CASE("a duplicate reply is logged and dropped, and reaches no one",
          "[requester]") {
  auto& log = log_capture::install();
  p2p0mq::testing::log_levels_guard levels;
  set_log_level(log_category::concerns, log_level::info);
  requester_fixture fix;
  auto answer = fix.ask();
  auto id = fix.last_outgoing().msg.id;
  auto mark = log.mark();
  fix.deliver(fix.reply_to(id, number(1)));
  fix.deliver(fix.reply_to(id, number(2)));
  fix.deliver(fix.reply_to(id, number(3)));
  CHECK(number_of(answer) == 1);
  CHECK(fix.upper.messages.empty());
  CHECK(log.count(mark, {"duplicate reply " + std::to_string(id),
                         "from peer-000", "dropped"}) == 2);
}

TEST_CASE("a reply to the request's id from another peer is not the answer",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  auto id = fix.last_outgoing().msg.id;
  fix.deliver(fix.reply_to(id, number(9), "peer-0009"));
  CHECK_FALSE(answer->has_value());
  // It is an ordinary reply of the command.
  REQUIRE(fix.upper.messages.size() == 1);
  CHECK(fix.upper.messages[0].source == "peer-0009");
  fix.deliver(fix.reply_to(id, number(1)));
  CHECK(number_of(answer) == 1);
}

TEST_CASE("no reply within the timeout is request_timeout, in virtual time",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask(remote, 5s);
  auto id = fix.last_outgoing().msg.id;
  fix.advance_time(4999ms);
  CHECK_FALSE(answer->has_value());
  fix.advance_time(1ms);
  auto err = error_of(answer);
  CHECK(err == errc::request_timeout);
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("within 5000 ms"));
  CHECK_THAT(context_of(err),
             Catch::Matchers::Contains("request " + std::to_string(id)));
  // The registration expired with it: a late reply is an ordinary reply of
  // the command, once the dispatcher has swept it away or not.
  fix.advance(1s);
  fix.deliver(fix.reply_to(id, number(1)));
  REQUIRE(fix.upper.messages.size() == 1);
  CHECK(fix.upper.messages[0].id == id);
}

TEST_CASE("a dropped request reaches the caller as the drop's reason",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  auto call = fix.last_outgoing();
  caf::anon_send(call.owner, dropped_atom::value, call.msg,
                 make_error(errc::message_expired, "deadline passed"));
  fix.run();
  auto err = error_of(answer);
  CHECK(err == errc::message_expired);
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("deadline passed"));
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("'upper'"));
  // The timeout that follows changes nothing.
  fix.advance(10s);
  CHECK(error_of(answer) == errc::message_expired);
}

TEST_CASE("a failed send reaches the caller at once and is not tried again",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  auto call = fix.last_outgoing();
  auto again = p2p0mq::testing::ask<bool>(
      fix, call.owner, send_failed_atom::value, call.msg,
      make_error(errc::peer_unreachable, "no connection"));
  REQUIRE(again);
  CHECK_FALSE(*again);
  CHECK(error_of(answer) == errc::peer_unreachable);
  // The sender's drop that follows is only logged.
  caf::anon_send(call.owner, dropped_atom::value, call.msg,
                 make_error(errc::peer_unreachable, "no connection"));
  fix.run();
  CHECK(error_of(answer) == errc::peer_unreachable);
}

TEST_CASE("a rejection reply is the error rejected with its reason",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  auto id = fix.last_outgoing().msg.id;
  fix.deliver(fix.reply_to(
      id,
      payload_builder{}.add_string(rejection_field, "no such key").build()));
  auto err = error_of(answer);
  CHECK(err == errc::rejected);
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("no such key"));
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("by peer-000"));
}

TEST_CASE("a rejection for a command the peer does not serve is the error "
          "unknown_command",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  auto id = fix.last_outgoing().msg.id;
  fix.deliver(
      fix.reply_to(id, make_rejection_payload("no concern serves 'upper'",
                                              unknown_command_code)));
  auto err = error_of(answer);
  CHECK(err == errc::unknown_command);
  CHECK_THAT(context_of(err), Catch::Matchers::Contains("'upper'"));
}

TEST_CASE("a request to a peer nobody knows fails at once with unknown_peer, "
          "unless a CONNECTED peer answers ask-around",
          "[requester]") {
  requester_fixture fix;
  auto before = fix.wire.outgoing.size();
  // The only peer does not answer ask-around (a legacy peer).
  REQUIRE(p2p0mq::testing::ask<peer>(
      fix, fix.peers, learn_atom::value, std::string{remote},
      std::string{"10.0.0.1"}, std::uint16_t{5000}, false, capabilities{}));
  auto answer = fix.ask("stranger-01");
  CHECK(error_of(answer) == errc::unknown_peer);
  CHECK(fix.wire.outgoing.size() == before);
  // A peer that answers questions: the request leaves, and waits in the
  // sender while the ask-around looks for a route.
  fix.connected_peer("asker-0001");
  auto later = fix.ask("stranger-01");
  REQUIRE(fix.wire.outgoing.size() == 1);
  CHECK(fix.last_outgoing().msg.to == "stranger-01");
  CHECK(!later->has_value());
}

TEST_CASE("requests that cannot be made are invalid_request and send nothing",
          "[requester]") {
  requester_fixture fix;
  auto to_self = fix.ask(concern_fixture::local);
  CHECK(error_of(to_self) == errc::invalid_request);
  auto too_short = fix.ask("abc");
  CHECK(error_of(too_short) == errc::invalid_request);
  auto no_time = fix.ask(remote, caf::timespan::zero());
  CHECK(error_of(no_time) == errc::invalid_request);
  auto no_command = std::make_shared<std::optional<caf::expected<message>>>();
  fix.sys().spawn(caller, no_command, fix.requester, std::string{remote},
                  std::string{}, payload{}, caf::timespan{5s}, priority::fast);
  fix.run();
  CHECK(error_of(no_command) == errc::invalid_request);
  CHECK(fix.wire.outgoing.empty());
}

TEST_CASE("callers still waiting when the requester stops get "
          "local_peer_stopped",
          "[requester]") {
  requester_fixture fix;
  auto answer = fix.ask();
  caf::anon_send_exit(fix.requester, caf::exit_reason::user_shutdown);
  fix.run();
  CHECK(error_of(answer) == errc::local_peer_stopped);
}

TEST_CASE("a request sent and forgotten leaves owned by the requester and its "
          "reply goes to the concern of its command",
          "[requester]") {
  requester_fixture fix;
  caf::anon_send(fix.requester, send_atom::value, std::string{remote},
                 std::string{"upper"}, number(4), priority::medium);
  fix.run();
  auto call = fix.last_outgoing();
  CHECK(call.prio == priority::medium);
  CHECK(call.msg.payload == number(4));
  CHECK(call.owner.address() == fix.requester.address());
  // A failed send is tried again.
  auto again =
      p2p0mq::testing::ask<bool>(fix, call.owner, send_failed_atom::value,
                                 call.msg, make_error(errc::peer_unreachable));
  REQUIRE(again);
  CHECK(*again);
  fix.deliver(fix.reply_to(call.msg.id, number(5)));
  REQUIRE(fix.upper.messages.size() == 1);
  CHECK(fix.upper.messages[0].payload == number(5));
}

TEST_CASE("each request times out at its own deadline, one timer serving all",
          "[requester]") {
  requester_fixture fix;
  auto slow = fix.ask(remote, 10s);
  auto fast = fix.ask(remote, 2s);
  auto answered = fix.ask(remote, 1s);
  fix.deliver(fix.reply_to(fix.last_outgoing().msg.id, number(3)));
  CHECK(number_of(answered) == 3);
  fix.advance_time(2s);
  CHECK(error_of(fast) == errc::request_timeout);
  CHECK_FALSE(slow->has_value());
  fix.advance_time(7999ms);
  CHECK_FALSE(slow->has_value());
  fix.advance_time(1ms);
  CHECK(error_of(slow) == errc::request_timeout);
  // A request made after the others timed out gets a timer again.
  auto late = fix.ask(remote, 3s);
  fix.advance_time(3s);
  CHECK(error_of(late) == errc::request_timeout);
}
