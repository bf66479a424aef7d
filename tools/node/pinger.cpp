#include "node/pinger.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq::node {

namespace {

/// How often the pinger looks at its clock while it works.
constexpr auto step = std::chrono::milliseconds{50};

struct outstanding {
  int seq;
  time_point sent_at;
};

struct pinger_state {
  static inline const char* name = "p2p0mq.pinger";
  concern_context ctx;
  ping_plan plan;
  caf::actor report_to;
  bool reachable = false;
  /// When the pinger started waiting for the target to become reachable.
  time_point started{};
  /// How the target looked the last time it was not reachable yet.
  std::string last_seen = "unknown: no record of it, no connected peer";
  int next_seq = 1;
  time_point next_send{};
  std::map<std::uint64_t, outstanding> waiting;
  std::vector<double> rtts_ms;
  int lost = 0;
};

using pinger_ptr = pinger_actor::stateful_pointer<pinger_state>;

double ms(duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string fmt_seconds(duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s",
                std::chrono::duration<double>(d).count());
  return buf;
}

/// Prints the statistics, reports the exit code and why to `report_to`, and
/// quits. `why` is empty when every request was answered.
void finish(pinger_ptr self, std::string why) {
  auto& st = self->state;
  auto sent = st.next_seq - 1;
  auto received = static_cast<int>(st.rtts_ms.size());
  std::printf("--- %s echo statistics ---\n",
              short_uuid(st.plan.target).c_str());
  if (sent > 0)
    std::printf("%d requests, %d replies, %.0f%% lost\n", sent, received,
                100.0 * (sent - received) / sent);
  else
    std::printf("0 requests sent\n");
  if (received > 0) {
    auto xs = st.rtts_ms;
    std::sort(xs.begin(), xs.end());
    double sum = 0;
    for (auto x : xs)
      sum += x;
    std::printf("rtt min/avg/p50/max = %.3f/%.3f/%.3f/%.3f ms\n", xs.front(),
                sum / received, xs[xs.size() / 2], xs.back());
  }
  std::fflush(stdout);
  if (why.empty() && received < st.plan.count)
    why = std::to_string(st.plan.count - received) + " of " +
          std::to_string(st.plan.count) + " echo requests to " +
          st.plan.target + " went unanswered";
  caf::anon_send(st.report_to, std::string{"done"}, why.empty() ? 0 : 1,
                 std::move(why));
  self->quit();
}

void send_ping(pinger_ptr self, time_point now) {
  auto& st = self->state;
  auto body = payload_builder{}
                  .add_integer("seq", st.next_seq)
                  .add_bytes("from", st.ctx.local_uuid)
                  .build();
  auto msg =
      st.ctx.make_request(st.plan.target, echo_command, std::move(body), now);
  st.waiting.emplace(msg.id, outstanding{st.next_seq, now});
  ++st.next_seq;
  st.next_send = now + st.plan.interval;
  self->send(st.ctx.sender, outgoing_atom::value, std::move(msg),
             priority::fast, owner_actor{self});
}

/// Whether pinging `target` can start, and how it is reached: CONNECTED or
/// ROUTED; or, for a peer we have no address of (not one we connect to
/// ourselves), through the network once we are connected to anyone: the
/// requests wait in the sender while the ask-around concern finds a route.
/// Null while neither holds.
const char* ready(const std::vector<peer>& peers, const std::string& target,
                  std::string& seen) {
  bool connected_to_any = false;
  const peer* known = nullptr;
  for (auto& p : peers) {
    if (p.state == peer_state::connected)
      connected_to_any = true;
    if (p.uuid == target)
      known = &p;
  }
  if (known && known->state == peer_state::connected)
    return "CONNECTED";
  if (known && known->state == peer_state::routed)
    return "ROUTED";
  if ((!known || known->host.empty()) && connected_to_any)
    return "no route yet, looking for one";
  if (known)
    seen = std::string{to_string(known->state)} +
           (known->host.empty()
                ? ", no address of it and no connected peer"
                : " at " + known->host + ":" + std::to_string(known->port));
  return nullptr;
}

/// Looks at the clock: time-outs, the next request, the end.
void on_step(pinger_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto i = st.waiting.begin(); i != st.waiting.end();) {
    if (now - i->second.sent_at >= st.plan.timeout) {
      std::printf("seq=%d: no reply within %.1f s\n", i->second.seq,
                  ms(st.plan.timeout) / 1000);
      std::fflush(stdout);
      ++st.lost;
      i = st.waiting.erase(i);
    } else {
      ++i;
    }
  }
  if (st.next_seq <= st.plan.count && now >= st.next_send)
    send_ping(self, now);
  if (st.next_seq > st.plan.count && st.waiting.empty()) {
    finish(self, {});
    return;
  }
  self->delayed_send(self, step, tick_atom::value);
}

