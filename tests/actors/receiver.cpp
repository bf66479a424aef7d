#include "p2p0mq/actors/receiver.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/payload.hpp"
#include "support/log_capture.hpp"
#include "support/wait.hpp"

using namespace p2p0mq;
using namespace std::chrono_literals;

namespace {

/// A receiver on an inproc ROUTER (listening on 127.0.0.1 too) whose
/// "dispatcher" is the test's scoped actor,
/// and a DEALER client that plays a remote peer.
struct receiver_fixture {
  explicit receiver_fixture(std::shared_ptr<receive_credit> credit = nullptr,
                            log_limits logging = {})
      : sys(cfg), self(sys) {
    zmq::socket_t server{context, zmq::socket_type::router};
    server.set(zmq::sockopt::routing_id, zmq::str_buffer("local-uuid"));
    server.bind("inproc://receiver-test");
    server.bind("tcp://127.0.0.1:*");
    tcp_endpoint = server.get(zmq::sockopt::last_endpoint);
    receiver_options opts;
    opts.credit = std::move(credit);
    opts.logging = logging;
    rec = spawn_receiver(sys, std::move(server), "local-uuid",
                         caf::actor_cast<dispatcher_actor>(self),
                         std::move(opts));
    client.set(zmq::sockopt::routing_id, zmq::str_buffer("remote-uuid"));
    client.set(zmq::sockopt::linger, 0);
    client.connect("inproc://receiver-test");
  }

  ~receiver_fixture() {
    rec.stop();
    self->wait_for(rec.handle());
  }

  /// Sends a message as a remote peer's sender would (frame 0 is added by
  /// the receiving ROUTER).
  void send(const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      client.send(zmq::buffer(parts[i]), i + 1 < parts.size()
                                             ? zmq::send_flags::sndmore
                                             : zmq::send_flags::none);
  }

  /// Receives decoded messages until `n` arrived or 5 s passed.
  std::vector<message> receive(std::size_t n) {
    std::vector<message> result;
    bool timed_out = false;
    while (result.size() < n && !timed_out)
      self->receive(
          [&](incoming_atom, std::vector<message>& batch) {
            for (auto& msg : batch)
              result.emplace_back(std::move(msg));
          },
          caf::after(5s) >> [&] { timed_out = true; });
    return result;
  }

  system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  zmq::context_t context{1};
  zmq::socket_t client{context, zmq::socket_type::dealer};
  /// The receiver's socket listens there too.
  std::string tcp_endpoint;
  receiver rec;
};

std::vector<std::string> hb_request(std::uint8_t id) {
  return {"", "", "\x01", "hb", std::string(1, static_cast<char>(id)), "\x80"};
}

} // namespace

TEST_CASE("the receiver decodes a message and hands it to the manager",
          "[receiver]") {
  receiver_fixture fix;
  fix.send(hb_request(7));
  auto got = fix.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].source == "remote-uuid");
  CHECK(got[0].previous_hop == "remote-uuid");
  CHECK(got[0].to == "local-uuid");
  CHECK(got[0].command == "hb");
  CHECK(got[0].id == 7);
  CHECK(got[0].is_request());
  CHECK(fix.rec.received() == 1);
}

TEST_CASE("the receiver keeps the order of a burst of messages", "[receiver]") {
  receiver_fixture fix;
  for (int i = 1; i <= 100; ++i)
    fix.send(hb_request(static_cast<std::uint8_t>(i)));
  auto got = fix.receive(100);
  REQUIRE(got.size() == 100);
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i].id == i + 1);
}

TEST_CASE("the receiver drops malformed messages and goes on", "[receiver]") {
  receiver_fixture fix;
  fix.send({"", "", "\x01", "hb", "\x01"});
  std::vector<std::string> too_many(12, "x");
  fix.send(too_many);
  fix.send({"", "", "\x01", "hb", "\x01", "not msgpack \xc1"});
  fix.send(hb_request(9));
  auto got = fix.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == 9);
  CHECK(fix.rec.malformed() == 3);
  CHECK(fix.rec.received() == 1);
}

