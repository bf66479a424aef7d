#include "p2p0mq/send_queues.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "p2p0mq/fifo.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

using namespace std::chrono_literals;
using p2p0mq::message;
using p2p0mq::priority;
using p2p0mq::send_queues;
using p2p0mq::time_point;

namespace {

using id_list = std::vector<std::uint64_t>;

const time_point t0 = time_point{} + 1000s;

/// A message to `to` with id `id`; its command names the priority it is
/// meant for, so tests can tell the queues apart in the output.
message make_msg(std::string to, std::uint64_t id, priority p,
                 time_point deadline = time_point::max()) {
  return p2p0mq::make_request("local-peer", std::move(to),
                              std::string{p2p0mq::to_string(p)}, id,
                              p2p0mq::payload{}, deadline);
}

void push(send_queues& qs, std::string to, std::uint64_t id, priority p,
          time_point deadline = time_point::max()) {
  REQUIRE(qs.push(make_msg(std::move(to), id, p, deadline), p));
}

id_list ids(const std::vector<p2p0mq::queued_message>& xs) {
  id_list result;
  for (const auto& x : xs)
    result.push_back(x.msg.id);
  return result;
}

send_queues::round next_round(send_queues& qs, time_point now = t0) {
  send_queues::round result;
  qs.next_round(now, result);
  return result;
}

/// The priority a message of `make_msg` was meant for.
priority priority_of(const message& x) {
  if (x.command == "fast")
    return priority::fast;
  return x.command == "medium" ? priority::medium : priority::slow;
}

/// The key a medium message is queued under.
std::string destination_of(const message& x) {
  return x.to.empty() ? x.next_hop : x.to;
}

void check_sizes(const send_queues& qs, std::size_t fast, std::size_t medium,
                 std::size_t slow) {
  CHECK(qs.size(priority::fast) == fast);
  CHECK(qs.size(priority::medium) == medium);
  CHECK(qs.size(priority::slow) == slow);
  CHECK(qs.size() == fast + medium + slow);
  CHECK(qs.empty() == (fast + medium + slow == 0));
}

} // namespace

TEST_CASE("priorities have lower-case names", "[send_queues]") {
  CHECK(p2p0mq::to_string(priority::fast) == "fast");
  CHECK(p2p0mq::to_string(priority::medium) == "medium");
  CHECK(p2p0mq::to_string(priority::slow) == "slow");
}

TEST_CASE("new send queues are empty", "[send_queues]") {
  send_queues qs;
  check_sizes(qs, 0, 0, 0);
  CHECK(qs.limit() == 0);
  auto r = next_round(qs);
  CHECK(r.to_send.empty());
  CHECK(r.expired.empty());
}

TEST_CASE("all fast messages leave in one round in the order they came",
          "[send_queues]") {
  send_queues qs;
  for (std::uint64_t i = 1; i <= 5; ++i)
    push(qs, i % 2 == 0 ? "a" : "b", i, priority::fast);
  check_sizes(qs, 5, 0, 0);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{1, 2, 3, 4, 5});
  CHECK(r.expired.empty());
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("medium sends the oldest message of each destination once per "
          "round",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::medium);
  push(qs, "a", 2, priority::medium);
  push(qs, "b", 3, priority::medium);
  push(qs, "a", 4, priority::medium);
  push(qs, "c", 5, priority::medium);
  push(qs, "b", 6, priority::medium);
  check_sizes(qs, 0, 6, 0);
  CHECK(ids(next_round(qs).to_send) == id_list{1, 3, 5});
  check_sizes(qs, 0, 3, 0);
  CHECK(ids(next_round(qs).to_send) == id_list{2, 6});
  check_sizes(qs, 0, 1, 0);
  CHECK(ids(next_round(qs).to_send) == id_list{4});
  check_sizes(qs, 0, 0, 0);
  CHECK(next_round(qs).to_send.empty());
}

TEST_CASE("medium serves every waiting destination in each round, "
          "round-robin",
          "[send_queues]") {
  send_queues qs;
  // "a" has a long backlog; "b" and "c" must not wait behind it.
  for (std::uint64_t i = 1; i <= 10; ++i)
    push(qs, "a", i, priority::medium);
  push(qs, "b", 11, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{1, 11});
  // "b" ran dry and left the line; coming back it queues behind "a".
  push(qs, "c", 12, priority::medium);
  push(qs, "b", 13, priority::medium);
  push(qs, "b", 14, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{2, 12, 13});
  CHECK(ids(next_round(qs).to_send) == id_list{3, 14});
  for (std::uint64_t i = 4; i <= 10; ++i)
    CHECK(ids(next_round(qs).to_send) == id_list{i});
  CHECK(qs.empty());
}

