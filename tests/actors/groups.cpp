// Groups on the simulated network: membership spreads to every peer,
// publications reach every member once and in order (also across hops,
// lossy links and late joins), non-members and legacy peers deliver and
// carry nothing, and hostile input changes nothing.
#include "p2p0mq/actors/groups.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/caf_group.hpp"

#include "p2p0mq/errc.hpp"
#include "p2p0mq/field.hpp"
#include "p2p0mq/testing/sim_network.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::group_event;
using p2p0mq::group_event_kind;
using p2p0mq::group_listener_actor;
using p2p0mq::group_message;
using p2p0mq::group_settings;
using p2p0mq::group_view;
using p2p0mq::payload_builder;
using p2p0mq::testing::sim_link;
using p2p0mq::testing::sim_network;
using p2p0mq::testing::sim_options;
using p2p0mq::testing::try_ask;

namespace {

const std::string a = "grp-a-01";
const std::string b = "grp-b-02";
const std::string c = "grp-c-03";
const std::string d = "grp-d-04";
const std::string legacy = "grp-l-05";

/// What one peer's listener heard.
struct inbox {
  std::vector<group_message> messages;
  std::vector<group_event> events;

  /// The numbers of the publications of `publisher` to `group`, in order of
  /// delivery.
  std::vector<std::uint64_t> seqs(const std::string& publisher,
                                  const std::string& group) const {
    std::vector<std::uint64_t> result;
    for (auto& x : messages)
      if (x.publisher == publisher && x.group == group)
        result.push_back(x.seq);
    return result;
  }

  bool heard(group_event_kind what, const std::string& group,
             const std::string& peer) const {
    for (auto& x : events)
      if (x.what == what && x.group == group && x.peer == peer)
        return true;
    return false;
  }
};

group_listener_actor::behavior_type listener(group_listener_actor::pointer,
                                             inbox* box) {
  return {
      [box](const group_event& x) { box->events.push_back(x); },
      [box](const group_message& x) { box->messages.push_back(x); },
  };
}

sim_options with_groups(group_settings cfg = {}) {
  sim_options result;
  result.groups = cfg;
  result.echo = false;
  return result;
}

/// The answer of `uuid`'s group concern to `xs`.
template <class T, class... Ts>
caf::expected<T> ask(sim_network& net, const std::string& uuid, Ts... xs) {
  auto result = try_ask<T>(net, net[uuid].actors.groups(), xs...);
  REQUIRE(result);
  return std::move(*result);
}

bool join(sim_network& net, const std::string& uuid, const std::string& g) {
  auto x = ask<bool>(net, uuid, p2p0mq::join_atom::value, g);
  REQUIRE(x);
  return *x;
}

bool leave(sim_network& net, const std::string& uuid, const std::string& g) {
  auto x = ask<bool>(net, uuid, p2p0mq::leave_atom::value, g);
  REQUIRE(x);
  return *x;
}

std::uint64_t publish(sim_network& net, const std::string& uuid,
                      const std::string& g, std::int64_t i) {
  auto body = payload_builder{}
                  .add_integer("seq", i)
                  .add_string("text", "hello")
                  .build();
  auto x = ask<std::uint64_t>(net, uuid, p2p0mq::publish_atom::value, g, body);
  REQUIRE(x);
  return *x;
}

std::vector<std::string> members(sim_network& net, const std::string& uuid,
                                 const std::string& g) {
  auto x = ask<group_view>(net, uuid, p2p0mq::get_atom::value);
  REQUIRE(x);
  auto i = x->find(g);
  return i == x->end() ? std::vector<std::string>{} : i->second;
}

void subscribe(sim_network& net, const std::string& uuid, inbox& box) {
  auto l = net.sys().spawn(listener, &box);
  auto x = ask<group_view>(net, uuid, p2p0mq::subscribe_atom::value, l);
  REQUIRE(x);
}

std::uint64_t counter(sim_network& net, const std::string& uuid,
                      const std::string& key) {
  auto x = ask<p2p0mq::concern_counters>(net, uuid, p2p0mq::stats_atom::value);
  REQUIRE(x);
  auto i = x->find(key);
  return i == x->end() ? 0 : i->second;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> result;
  for (std::uint64_t i = 1; i <= n; ++i)
    result.push_back(i);
  return result;
}

/// `names` in a line, each told the next, all CONNECTED.
void line_up(sim_network& net, const std::vector<std::string>& names) {
  for (auto& x : names)
    if (!net.has(x))
      net.add(x);
  net.line(names);
  REQUIRE(net.run_until([&] { return net.connected(names); }, 10s));
}

/// Joins `g` and keeps the strings sent to it.
caf::behavior room_reader(caf::event_based_actor* self, caf::group g,
                          std::vector<std::string>* got) {
  self->join(g);
  return {
      [got](const std::string& x) { got->push_back(x); },
  };
}

} // namespace