TEST_CASE("a stopped receiver ends its thread", "[receiver]") {
  receiver_fixture fix;
  fix.rec.stop();
  fix.rec.stop();
  fix.self->wait_for(fix.rec.handle());
  CHECK(fix.rec.received() == 0);
}

TEST_CASE("the receiver reads nothing while the manager holds as many "
          "unprocessed batches as its credit allows, and goes on when one is "
          "given back",
          "[receiver]") {
  auto credit = std::make_shared<receive_credit>(2);
  receiver_fixture fix{credit};
  // One message at a time, so that each makes a batch of its own.
  fix.send(hb_request(1));
  REQUIRE(fix.receive(1).size() == 1);
  fix.send(hb_request(2));
  REQUIRE(fix.receive(1).size() == 1);
  CHECK(credit->pending() == 2);
  CHECK_FALSE(credit->available());
  // The third stays in the socket: no batch comes within half a second.
  fix.send(hb_request(3));
  fix.send(hb_request(4));
  bool came = false;
  fix.self->receive([&](incoming_atom, std::vector<message>&) { came = true; },
                    caf::after(500ms) >> [] {});
  CHECK_FALSE(came);
  CHECK(fix.rec.received() == 2);
  // One batch handled: the receiver reads the rest in one batch.
  credit->give();
  auto got = fix.receive(2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == 3);
  CHECK(got[1].id == 4);
  CHECK(credit->pending() == 2);
  credit->give();
  credit->give();
  fix.send(hb_request(5));
  REQUIRE(fix.receive(1).size() == 1);
  CHECK(credit->pending() == 1);
}

TEST_CASE("a receiver stops while its credit is used up", "[receiver]") {
  auto credit = std::make_shared<receive_credit>(1);
  receiver_fixture fix{credit};
  fix.send(hb_request(1));
  REQUIRE(fix.receive(1).size() == 1);
  fix.send(hb_request(2));
  fix.rec.stop();
  fix.self->wait_for(fix.rec.handle());
  CHECK(fix.rec.received() == 1);
}

namespace {

/// The count of a summary line: "... dropped 1,234 malformed ..." → 1234.
std::uint64_t summarised(const std::string& line) {
  auto at = line.find("dropped ");
  REQUIRE(at != std::string::npos);
  std::uint64_t result = 0;
  for (auto i = at + 8; i < line.size() && line[i] != ' '; ++i)
    if (line[i] != ',')
      result = result * 10 + static_cast<std::uint64_t>(line[i] - '0');
  return result;
}

} // namespace