TEST_CASE("a destination that ran dry queues behind the others when it "
          "comes back",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::medium);
  push(qs, "b", 2, priority::medium);
  push(qs, "b", 3, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{1, 2});
  push(qs, "a", 4, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{3, 4});
}

TEST_CASE("a medium message without a final destination is queued under its "
          "next hop",
          "[send_queues]") {
  send_queues qs;
  for (std::uint64_t i = 1; i <= 2; ++i) {
    auto msg = make_msg("", i, priority::medium);
    msg.next_hop = "relay";
    REQUIRE(qs.push(std::move(msg), priority::medium));
  }
  push(qs, "relay", 3, priority::medium);
  push(qs, "other", 4, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{1, 4});
  CHECK(ids(next_round(qs).to_send) == id_list{2});
  CHECK(ids(next_round(qs).to_send) == id_list{3});
}

TEST_CASE("slow sends one message per round", "[send_queues]") {
  send_queues qs;
  for (std::uint64_t i = 1; i <= 3; ++i)
    push(qs, "a", i, priority::slow);
  check_sizes(qs, 0, 0, 3);
  CHECK(ids(next_round(qs).to_send) == id_list{1});
  check_sizes(qs, 0, 0, 2);
  CHECK(ids(next_round(qs).to_send) == id_list{2});
  CHECK(ids(next_round(qs).to_send) == id_list{3});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("a round sends fast, then medium, then slow", "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::slow);
  push(qs, "a", 2, priority::slow);
  push(qs, "a", 3, priority::medium);
  push(qs, "b", 4, priority::medium);
  push(qs, "a", 5, priority::medium);
  push(qs, "a", 6, priority::fast);
  push(qs, "b", 7, priority::fast);
  check_sizes(qs, 2, 3, 2);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{6, 7, 3, 4, 1});
  check_sizes(qs, 0, 1, 1);
  // The next round has no fast messages left.
  push(qs, "c", 8, priority::fast);
  CHECK(ids(next_round(qs).to_send) == id_list{8, 5, 2});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("a message is expired exactly at its deadline", "[send_queues]") {
  for (auto p : {priority::fast, priority::medium, priority::slow}) {
    INFO("priority " << p2p0mq::to_string(p));
    send_queues qs;
    push(qs, "a", 1, p, t0 + 30s);
    auto before = next_round(qs, t0 + 30s - 1ns);
    CHECK(ids(before.to_send) == id_list{1});
    CHECK(before.expired.empty());
    push(qs, "a", 2, p, t0 + 30s);
    auto at = next_round(qs, t0 + 30s);
    CHECK(at.to_send.empty());
    CHECK(ids(at.expired) == id_list{2});
    CHECK(qs.empty());
  }
}

TEST_CASE("expired fast messages come out as expired", "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::fast, t0);
  push(qs, "a", 2, priority::fast);
  push(qs, "a", 3, priority::fast, t0 - 1s);
  push(qs, "a", 4, priority::fast, t0 + 1ns);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{2, 4});
  CHECK(ids(r.expired) == id_list{1, 3});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("expired medium messages do not use up their destination's share",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::medium, t0 - 2s);
  push(qs, "a", 2, priority::medium, t0);
  push(qs, "a", 3, priority::medium);
  push(qs, "a", 4, priority::medium, t0 - 1s);
  push(qs, "b", 5, priority::medium, t0);
  push(qs, "b", 6, priority::medium);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{3, 6});
  CHECK(ids(r.expired) == id_list{1, 2, 5});
  check_sizes(qs, 0, 1, 0);
  // Message 4 expired behind a live one; the next round finds it.
  r = next_round(qs);
  CHECK(r.to_send.empty());
  CHECK(ids(r.expired) == id_list{4});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("a destination whose messages all expired leaves the rotation",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::medium, t0);
  push(qs, "a", 2, priority::medium, t0);
  push(qs, "b", 3, priority::medium);
  push(qs, "b", 4, priority::medium);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{3});
  CHECK(ids(r.expired) == id_list{1, 2});
  check_sizes(qs, 0, 1, 0);
  // "a" comes back behind "b".
  push(qs, "a", 5, priority::medium);
  push(qs, "a", 6, priority::medium);
  CHECK(ids(next_round(qs).to_send) == id_list{4, 5});
  CHECK(ids(next_round(qs).to_send) == id_list{6});
}

