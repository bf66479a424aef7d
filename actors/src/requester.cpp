#include "p2p0mq/actors/requester.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// The requester's own interface: the public one, an owner's (it owns its
/// requests), an inbox (it gets their replies) and its one timer.
using requester_impl_actor = requester_actor::extend_with<owner_actor>::extend<
    caf::reacts_to<incoming_atom, message>, caf::reacts_to<timeout_atom>>;

/// The most peers `requester_state::reachable` remembers.
constexpr std::size_t max_reachable = 4096;

/// Request ids by the time their callers stop waiting.
using deadline_map = std::multimap<time_point, std::uint64_t>;

/// A request whose caller waits for its answer.
struct pending_request {
  caf::typed_response_promise<message> promise;
  std::string peer;
  std::string command;
  caf::timespan timeout;
  /// Its entry in `requester_state::deadlines`.
  deadline_map::iterator deadline;
};

struct requester_state {
  static inline const char* name = "p2p0mq.requester";

  concern_context ctx;
  correlator_actor correlator;
  /// Requests whose callers wait, by message id.
  std::unordered_map<std::uint64_t, pending_request> pending;
  /// Fire-and-forget requests without an outcome yet.
  std::unordered_set<std::uint64_t> posted;
  /// When the callers of `pending` stop waiting.
  deadline_map deadlines;
  /// Peers the peer table said messages can find (no need to ask again).
  std::unordered_set<std::string> reachable;
  /// When the pending timer fires, if one is pending. CAF cannot cancel a
  /// timer: one set for a request answered since fires anyway, and sets the
  /// next.
  std::optional<time_point> timer_at;
};

using requester_ptr = requester_impl_actor::stateful_pointer<requester_state>;

/// Describes a request in log lines and error contexts.
std::string describe(std::uint64_t id, const std::string& command,
                     const std::string& peer) {
  return "request " + std::to_string(id) + " '" + command + "' to " +
         short_uuid(peer);
}

/// The same error with the request named in its context (for our own
/// category; others are passed on unchanged).
caf::error about(const pending_request& p, std::uint64_t id,
                 const caf::error& err) {
  if (err.category() != error_category)
    return err;
  auto ctx = context_of(err);
  return make_error(static_cast<errc>(err.code()),
                    describe(id, p.command, p.peer) +
                        (ctx.empty() ? std::string{} : ": " + ctx));
}

/// Checks what a caller asks for before anything leaves.
caf::error check(const concern_context& ctx, const std::string& peer,
                 const std::string& command, caf::timespan timeout) {
  if (command.empty())
    return make_error(errc::invalid_request, "no command");
  if (peer.size() < min_uuid_size)
    return make_error(errc::invalid_request,
                      "'" + peer + "' is not a peer's uuid");
  if (peer == ctx.local_uuid)
    return make_error(errc::invalid_request,
                      "a request to our own uuid '" + peer + "'");
  if (timeout <= caf::timespan::zero())
    return make_error(errc::invalid_request, "a timeout not above zero");
  return caf::none;
}

/// Answers the caller of request `id` with `x` (a message or an error), if
/// it still waits.
template <class T>
void settle(requester_ptr self, std::uint64_t id, T&& x) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto p = std::move(i->second);
  st.pending.erase(i);
  st.deadlines.erase(p.deadline);
  if constexpr (std::is_same_v<std::decay_t<T>, caf::error>)
    p.promise.deliver(about(p, id, x));
  else
    p.promise.deliver(std::forward<T>(x));
}

/// Registers the reply `msg` waits for and hands it to the sender.
void launch(requester_ptr self, message msg, priority prio,
            caf::timespan timeout) {
  auto& st = self->state;
  // Registered first: the reply cannot overtake the registration.
  self->send(st.correlator, expect_atom::value, msg.to, msg.id, timeout,
             caf::actor_cast<inbox_actor>(self));
  self->send(st.ctx.sender, outgoing_atom::value, std::move(msg), prio,
             caf::actor_cast<owner_actor>(self));
}

/// Sets the timer to the earliest deadline, unless it fires by then already.
void arm_timer(requester_ptr self) {
  auto& st = self->state;
  if (st.deadlines.empty())
    return;
  auto next = st.deadlines.begin()->first;
  if (st.timer_at && *st.timer_at <= next)
    return;
  st.timer_at = next;
  self->scheduled_send(self, next, timeout_atom::value);
}

