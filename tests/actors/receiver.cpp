#include "p2p0mq/actors/receiver.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
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
/// "dispatcher" is the test's scoped actor, and a DEALER client that plays a
/// remote peer. `before_start` runs once the client is connected and before
/// the receiver starts: what it sends is waiting in the socket when the
/// receiver first looks.
struct receiver_fixture {
  explicit receiver_fixture(
      std::shared_ptr<receive_credit> credit = nullptr,
      const std::function<void(receiver_fixture&)>& before_start = nullptr,
      log_limits logging = {},
      const std::function<caf::actor(caf::actor_system&)>& make_dispatcher =
          nullptr,
      std::size_t inline_resumes = 256)
      : sys(cfg), self(sys) {
    zmq::socket_t server{context, zmq::socket_type::router};
    server.set(zmq::sockopt::routing_id, zmq::str_buffer("local-uuid"));
    server.bind("inproc://receiver-test");
    server.bind("tcp://127.0.0.1:*");
    tcp_endpoint = server.get(zmq::sockopt::last_endpoint);
    client.set(zmq::sockopt::routing_id, zmq::str_buffer("remote-uuid"));
    client.set(zmq::sockopt::linger, 0);
    // No high-water mark: a test may queue thousands of messages before
    // the receiver reads.
    client.set(zmq::sockopt::sndhwm, 0);
    client.connect("inproc://receiver-test");
    if (before_start)
      before_start(*this);
    receiver_options opts;
    opts.credit = std::move(credit);
    opts.logging = logging;
    opts.inline_resumes = inline_resumes;
    auto dispatcher = make_dispatcher ? make_dispatcher(sys)
                                      : caf::actor_cast<caf::actor>(self);
    rec = spawn_receiver(sys, std::move(server), "local-uuid",
                         caf::actor_cast<dispatcher_actor>(dispatcher),
                         std::move(opts));
  }

  ~receiver_fixture() {
    rec.stop();
    self->wait_for(rec.handle());
  }

  /// Sends a message as a remote peer's sender would (frame 0 is added by
  /// the receiving ROUTER). With `wait` false, gives up at once when no
  /// connection takes it (the receiver's socket is closed) and returns
  /// whether it went.
  bool send(const std::vector<std::string>& parts, bool wait = true) {
    auto last = wait ? zmq::send_flags::none : zmq::send_flags::dontwait;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto more = i + 1 < parts.size();
      if (!client.send(zmq::buffer(parts[i]),
                       more ? last | zmq::send_flags::sndmore : last))
        return false;
    }
    return true;
  }

  /// The next batch, or an empty one when none came within 10 s.
  std::vector<message> next_batch() {
    std::vector<message> result;
    self->receive(
        [&](incoming_atom, std::vector<message>& batch) {
          result = std::move(batch);
        },
        caf::after(10s) >> [] {});
    return result;
  }

  /// Whether a batch is in the mailbox now (without waiting).
  bool batch_waiting() {
    bool came = false;
    self->receive([&](incoming_atom, std::vector<message>&) { came = true; },
                  caf::after(0s) >> [] {});
    return came;
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

/// `x` as msgpack writes an unsigned integer (positive fixint, uint8 or
/// uint16).
std::string msgpack_uint(std::uint16_t x) {
  if (x < 128)
    return std::string(1, static_cast<char>(x));
  if (x < 256)
    return std::string{"\xcc"} + static_cast<char>(x);
  return std::string{"\xcd"} + static_cast<char>(x >> 8) +
         static_cast<char>(x & 0xff);
}

/// Ends the actors a test spawns beside its fixture when the test ends, a
/// failed `REQUIRE` included: before the fixture's actor system, which
/// waits for every actor.
struct ends_with_test {
  std::vector<caf::actor> actors;

  ~ends_with_test() {
    for (auto& x : actors)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  }

  /// Waits until each actor answered a `get_atom` request and then went
  /// back to waiting: its mailbox is marked blocked, so the next message
  /// wakes it (an actor that has just answered may still be inside its
  /// resume, and would take the next message there). Returns how many did.
  std::size_t await_idle(caf::scoped_actor& self) {
    std::size_t idle = 0;
    for (auto& x : actors) {
      bool answered = false;
      self->request(x, caf::infinite, get_atom::value)
          .receive([&](bool) { answered = true; }, [](caf::error&) {});
      auto* actor = dynamic_cast<caf::scheduled_actor*>(
          caf::actor_cast<caf::abstract_actor*>(x));
      if (answered && actor != nullptr &&
          p2p0mq::testing::wait_until(
              self.home_system(),
              [actor] { return actor->mailbox().blocked(); }, 10s,
              std::chrono::milliseconds{1}))
        ++idle;
    }
    return idle;
  }
};

std::vector<std::string> hb_request(std::uint16_t id,
                                    std::string body = "\x80") {
  return {"", "", "\x01", "hb", msgpack_uint(id), std::move(body)};
}

} // namespace