TEST_CASE("expired slow messages do not use up the round's slow share",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::slow, t0);
  push(qs, "a", 2, priority::slow, t0 - 5s);
  push(qs, "a", 3, priority::slow);
  push(qs, "a", 4, priority::slow, t0);
  push(qs, "a", 5, priority::slow);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{3});
  CHECK(ids(r.expired) == id_list{1, 2});
  check_sizes(qs, 0, 0, 2);
  r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{5});
  CHECK(ids(r.expired) == id_list{4});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("next_round appends to what the round already holds",
          "[send_queues]") {
  send_queues qs;
  send_queues::round r;
  r.to_send.push_back({make_msg("x", 100, priority::fast), 0});
  r.expired.push_back({make_msg("x", 200, priority::fast), 0});
  push(qs, "a", 1, priority::fast);
  push(qs, "a", 2, priority::fast, t0);
  qs.next_round(t0, r);
  CHECK(ids(r.to_send) == id_list{100, 1});
  CHECK(ids(r.expired) == id_list{200, 2});
  r.clear();
  CHECK(r.to_send.empty());
  CHECK(r.expired.empty());
}

TEST_CASE("take_expired sweeps every queue and keeps the rest in order",
          "[send_queues]") {
  send_queues qs;
  push(qs, "a", 1, priority::fast, t0);
  push(qs, "a", 2, priority::fast);
  push(qs, "a", 3, priority::fast, t0 - 1s);
  push(qs, "a", 4, priority::medium);
  push(qs, "a", 5, priority::medium, t0);
  push(qs, "a", 6, priority::medium);
  push(qs, "b", 7, priority::medium, t0);
  push(qs, "c", 8, priority::medium);
  push(qs, "a", 9, priority::slow, t0);
  push(qs, "a", 10, priority::slow);
  push(qs, "a", 11, priority::slow, t0 + 1s);
  check_sizes(qs, 3, 5, 3);
  std::vector<p2p0mq::queued_message> out;
  qs.take_expired(t0, out);
  auto taken = ids(out);
  CHECK(std::set<std::uint64_t>(taken.begin(), taken.end()) ==
        std::set<std::uint64_t>{1, 3, 5, 7, 9});
  CHECK(taken.size() == 5);
  check_sizes(qs, 1, 3, 2);
  // Nothing else expired now; destination "b" is gone.
  qs.take_expired(t0, out);
  CHECK(out.size() == 5);
  auto r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{2, 4, 8, 10});
  CHECK(r.expired.empty());
  r = next_round(qs);
  CHECK(ids(r.to_send) == id_list{6, 11});
  check_sizes(qs, 0, 0, 0);
}

TEST_CASE("full send queues reject a message and leave it intact",
          "[send_queues]") {
  send_queues qs{3};
  CHECK(qs.limit() == 3);
  push(qs, "a", 1, priority::fast);
  push(qs, "a", 2, priority::medium);
  push(qs, "a", 3, priority::slow);
  for (auto p : {priority::fast, priority::medium, priority::slow}) {
    INFO("priority " << p2p0mq::to_string(p));
    auto msg = make_msg("b", 4, p, t0 + 5s);
    auto copy = msg;
    CHECK_FALSE(qs.push(std::move(msg), p));
    CHECK(msg == copy);
    CHECK(msg.to == "b");
    CHECK(msg.command == p2p0mq::to_string(p));
    check_sizes(qs, 1, 1, 1);
  }
  CHECK(ids(next_round(qs).to_send) == id_list{1, 2, 3});
  push(qs, "b", 4, priority::medium);
  check_sizes(qs, 0, 1, 0);
}

TEST_CASE("send queues without a limit take many messages", "[send_queues]") {
  send_queues qs;
  for (std::uint64_t i = 1; i <= 10000; ++i)
    REQUIRE(qs.push(make_msg("a", i, priority::slow), priority::slow));
  check_sizes(qs, 0, 0, 10000);
}