TEST_CASE("a publication crosses a non-member and reaches the member "
          "once and in order",
          "[groups]") {
  sim_network net{with_groups()};
  line_up(net, {a, b, c});
  inbox at_a, at_b, at_c;
  subscribe(net, a, at_a);
  subscribe(net, b, at_b);
  subscribe(net, c, at_c);
  CHECK(join(net, a, "chat"));
  CHECK(join(net, c, "chat"));
  CHECK_FALSE(join(net, c, "chat"));
  std::vector<std::string> both{a, c};
  REQUIRE(net.run_until([&] { return members(net, a, "chat") == both; }, 2s));
  REQUIRE(members(net, b, "chat") == both);
  CHECK(at_b.heard(group_event_kind::join, "chat", a));
  CHECK(at_b.heard(group_event_kind::join, "chat", c));
  for (int i = 1; i <= 1000; ++i)
    CHECK(publish(net, a, "chat", i) == static_cast<std::uint64_t>(i));
  REQUIRE(net.run_until([&] { return at_c.messages.size() >= 1000; }, 10s));
  net.advance(2s);
  CHECK(at_c.seqs(a, "chat") == one_to(1000));
  CHECK(at_b.messages.empty());
  CHECK(at_a.messages.empty()); // no delivery to the publisher itself
  auto& m = at_c.messages.back();
  CHECK(p2p0mq::field<std::int64_t>(m.body, "seq").value() == 1000);
  CHECK(counter(net, b, "forwarded") >= 1000);
  CHECK(counter(net, b, "delivered") == 0);
}

TEST_CASE("every peer of a network learns a join and a leave, and "
          "a member that goes silent is evasive, then exits",
          "[groups]") {
  group_settings cfg;
  cfg.refresh = 2s;
  cfg.expiry = 7s;
  sim_network net{with_groups(cfg)};
  auto graph = p2p0mq::testing::add_random_network(net, 30, 3, 5);
  REQUIRE(net.run_until([&] { return graph.broken_links(net) == 0; }, 30s));
  auto first = p2p0mq::testing::sim_uuid(0);
  auto last = p2p0mq::testing::sim_uuid(29);
  inbox box;
  subscribe(net, first, box);
  auto t0 = net.now();
  join(net, last, "news");
  auto everyone_knows = [&](const std::vector<std::string>& expected) {
    for (auto& x : net.uuids())
      if (members(net, x, "news") != expected)
        return false;
    return true;
  };
  REQUIRE(net.run_until([&] { return everyone_knows({last}); }, 2s, 10ms));
  CHECK(net.now() - t0 <= 1s);
  CHECK(box.heard(group_event_kind::join, "news", last));
  // Refreshes keep it there.
  net.advance(20s);
  CHECK(everyone_knows({last}));
  leave(net, last, "news");
  REQUIRE(net.run_until([&] { return everyone_knows({}); }, 2s, 10ms));
  CHECK(box.heard(group_event_kind::leave, "news", last));
  // A member that dies exits once its record expires.
  join(net, last, "news");
  REQUIRE(net.run_until([&] { return everyone_knows({last}); }, 2s, 10ms));
  net.kill(last);
  net.advance(5s);
  CHECK(box.heard(group_event_kind::evasive, "news", last));
  CHECK_FALSE(box.heard(group_event_kind::exit, "news", last));
  CHECK(members(net, first, "news") == std::vector<std::string>{last});
  net.advance(5s);
  CHECK(members(net, first, "news").empty());
  CHECK(box.heard(group_event_kind::exit, "news", last));
}