requester_impl_actor::behavior_type requester(requester_ptr self,
                                              concern_context ctx,
                                              correlator_actor correlator) {
  self->state.ctx = std::move(ctx);
  self->state.correlator = std::move(correlator);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Stop sequence: every caller still waiting learns why.
    auto& st = self->state;
    for (auto& [id, p] : st.pending)
      p.promise.deliver(
          make_error(errc::local_peer_stopped, describe(id, p.command, p.peer) +
                                                   ": the requester stopped"));
    st.pending.clear();
    st.deadlines.clear();
    self->quit(msg.reason);
  });
  return {
      [self](request_atom, std::string& peer, std::string& command,
             payload& body, caf::timespan timeout,
             priority prio) -> caf::result<message> {
        auto& st = self->state;
        if (auto err = check(st.ctx, peer, command, timeout))
          return err;
        auto now = self->clock().now();
        auto msg = st.ctx.make_request(peer, command, std::move(body), now);
        msg.deadline = std::min(msg.deadline, now + timeout);
        auto id = msg.id;
        auto promise = self->make_response_promise<message>();
        auto deadline = st.deadlines.emplace(now + timeout, id);
        st.pending.emplace(id, pending_request{promise, std::move(peer),
                                               std::move(command), timeout,
                                               deadline});
        arm_timer(self);
        if (st.reachable.count(msg.to) > 0) {
          launch(self, std::move(msg), prio, timeout);
          return promise;
        }
        // A peer we have not sent to yet: fail at once if no message can
        // find it, rather than at the timeout.
        self->request(st.ctx.peers, caf::infinite, route_atom::value, msg.to)
            .then(
                [self, msg, prio, timeout](bool ok) mutable {
                  auto& own = self->state;
                  if (own.pending.count(msg.id) == 0)
                    return; // Timed out meanwhile.
                  if (!ok) {
                    settle(self, msg.id,
                           make_error(errc::unknown_peer,
                                      "never heard of, and no peer to ask "
                                      "about it"));
                    return;
                  }
                  if (own.reachable.size() >= max_reachable)
                    own.reachable.clear();
                  own.reachable.insert(msg.to);
                  launch(self, std::move(msg), prio, timeout);
                },
                [self, msg, prio, timeout](const caf::error&) mutable {
                  // The table did not answer: send it anyway.
                  launch(self, std::move(msg), prio, timeout);
                });
        return promise;
      },
      [self](send_atom, std::string& peer, std::string& command, payload& body,
             priority prio) {
        auto& st = self->state;
        if (auto err = check(st.ctx, peer, command, caf::timespan{1})) {
          log(log_level::warning, log_category::app, "send of '", command,
              "' to ", short_uuid(peer), " refused: ", render(err));
          return;
        }
        auto msg = st.ctx.make_request(std::move(peer), std::move(command),
                                       std::move(body), self->clock().now());
        st.posted.insert(msg.id);
        self->send(st.ctx.sender, outgoing_atom::value, std::move(msg), prio,
                   caf::actor_cast<owner_actor>(self));
      },
      [self](incoming_atom, message& msg) {
        auto& st = self->state;
        auto i = st.pending.find(msg.id);
        if (!msg.is_reply() || i == st.pending.end() ||
            i->second.peer != msg.source) {
          log(log_level::debug, log_category::app, to_string(msg.kind), " ",
              msg.id, " '", msg.command, "' from ", short_uuid(msg.source),
              ": no request of ours waits for it; dropped");
          return;
        }
        if (auto why = rejection_of(msg.payload)) {
          auto by = "by " + short_uuid(msg.source);
          auto kind = rejection_code_of(msg.payload);
          auto code = kind == unknown_command_code ? errc::unknown_command
                      : kind == concern_busy_code  ? errc::concern_busy
                                                   : errc::rejected;
          settle(self, msg.id,
                 make_error(code, why->empty() ? by : by + ": " + *why));
          return;
        }
        settle(self, msg.id, std::move(msg));
      },
      [self](sent_atom, const std::vector<message>& msgs) {
        // For a request, the reply or the timeout tells the caller.
        for (auto& msg : msgs)
          self->state.posted.erase(msg.id);
      },
      [self](send_failed_atom, const message& msg,
             const caf::error& err) -> bool {
        auto& st = self->state;
        if (st.pending.count(msg.id) == 0)
          return true; // Fire-and-forget: try again while it may.
        // The caller learns at once; the sender drops it.
        settle(self, msg.id, err);
        return false;
      },
      [self](dropped_atom, const message& msg, const caf::error& err) {
        auto& st = self->state;
        if (st.pending.count(msg.id) > 0) {
          settle(self, msg.id, err);
          return;
        }
        // A request whose caller was answered already, or one sent and
        // forgotten, which nobody else hears of.
        auto level =
            st.posted.erase(msg.id) > 0 ? log_level::info : log_level::debug;
        log(level, log_category::app, "message ", msg.id, " '", msg.command,
            "' to ", short_uuid(msg.to), " dropped: ", render(err));
      },
      [self](timeout_atom) {
        auto& st = self->state;
        st.timer_at.reset();
        auto now = self->clock().now();
        while (!st.deadlines.empty() && st.deadlines.begin()->first <= now) {
          auto id = st.deadlines.begin()->second;
          auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
                           st.pending.at(id).timeout)
                           .count();
          settle(
              self, id,
              make_error(errc::request_timeout,
                         "no reply within " + std::to_string(limit) + " ms"));
        }
        arm_timer(self);
      },
  };
}

} // namespace

requester_actor spawn_requester(caf::actor_system& sys, concern_context ctx,
                                correlator_actor correlator) {
  return caf::actor_cast<requester_actor>(
      sys.spawn(requester, std::move(ctx), std::move(correlator)));
}

} // namespace p2p0mq
