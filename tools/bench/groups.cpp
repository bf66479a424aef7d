#include "bench/groups.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/groups.hpp"
#include "p2p0mq/actors/local_peer.hpp"

namespace p2p0mq::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Counts the publications delivered to one member; tells `main_actor`
/// ("counted", n) when `expected` came.
group_listener_actor::behavior_type
delivery_counter(group_listener_actor::pointer, caf::actor main_actor,
                 std::size_t expected, std::shared_ptr<std::size_t> seen) {
  return {
      [](const group_event&) {},
      [=](const group_message&) {
        if (++*seen == expected)
          caf::anon_send(main_actor, std::string{"counted"}, *seen);
      },
  };
}

/// Counts the requests for its command; tells `main_actor` when `expected`
/// came.
concern_actor::behavior_type
request_counter(concern_actor::pointer, caf::actor main_actor,
                std::size_t expected, std::shared_ptr<std::size_t> seen) {
  return {
      [=](incoming_atom, const std::vector<message>& msgs) {
        auto before = *seen;
        *seen += msgs.size();
        if (before < expected && *seen >= expected)
          caf::anon_send(main_actor, std::string{"counted"}, *seen);
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

owner_actor::behavior_type quiet_owner(owner_actor::pointer) {
  return {
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
  };
}

/// Waits for `n` ("counted", x) messages, at most two minutes in all;
/// returns how many came.
std::size_t await_counts(caf::scoped_actor& self, std::size_t n) {
  std::size_t done = 0;
  auto deadline = clock_type::now() + 120s;
  while (done < n && clock_type::now() < deadline)
    self->receive([&](const std::string&, std::size_t) { ++done; },
                  caf::after(deadline - clock_type::now()) >> [] {});
  return done;
}

} // namespace

group_rates measure_group_rates(caf::actor_system& sys, const config& base,
                                std::size_t members, std::size_t publications,
                                const payload& body) {
  group_rates result;
  result.members = members;
  result.publications = publications;
  auto context = std::make_shared<zmq::context_t>(1);
  auto settings = base;
  settings.encryption = false;
  settings.send_queue_limit = 0;
  settings.uuid = "bench-publisher";
  std::vector<std::unique_ptr<local_peer>> peers;
  peers.push_back(std::make_unique<local_peer>(sys, settings, context));
  for (std::size_t i = 0; i < members; ++i) {
    settings.uuid = "bench-member-" + std::to_string(i);
    peers.push_back(std::make_unique<local_peer>(sys, settings, context));
  }
  auto stop_all = [&] {
    for (auto& p : peers)
      p->stop();
  };
  for (auto& p : peers)
    if (p->use_groups() || p->start()) {
      std::fprintf(stderr, "a group peer did not start\n");
      stop_all();
      return result;
    }
  auto& publisher = *peers[0];
  caf::scoped_actor self{sys};
  auto main_actor = caf::actor_cast<caf::actor>(self);
  std::vector<std::shared_ptr<std::size_t>> seen;
  std::vector<group_listener_actor> listeners;
  for (std::size_t i = 1; i <= members; ++i) {
    auto& m = *peers[i];
    publisher.add_peer(m.uuid(), "127.0.0.1", m.port());
    seen.push_back(std::make_shared<std::size_t>(0));
    listeners.push_back(
        sys.spawn(delivery_counter, main_actor, publications, seen.back()));
    caf::anon_send(m.groups(), subscribe_atom::value, listeners.back());
    m.join("bench");
    auto counted = std::make_shared<std::size_t>(0);
    seen.push_back(counted);
    m.add_concern("bench", [=](caf::local_actor* parent, concern_context) {
      return parent->spawn(request_counter, main_actor, publications, counted);
    });
  }
  // Every member known to the publisher.
  auto known = [&] {
    auto view = publisher.groups_now();
    return view && view->count("bench") > 0 &&
           view->at("bench").size() == members;
  };
  for (auto deadline = clock_type::now() + 20s;
       !known() && clock_type::now() < deadline;)
    self->receive(caf::after(10ms) >> [] {});
  if (!known()) {
    std::fprintf(stderr, "the group did not form\n");
    for (auto& l : listeners)
      caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
    stop_all();
    return result;
  }
  // Published.
  auto t0 = clock_type::now();
  for (std::size_t k = 0; k < publications; ++k)
    caf::anon_send(publisher.groups(), publish_atom::value,
                   std::string{"bench"}, body);
  auto done = await_counts(self, members);
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (done == members)
    result.group = publications / secs;
  // One by one.
  auto sink = sys.spawn(quiet_owner);
  t0 = clock_type::now();
  for (std::size_t k = 0; k < publications; ++k)
    for (std::size_t i = 1; i <= members; ++i)
      publisher.send(publisher.context().make_request(peers[i]->uuid(), "bench",
                                                      body, clock_type::now()),
                     priority::fast, sink);
  done = await_counts(self, members);
  secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (done == members)
    result.one_by_one = publications / secs;
  for (auto& x : seen)
    result.missing += publications - *x;
  self->request(publisher.groups(), 5s, stats_atom::value)
      .receive(
          [&](concern_counters& xs) {
            result.retransmitted = xs["retransmitted"];
          },
          [](caf::error&) {});
  for (auto& l : listeners)
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  stop_all();
  return result;
}

} // namespace p2p0mq::bench