TEST_CASE("no group message goes to or through a legacy peer", "[groups]") {
  sim_network net{with_groups()};
  // a - legacy - c and a - b - c: the legacy peer's way is as short.
  for (auto& x : {a, b, c})
    net.add(x);
  net.add_legacy(legacy);
  net.tell(a, legacy);
  net.tell(legacy, c);
  net.tell(a, b);
  net.tell(b, c);
  REQUIRE(net.run_until(
      [&] {
        return net.connected({a, legacy, c}) && net.connected({a, b, c});
      },
      10s));
  inbox at_c;
  subscribe(net, c, at_c);
  join(net, a, "chat");
  join(net, c, "chat");
  REQUIRE(
      net.run_until([&] { return members(net, a, "chat").size() == 2; }, 2s));
  for (int i = 1; i <= 50; ++i)
    publish(net, a, "chat", i);
  REQUIRE(net.run_until([&] { return at_c.messages.size() >= 50; }, 5s));
  CHECK(at_c.seqs(a, "chat") == one_to(50));
  for (auto& x : net.transfers_of(p2p0mq::group_command, true))
    CHECK((x.from != legacy && x.to() != legacy));
  for (auto& x : net.transfers_of(p2p0mq::group_command, false))
    CHECK((x.from != legacy && x.to() != legacy));
  CHECK(net.traffic(legacy).count(p2p0mq::group_command) == 0);
}

TEST_CASE("over lossy links every publication is delivered once and "
          "in order",
          "[groups]") {
  sim_network net{with_groups()};
  auto graph = p2p0mq::testing::add_random_network(net, 20, 3, 11);
  REQUIRE(net.run_until([&] { return graph.broken_links(net) == 0; }, 30s));
  auto uuid = [](std::size_t i) { return p2p0mq::testing::sim_uuid(i); };
  std::vector<std::string> group{uuid(3), uuid(7), uuid(12), uuid(15),
                                 uuid(19)};
  std::map<std::string, inbox> boxes;
  for (auto& x : group) {
    subscribe(net, x, boxes[x]);
    join(net, x, "lossy");
  }
  REQUIRE(net.run_until(
      [&] { return members(net, uuid(0), "lossy").size() == group.size(); },
      2s));
  sim_link lossy;
  lossy.latency = 1ms;
  lossy.loss = 0.05;
  for (auto [x, y] : graph.links)
    net.set_link(uuid(x), uuid(y), lossy);
  for (int i = 1; i <= 200; ++i) {
    publish(net, uuid(0), "lossy", i);
    net.advance(5ms);
  }
  net.advance(10s);
  for (auto& x : group) {
    INFO(x);
    CHECK(boxes[x].seqs(uuid(0), "lossy") == one_to(200));
  }
  std::uint64_t retransmitted = 0;
  for (auto& x : net.uuids())
    retransmitted += counter(net, x, "retransmitted");
  CHECK(retransmitted > 0);
}

TEST_CASE("a member that joins while traffic flows delivers in order "
          "from its join on",
          "[groups]") {
  sim_network net{with_groups()};
  line_up(net, {a, b, c, d});
  inbox at_d;
  subscribe(net, d, at_d);
  join(net, b, "live");
  REQUIRE(
      net.run_until([&] { return members(net, a, "live").size() == 1; }, 2s));
  for (int i = 1; i <= 100; ++i) {
    if (i == 40)
      join(net, d, "live");
    publish(net, a, "live", i);
    net.advance(10ms);
  }
  net.advance(5s);
  auto got = at_d.seqs(a, "live");
  REQUIRE_FALSE(got.empty());
  CHECK(got.back() == 100);
  CHECK(got.front() <= 45); // known to a within a few links' time
  for (std::size_t i = 1; i < got.size(); ++i)
    CHECK(got[i] == got[i - 1] + 1);
  // After leaving, nothing more.
  leave(net, d, "live");
  REQUIRE(
      net.run_until([&] { return members(net, a, "live").size() == 1; }, 2s));
  publish(net, a, "live", 101);
  net.advance(2s);
  CHECK(at_d.seqs(a, "live").back() == 100);
}