TEST_CASE("the receiver logs a client's first malformed message in full, "
          "summarises the rest once per interval, and counts each by reason",
          "[receiver][hostile]") {
  auto& logs = p2p0mq::testing::log_capture::install();
  // A short interval, so that the summaries come while the test runs.
  constexpr auto interval = 300ms;
  receiver_fixture fix{nullptr, log_limits{interval, 4}};
  auto mark = logs.mark();
  constexpr std::uint64_t n = 40000;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    switch (i % 4) {
    case 0:
      fix.send({"", "", "\x01", "hb", "\x01"});
      break;
    case 1:
      fix.send({"", "", "\x03", "hb", "\x01", "\x80"});
      break;
    case 2:
      fix.send({"", "", "\x01", "hb", "\x01", "\xc1"});
      break;
    default:
      fix.send({"", "", "\x01", "hb", "\xa1x", "\x80"});
      break;
    }
  }
  REQUIRE(p2p0mq::testing::wait_until(
      fix.sys, [&] { return fix.rec.malformed() == n; }, 20s));
  // The last summary comes at the end of its interval.
  auto summaries = [&] {
    return logs.lines(mark, {"malformed messages from \"remote-uuid\""});
  };
  auto total = [&] {
    std::uint64_t result = 1; // The first, in full.
    for (auto& line : summaries())
      result += summarised(line);
    return result;
  };
  CHECK(p2p0mq::testing::wait_until(
      fix.sys, [&] { return total() == n; }, 5s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto lines = logs.count(mark, {"\"remote-uuid\""});
  auto intervals = static_cast<std::size_t>(elapsed / interval) + 1;
  std::printf("receiver: %llu malformed messages in %lld ms: %zu lines "
              "(interval %lld ms)\n",
              static_cast<unsigned long long>(n),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed)
                      .count()),
              lines, static_cast<long long>(interval.count()));
  CHECK(logs.count(mark, {"dropped a message of 6 frames from "
                          "\"remote-uuid\""}) == 1);
  CHECK(lines >= 2);
  CHECK(lines <= intervals + 1);
  auto by_reason = fix.rec.malformed_by_reason();
  CHECK(by_reason["bad frame count"] == n / 4);
  CHECK(by_reason["bad kind"] == n / 4);
  CHECK(by_reason["bad payload"] == n / 4);
  CHECK(by_reason["bad message id"] == n / 4);
  CHECK(by_reason["empty command"] == 0);
  // A well-formed message still goes through, and another client's first
  // malformed message is logged in full at once.
  fix.send(hb_request(9));
  auto got = fix.receive(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].id == 9);
  zmq::socket_t other{fix.context, zmq::socket_type::dealer};
  other.set(zmq::sockopt::routing_id, zmq::str_buffer("other-uuid"));
  other.set(zmq::sockopt::linger, 0);
  other.connect("inproc://receiver-test");
  other.send(zmq::str_buffer("x"), zmq::send_flags::none);
  CHECK(p2p0mq::testing::wait_until(
      fix.sys,
      [&] {
        return logs.contains(mark, {"dropped a message of 2 frames from "
                                    "\"other-uuid\""});
      },
      5s));
}

TEST_CASE("a receiver stops at once while a client floods it", "[receiver]") {
  receiver_fixture fix;
  std::atomic<bool> stop{false};
  // Other threads, over TCP, keep the socket full of malformed messages
  // that cost more to read than to send (a payload of 30,000 values and a
  // byte too many): the receiver always finds one more waiting.
  std::string payload = "\x81\xa1x\xdc\x75\x30";
  payload.append(30000, '\xc0');
  payload += '\xc0';
  std::vector<std::thread> floods;
  for (int i = 0; i < 3; ++i)
    floods.emplace_back([&, i] {
      zmq::context_t ctx{1};
      zmq::socket_t evil{ctx, zmq::socket_type::dealer};
      evil.set(zmq::sockopt::routing_id, "flood-" + std::to_string(i));
      evil.set(zmq::sockopt::linger, 0);
      evil.set(zmq::sockopt::sndtimeo, 10);
      evil.connect(fix.tcp_endpoint);
      const std::string head[] = {"", "", "\x01", "hb", "\x01"};
      while (!stop) {
        if (!evil.send(zmq::buffer(head[0]), zmq::send_flags::sndmore))
          continue;
        for (std::size_t j = 1; j < 5; ++j)
          (void)evil.send(zmq::buffer(head[j]), zmq::send_flags::sndmore);
        (void)evil.send(zmq::buffer(payload), zmq::send_flags::none);
      }
    });
  auto flooding = p2p0mq::testing::wait_until(
      fix.sys, [&] { return fix.rec.malformed() > 100; }, 30s);
  bool down = false;
  if (flooding) {
    fix.self->monitor(fix.rec.handle());
    fix.rec.stop();
    fix.self->receive([&](caf::down_msg&) { down = true; },
                      caf::after(5s) >> [] {});
  }
  stop = true;
  for (auto& x : floods)
    x.join();
  REQUIRE(flooding);
  CHECK(down);
}