TEST_CASE("the receiver decodes a message and hands it to the dispatcher",
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

TEST_CASE("the receiver runs the actors a batch wakes on its own thread, at "
          "most receiver-inline-resumes a turn, and hands the rest to the "
          "scheduler",
          "[receiver]") {
  auto limit = GENERATE(std::size_t{256}, std::size_t{10});
  // A stand-in dispatcher wakes 300 idle actors; each notes the thread it
  // ran on.
  constexpr std::size_t woken = 300;
  struct threads {
    std::mutex mtx;
    std::thread::id dispatcher;
    std::vector<std::thread::id> woken;
  };
  auto seen = std::make_shared<threads>();
  std::vector<caf::actor> actors;
  caf::actor dispatcher;
  receiver_fixture f{
      nullptr,
      nullptr,
      {},
      [&](caf::actor_system& sys) {
        for (std::size_t i = 0; i < woken; ++i)
          actors.push_back(sys.spawn(
              [](caf::event_based_actor*, std::shared_ptr<threads> notes) {
                return caf::behavior{
                    [](get_atom) { return true; },
                    [notes](caf::ok_atom) {
                      std::lock_guard<std::mutex> guard{notes->mtx};
                      notes->woken.push_back(std::this_thread::get_id());
                    },
                };
              },
              seen));
        dispatcher = sys.spawn(
            [](caf::event_based_actor* self, std::shared_ptr<threads> notes,
               std::vector<caf::actor> to) {
              return caf::behavior{
                  [](get_atom) { return true; },
                  [self, notes, to](incoming_atom,
                                    const std::vector<message>&) {
                    {
                      std::lock_guard<std::mutex> guard{notes->mtx};
                      notes->dispatcher = std::this_thread::get_id();
                    }
                    for (auto& x : to)
                      self->send(x, caf::ok_atom::value);
                  },
              };
            },
            seen, actors);
        return dispatcher;
      },
      limit};
  ends_with_test spawned{actors};
  spawned.actors.push_back(dispatcher);
  // Every actor is started and idle before the message comes.
  REQUIRE(spawned.await_idle(f.self) == woken + 1);
  REQUIRE(f.send(hb_request(1)));
  REQUIRE(p2p0mq::testing::wait_until(
      f.sys,
      [&] {
        std::lock_guard<std::mutex> guard{seen->mtx};
        return seen->woken.size() == woken;
      },
      10s));
  std::lock_guard<std::mutex> guard{seen->mtx};
  auto on_its_thread =
      std::count(seen->woken.begin(), seen->woken.end(), seen->dispatcher);
  // The dispatcher was the first of the turn's resumes; the actors left ran
  // on workers.
  CHECK(on_its_thread == static_cast<std::ptrdiff_t>(limit) - 1);
}

TEST_CASE("after a turn that read more than 8 messages the dispatcher runs "
          "on a worker, after a light one on the receiver's thread",
          "[receiver]") {
  // The stand-in dispatcher notes the thread of each batch it handles.
  struct threads {
    std::mutex mtx;
    std::vector<std::pair<std::size_t, std::thread::id>> batches;
  };
  auto seen = std::make_shared<threads>();
  caf::actor dispatcher;
  receiver_fixture f{
      nullptr,
      // 100 messages wait when the receiver first looks: one heavy turn.
      [](receiver_fixture& fix) {
        for (int i = 1; i <= 100; ++i)
          fix.send(hb_request(static_cast<std::uint16_t>(i)));
      },
      {},
      [&](caf::actor_system& sys) {
        dispatcher = sys.spawn(
            [](caf::event_based_actor*, std::shared_ptr<threads> notes) {
              return caf::behavior{
                  [](get_atom) { return true; },
                  [notes](incoming_atom, const std::vector<message>& batch) {
                    std::lock_guard<std::mutex> guard{notes->mtx};
                    notes->batches.emplace_back(batch.size(),
                                                std::this_thread::get_id());
                  },
              };
            },
            seen);
        return dispatcher;
      }};
  ends_with_test spawned{{dispatcher}};
  // Waits until the dispatcher handled `n` batches, then until it answers
  // a request: it is idle again when the next message comes.
  auto handled = [&](std::size_t n) {
    auto done = p2p0mq::testing::wait_until(
        f.sys,
        [&] {
          std::lock_guard<std::mutex> guard{seen->mtx};
          return seen->batches.size() == n;
        },
        10s);
    return done && spawned.await_idle(f.self) == 1;
  };
  REQUIRE(handled(1));
  // Two light turns, one message each: the dispatcher handles each before
  // the receiver reads the next.
  REQUIRE(f.send(hb_request(101)));
  REQUIRE(handled(2));
  REQUIRE(f.send(hb_request(102)));
  REQUIRE(handled(3));
  std::lock_guard<std::mutex> guard{seen->mtx};
  auto& [heavy_size, heavy_thread] = seen->batches[0];
  CHECK(heavy_size == 100);
  CHECK(seen->batches[1].first == 1);
  CHECK(seen->batches[2].first == 1);
  // Both light turns ran the dispatcher on one thread, the receiver's; the
  // heavy one on a worker.
  CHECK(seen->batches[1].second == seen->batches[2].second);
  CHECK(heavy_thread != seen->batches[1].second);
}

TEST_CASE("an actor the receiver woke that others keep busy does not keep "
          "the receiver from its socket",
          "[receiver]") {
  // The stand-in dispatcher wakes an actor that sends itself a message for
  // each it handles, for ever: run without a bound, it would hold the
  // receiver's thread, and the second message would never be read.
  std::atomic<std::uint64_t> spins{0};
  std::atomic<int> batches{0};
  caf::actor busy;
  caf::actor dispatcher;
  receiver_fixture f{
      nullptr, nullptr, {}, [&](caf::actor_system& sys) {
        busy = sys.spawn(
            [](caf::event_based_actor* self, std::atomic<std::uint64_t>* spun) {
              return caf::behavior{
                  [](get_atom) { return true; },
                  [self, spun](tick_atom) {
                    ++*spun;
                    self->send(self, tick_atom::value);
                  },
              };
            },
            &spins);
        dispatcher = sys.spawn(
            [](caf::event_based_actor* self, std::atomic<int>* handled,
               caf::actor to) {
              return caf::behavior{
                  [](get_atom) { return true; },
                  [self, handled, to](incoming_atom,
                                      const std::vector<message>&) {
                    if (++*handled == 1)
                      self->send(to, tick_atom::value);
                  },
              };
            },
            &batches, busy);
        return dispatcher;
      }};
  ends_with_test spawned{{busy, dispatcher}};
  REQUIRE(spawned.await_idle(f.self) == 2);
  REQUIRE(f.send(hb_request(1)));
  REQUIRE(p2p0mq::testing::wait_until(
      f.sys, [&] { return spins.load() > 0; }, 10s));
  REQUIRE(f.send(hb_request(2)));
  CHECK(p2p0mq::testing::wait_until(
      f.sys, [&] { return batches.load() == 2; }, 10s));
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

TEST_CASE("a stopped receiver ends its thread and reads nothing more, and "
          "stop is idempotent",
          "[receiver]") {
  receiver_fixture fix;
  fix.send(hb_request(1));
  REQUIRE(fix.receive(1).size() == 1);
  fix.rec.stop();
  fix.rec.stop();
  fix.self->wait_for(fix.rec.handle());
  // The thread is gone and the socket closed: this one, if the closing
  // connection still takes it, stays unread.
  fix.send(hb_request(2), false);
  CHECK(fix.rec.received() == 1);
  CHECK_FALSE(fix.batch_waiting());
}

TEST_CASE("the receiver hands over batches of at most 1024 messages",
          "[receiver]") {
  // 2500 messages wait in the socket before the receiver first reads.
  constexpr std::uint16_t sent = 2500;
  receiver_fixture fix{nullptr, [](receiver_fixture& f) {
                         for (std::uint16_t i = 1; i <= sent; ++i)
                           f.send(hb_request(i));
                       }};
  std::vector<std::size_t> sizes;
  std::uint64_t next_id = 1;
  while (next_id <= sent) {
    auto batch = fix.next_batch();
    REQUIRE_FALSE(batch.empty());
    sizes.push_back(batch.size());
    for (auto& msg : batch)
      CHECK(msg.id == next_id++);
  }
  CHECK(sizes == std::vector<std::size_t>{1024, 1024, 452});
  CHECK(fix.rec.received() == sent);
}

TEST_CASE("the receiver ends a batch with the message that brings its frames "
          "to 4 MiB",
          "[receiver]") {
  // Messages of about 100 KiB each wait in the socket before the receiver
  // first reads.
  constexpr std::uint16_t sent = 60;
  auto body = payload_builder{}
                  .add_bytes("blob", std::string(100 * 1024, 'b'))
                  .build()
                  .bytes();
  // The frames the receiver sees of one message: the routing id the ROUTER
  // adds ("remote-uuid"), then the six the client sends.
  std::size_t per_message = std::string{"remote-uuid"}.size();
  for (auto& part : hb_request(1, body))
    per_message += part.size();
  std::size_t first = 0;
  for (std::size_t bytes = 0; bytes < (std::size_t{4} << 20); ++first)
    bytes += per_message;
  REQUIRE(first == 41);
  receiver_fixture fix{nullptr, [&](receiver_fixture& f) {
                         for (std::uint16_t i = 1; i <= sent; ++i)
                           f.send(hb_request(i, body));
                       }};
  auto one = fix.next_batch();
  auto two = fix.next_batch();
  CHECK(one.size() == first);
  CHECK(two.size() == sent - first);
  REQUIRE_FALSE(two.empty());
  CHECK(two.front().id == first + 1);
  CHECK(two.back().id == sent);
  CHECK(fix.rec.received() == sent);
}

TEST_CASE("the receiver reads nothing while the dispatcher holds as many "
          "unprocessed batches as its credit allows, and goes on when one is "
          "given back",
          "[receiver]") {
  // 2050 messages wait before the receiver first reads: two full batches
  // use up a credit of 2, and the last two stay in the socket.
  constexpr std::uint16_t sent = 2050;
  auto credit = std::make_shared<receive_credit>(2);
  receiver_fixture fix{credit, [](receiver_fixture& f) {
                         for (std::uint16_t i = 1; i <= sent; ++i)
                           f.send(hb_request(i));
                       }};
  CHECK(fix.next_batch().size() == 1024);
  CHECK(fix.next_batch().size() == 1024);
  // The receiver pauses once it handed the second over, and has read
  // nothing more when it does.
  REQUIRE(p2p0mq::testing::wait_until(
      fix.sys, [&] { return credit->pauses() == 1; }, 10s));
  CHECK(fix.rec.received() == 2048);
  CHECK(credit->pending() == 2);
  CHECK_FALSE(credit->available());
  CHECK_FALSE(fix.batch_waiting());
  // Messages that come meanwhile wait too.
  fix.send(hb_request(sent + 1));
  CHECK(fix.rec.received() == 2048);
  // One batch handled: the receiver reads all that waits in one batch, and
  // pauses again.
  credit->give();
  auto rest = fix.next_batch();
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].id == 2049);
  CHECK(rest[1].id == 2050);
  CHECK(rest[2].id == 2051);
  CHECK(credit->pending() == 2);
  CHECK(p2p0mq::testing::wait_until(
      fix.sys, [&] { return credit->pauses() == 2; }, 10s));
  credit->give();
  credit->give();
  fix.send(hb_request(5));
  REQUIRE(fix.receive(1).size() == 1);
  CHECK(credit->pending() == 1);
  CHECK(fix.rec.received() == sent + 2);
}

TEST_CASE("a receiver stops while its credit is used up", "[receiver]") {
  auto credit = std::make_shared<receive_credit>(1);
  receiver_fixture fix{credit};
  fix.send(hb_request(1));
  REQUIRE(fix.receive(1).size() == 1);
  REQUIRE(p2p0mq::testing::wait_until(
      fix.sys, [&] { return credit->pauses() == 1; }, 10s));
  fix.send(hb_request(2));
  fix.rec.stop();
  fix.self->wait_for(fix.rec.handle());
  CHECK(fix.rec.received() == 1);
  CHECK_FALSE(fix.batch_waiting());
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
  receiver_fixture fix{nullptr, nullptr, log_limits{interval, 4}};
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