TEST_CASE("every pushed message leaves the send queues exactly once, sent or "
          "expired",
          "[send_queues]") {
  std::mt19937 rng{20240531};
  auto percent = [&] { return std::uniform_int_distribution<int>{0, 99}(rng); };
  const std::string destinations[] = {"a", "b", "c", "d", "e", "f", ""};
  const priority priorities[] = {priority::fast, priority::medium,
                                 priority::slow};
  send_queues qs{100};
  // What is queued: id -> the message as pushed.
  std::map<std::uint64_t, message> queued;
  std::uint64_t next_id = 1;
  std::size_t sent = 0;
  std::size_t expired = 0;
  std::size_t rejected = 0;
  auto now = t0;
  auto take = [&](const std::vector<p2p0mq::queued_message>& xs) {
    for (const auto& q : xs) {
      const auto& x = q.msg;
      auto i = queued.find(x.id);
      INFO("message " << x.id);
      REQUIRE(i != queued.end()); // neither unknown nor a duplicate
      REQUIRE(x == i->second);    // and unchanged
      REQUIRE(q.tag == x.id);     // its tag came along
      queued.erase(i);
    }
  };
  // The last id sent per queue (medium: per destination), to check order.
  std::map<std::string, std::uint64_t> last_sent;
  auto check_round = [&](const send_queues::round& r) {
    std::set<std::string> medium_destinations;
    int slow = 0;
    auto phase = priority::fast;
    for (const auto& q : r.to_send) {
      const auto& x = q.msg;
      INFO("message " << x.id << " to '" << x.to << "' " << x.command);
      REQUIRE_FALSE(x.expired(now));
      auto p = priority_of(x);
      REQUIRE(p >= phase); // fast, then medium, then slow
      phase = p;
      auto queue = x.command;
      if (p == priority::medium) {
        queue += "/" + destination_of(x);
        REQUIRE(medium_destinations.insert(destination_of(x)).second);
      }
      if (p == priority::slow)
        REQUIRE(++slow == 1);
      REQUIRE(last_sent[queue] < x.id); // oldest first
      last_sent[queue] = x.id;
    }
    for (const auto& x : r.expired)
      REQUIRE(x.msg.expired(now));
  };
  for (int step = 0; step < 20000; ++step) {
    // Busy phases fill the queues up to their limit, calm ones drain them.
    auto push_share = (step / 500) % 2 == 0 ? 90 : 50;
    auto dice = percent();
    if (dice < push_share) {
      auto p = priorities[std::uniform_int_distribution<int>{0, 2}(rng)];
      auto& to = destinations[std::uniform_int_distribution<int>{0, 6}(rng)];
      auto deadline =
          percent() < 30
              ? time_point::max()
              : now + std::chrono::milliseconds{
                          std::uniform_int_distribution<int>{0, 5000}(rng)};
      auto msg = make_msg(to, next_id, p, deadline);
      if (to.empty())
        msg.next_hop = "relay";
      auto copy = msg;
      auto full = qs.size() == qs.limit();
      if (qs.push(std::move(msg), p, next_id)) {
        REQUIRE_FALSE(full);
        queued.emplace(next_id, std::move(copy));
      } else {
        REQUIRE(full);
        REQUIRE(msg == copy);
        ++rejected;
      }
      ++next_id;
    } else if (dice < 97) {
      now += std::chrono::milliseconds{
          std::uniform_int_distribution<int>{0, 200}(rng)};
      auto r = next_round(qs, now);
      check_round(r);
      REQUIRE(qs.size(priority::fast) == 0);
      sent += r.to_send.size();
      expired += r.expired.size();
      take(r.to_send);
      take(r.expired);
    } else {
      std::vector<p2p0mq::queued_message> out;
      qs.take_expired(now, out);
      for (const auto& x : out)
        REQUIRE(x.msg.expired(now));
      expired += out.size();
      take(out);
    }
    REQUIRE(qs.size() == queued.size());
    REQUIRE(qs.size(priority::fast) + qs.size(priority::medium) +
                qs.size(priority::slow) ==
            qs.size());
  }
  // Drain: every round sends or expires at least one message.
  while (!qs.empty()) {
    auto before = qs.size();
    auto r = next_round(qs, now);
    check_round(r);
    sent += r.to_send.size();
    expired += r.expired.size();
    take(r.to_send);
    take(r.expired);
    REQUIRE(qs.size() < before);
  }
  CHECK(queued.empty());
  CHECK(sent + expired + rejected == next_id - 1);
  // The run exercised every path.
  CHECK(sent > 1000);
  CHECK(expired > 1000);
  CHECK(rejected > 0);
}

// -- fifo ---------------------------------------------------------------------

TEST_CASE("a fifo keeps order through pushes, pops and a tail erase, "
          "and is usable again once emptied",
          "[fifo]") {
  p2p0mq::fifo<std::string> q;
  CHECK(q.empty());
  CHECK(q.size() == 0);
  std::vector<std::string> expected;
  std::size_t next_in = 0;
  std::size_t next_out = 0;
  // Interleaved: three in, two out, so the consumed front is dropped now
  // and then while the queue grows.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 3; ++i)
      q.push_back(std::to_string(next_in++));
    for (int i = 0; i < 2; ++i) {
      REQUIRE(q.front() == std::to_string(next_out));
      q.pop_front();
      ++next_out;
    }
    REQUIRE(q.size() == next_in - next_out);
  }
  std::size_t seen = next_out;
  for (auto& x : q)
    CHECK(x == std::to_string(seen++));
  CHECK(seen == next_in);
  // Erasing a tail keeps the front.
  auto middle = q.begin() + 10;
  q.erase_from(middle);
  CHECK(q.size() == 10);
  CHECK(q.front() == std::to_string(next_out));
  while (!q.empty())
    q.pop_front();
  CHECK(q.size() == 0);
  CHECK(q.begin() == q.end());
  q.emplace_back("again");
  CHECK(q.front() == "again");
  q.erase_from(q.begin());
  CHECK(q.empty());
}