TEST_CASE("bad names and payloads are errors, and hostile group "
          "messages are dropped or carry nothing further",
          "[groups]") {
  sim_network net{with_groups()};
  line_up(net, {a, b});
  auto bad = ask<bool>(net, a, p2p0mq::join_atom::value, std::string{"a b"});
  CHECK(p2p0mq::is(bad.error(), errc::invalid_request));
  auto big =
      payload_builder{}
          .add_bytes("x", std::string(p2p0mq::max_group_payload_size, 'x'))
          .build();
  auto too_big = ask<std::uint64_t>(net, a, p2p0mq::publish_atom::value,
                                    std::string{"chat"}, big);
  CHECK(p2p0mq::is(too_big.error(), errc::invalid_request));
  for (std::size_t i = 0; i < p2p0mq::max_groups_per_peer; ++i)
    CHECK(join(net, a, "g" + std::to_string(i)));
  auto one_more =
      ask<bool>(net, a, p2p0mq::join_atom::value, std::string{"one-more"});
  CHECK(p2p0mq::is(one_more.error(), errc::invalid_request));
  // Hostile input from b: unknown op, a publication for a group with a bad
  // name, records relayed from a non-neighbour claim.
  net.send(b, a, p2p0mq::group_command,
           payload_builder{}.add_string("op", "zz").build());
  net.send(b, a, p2p0mq::group_command,
           payload_builder{}.add_string("op", "p").add_string("g", "").build());
  net.send(b, a, p2p0mq::group_command,
           payload_builder{}.add_string("op", "m").build());
  // A well-formed publication for 100 made-up members: nothing to forward.
  p2p0mq::group_publication fake;
  fake.group = "g1";
  fake.publisher = b;
  fake.incarnation = 1;
  fake.seq = 1;
  fake.hops_left = 10;
  for (int i = 0; i < 100; ++i) {
    fake.targets.push_back("made-up-" + std::to_string(i));
    fake.previous.push_back(0);
  }
  fake.body = payload_builder{}.build().bytes();
  auto forwarded = counter(net, a, "forwarded");
  net.send(b, a, p2p0mq::group_command, p2p0mq::encode_publication(fake));
  net.advance(1s);
  CHECK(counter(net, a, "malformed") == 3);
  CHECK(counter(net, a, "unknown_targets") == 100);
  CHECK(counter(net, a, "forwarded") == forwarded);
  // Still working.
  inbox at_b;
  subscribe(net, b, at_b);
  join(net, b, "g1");
  REQUIRE(net.run_until([&] { return members(net, a, "g1").size() == 2; }, 2s));
  publish(net, a, "g1", 1);
  net.advance(1s);
  CHECK(at_b.seqs(a, "g1") == one_to(1));
}

TEST_CASE("actors that join a CAF group of a p2p0mq group receive what is "
          "sent to it on every member, once and in order",
          "[groups]") {
  sim_network net{with_groups()};
  line_up(net, {a, b, c});
  auto at_a = p2p0mq::make_caf_group(net.sys(), net[a].actors.groups(), "room");
  auto at_c = p2p0mq::make_caf_group(net.sys(), net[c].actors.groups(), "room");
  REQUIRE(at_a);
  REQUIRE(at_c);
  CHECK_FALSE(p2p0mq::make_caf_group(net.sys(), net[a].actors.groups(), "a b"));
  std::vector<std::string> got_a, got_c;
  auto reader_a = net.sys().spawn(room_reader, *at_a, &got_a);
  auto reader_c = net.sys().spawn(room_reader, *at_c, &got_c);
  // Ends the readers and the groups' forwarders also when a check fails,
  // before the network goes.
  struct cleanup {
    std::vector<caf::actor> readers;
    std::vector<caf::group> groups;
    ~cleanup() {
      for (auto& x : readers)
        caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      for (auto& g : groups)
        g.get()->stop();
    }
  } guard{{reader_a, reader_c}, {*at_a, *at_c}};
  // Joining the CAF group joins the p2p0mq group.
  std::vector<std::string> both{a, c};
  REQUIRE(net.run_until([&] { return members(net, b, "room") == both; }, 2s));
  for (int i = 1; i <= 100; ++i)
    caf::anon_send(*at_a, "line " + std::to_string(i));
  net.advance(1s);
  std::vector<std::string> expected;
  for (int i = 1; i <= 100; ++i)
    expected.push_back("line " + std::to_string(i));
  CHECK(got_c == expected);
  CHECK(got_a == expected); // the sender's own subscribers too
  // The last subscriber leaving leaves the p2p0mq group.
  caf::anon_send_exit(reader_c, caf::exit_reason::user_shutdown);
  std::vector<std::string> only_a{a};
  REQUIRE(net.run_until([&] { return members(net, b, "room") == only_a; }, 2s));
}