pinger_actor::behavior_type pinger(pinger_ptr self, concern_context ctx,
                                   ping_plan plan, caf::actor report_to) {
  self->state.ctx = std::move(ctx);
  self->state.plan = std::move(plan);
  self->state.report_to = std::move(report_to);
  self->state.started = self->clock().now();
  // Told to stop (SIGINT, SIGTERM, the end of --duration): the statistics
  // of what was answered so far, and why it ends early.
  self->set_exit_handler([self](caf::exit_msg&) {
    auto& st = self->state;
    auto answered = static_cast<int>(st.rtts_ms.size());
    if (answered == st.plan.count) {
      finish(self, {});
      return;
    }
    finish(self, !st.reachable
                     ? st.plan.target + " never became reachable (" +
                           st.last_seen + ")"
                     : std::to_string(answered) + " of " +
                           std::to_string(st.plan.count) +
                           " echo requests to " + st.plan.target + " answered");
  });
  self->send(self, tick_atom::value);
  return {
      [self](incoming_atom, const message& msg) {
        auto& st = self->state;
        auto i = st.waiting.find(msg.id);
        if (i == st.waiting.end() || !msg.is_reply())
          return;
        auto rtt = ms(self->clock().now() - i->second.sent_at);
        st.rtts_ms.push_back(rtt);
        std::printf("%zu bytes from %s: seq=%d time=%.3f ms\n",
                    msg.payload.bytes().size(), short_uuid(msg.source).c_str(),
                    i->second.seq, rtt);
        std::fflush(stdout);
        st.waiting.erase(i);
      },
      [self](tick_atom) {
        auto& st = self->state;
        if (st.reachable) {
          on_step(self);
          return;
        }
        self->request(st.ctx.peers, caf::infinite, get_atom::value)
            .then(
                [self](const std::vector<peer>& peers) {
                  auto& ps = self->state;
                  auto& todo = ps.plan;
                  if (auto how = ready(peers, todo.target, ps.last_seen)) {
                    self->state.reachable = true;
                    std::printf("echo %s: %s, %d requests\n",
                                short_uuid(todo.target).c_str(), how,
                                todo.count);
                    std::fflush(stdout);
                    on_step(self);
                    return;
                  }
                  // Becoming reachable counts against the first request's
                  // time-out.
                  auto waited = self->clock().now() - ps.started;
                  if (waited >= todo.timeout) {
                    std::printf("echo %s: not reachable within %.1f s\n",
                                short_uuid(todo.target).c_str(),
                                ms(todo.timeout) / 1000);
                    finish(self, todo.target + " not reachable within " +
                                     fmt_seconds(todo.timeout) +
                                     " (--ping-timeout): " + ps.last_seen);
                    return;
                  }
                  self->delayed_send(self, step, tick_atom::value);
                },
                [self](const caf::error&) {
                  self->delayed_send(self, step, tick_atom::value);
                });
      },
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [self](dropped_atom, const message& msg, const caf::error& err) {
        auto& st = self->state;
        auto i = st.waiting.find(msg.id);
        if (i == st.waiting.end())
          return;
        std::printf("seq=%d: dropped: %s\n", i->second.seq,
                    render(err).c_str());
        std::fflush(stdout);
        ++st.lost;
        st.waiting.erase(i);
      },
  };
}

} // namespace

pinger_actor spawn_pinger(caf::actor_system& sys, concern_context ctx,
                          ping_plan plan, caf::actor report_to) {
  return sys.spawn(pinger, std::move(ctx), std::move(plan),
                   std::move(report_to));
}

} // namespace p2p0mq::node
