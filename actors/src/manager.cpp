#include "p2p0mq/actors/manager.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/receiver.hpp"
#include "p2p0mq/actors/requester.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"
#include "traffic.hpp"

namespace p2p0mq {

namespace {

/// One registered concern.
struct entry {
  concern_actor handle;
  /// Empty for a concern registered as a running actor (not restarted).
  concern_factory factory;
  /// When it was restarted, within the restart window.
  std::deque<time_point> restarts;
};

/// The last route hint given for one source.
struct hint {
  std::string relay;
  time_point at;
};

/// A reply a requester waits for, by (peer, message id).
struct expectation {
  /// Who gets it; empty once it came (later ones are duplicates).
  concern_actor who;
  time_point until;
};

using expectation_key = std::pair<std::string, std::uint64_t>;

/// Messages held for a command whose concern went down.
struct held_messages {
  time_point until;
  std::vector<message> messages;
  std::uint64_t dropped = 0;
};

struct manager_state {
  static inline const char* name = "p2p0mq.manager";
  concern_context ctx;
  router_actor router;
  std::unordered_map<std::string, entry> concerns;
  /// Replies requesters wait for, and those that came, until they expire.
  std::map<expectation_key, expectation> expected;
  /// The same keys by expiry.
  std::multimap<time_point, expectation_key> expiries;
  /// Messages held during the grace period of a command, by command.
  std::unordered_map<std::string, held_messages> held;
  /// Messages for other peers dropped for want of a router.
  std::uint64_t unrouted = 0;
  /// Route hints given recently, by source.
  std::unordered_map<std::string, hint> hints;
  /// Traffic received, by command and by previous hop.
  manager_stats stats;
  /// The receiver's credit, given back batch by batch; or null.
  std::shared_ptr<receive_credit> credit;
};

/// The manager's own interface: the public one plus its timer.
using manager_impl_actor = manager_actor::extend<caf::reacts_to<timeout_atom>>;

using manager_ptr = manager_impl_actor::stateful_pointer<manager_state>;

/// Finds the command under which `addr` is registered.
std::string command_of(manager_ptr self, const caf::actor_addr& addr) {
  for (auto& [command, e] : self->state.concerns)
    if (e.handle.address() == addr)
      return command;
  return {};
}

void start_concern(manager_ptr self, const std::string& command, entry& e) {
  auto ctx = self->state.ctx;
  ctx.command = command;
  e.handle = e.factory(self, std::move(ctx));
  self->link_to(e.handle);
}

// -- replies to requesters ----------------------------------------------------

/// Forgets the expectations that expired by `now`.
void expire_expectations(manager_ptr self, time_point now) {
  auto& st = self->state;
  while (!st.expiries.empty() && st.expiries.begin()->first <= now) {
    auto i = st.expected.find(st.expiries.begin()->second);
    if (i != st.expected.end() && i->second.until <= now)
      st.expected.erase(i);
    st.expiries.erase(st.expiries.begin());
  }
}

/// Hands a reply a requester registered for to that requester, or drops a
/// duplicate of one that came already. Returns whether `msg` was taken.
bool take_expected_reply(manager_ptr self, message& msg, time_point now) {
  auto& st = self->state;
  if (!msg.is_reply() || st.expected.empty())
    return false;
  auto i = st.expected.find(expectation_key{msg.source, msg.id});
  if (i == st.expected.end() || i->second.until <= now)
    return false;
  if (!i->second.who) {
    log(log_level::info, log_category::manager, "duplicate reply ", msg.id,
        " '", msg.command, "' from ", short_uuid(msg.source), "; dropped");
    return true;
  }
  self->send(i->second.who, incoming_atom::value, std::move(msg));
  i->second.who = concern_actor{};
  return true;
}

// -- grace period -------------------------------------------------------------

/// Holds `msg` for its command if the command is in its grace period.
/// Returns whether it was taken.
bool hold(manager_ptr self, message& msg, time_point now) {
  auto& st = self->state;
  auto i = st.held.find(msg.command);
  if (i == st.held.end() || i->second.until <= now)
    return false;
  auto& h = i->second;
  if (h.messages.size() < st.ctx.settings->concern_grace_limit)
    h.messages.emplace_back(std::move(msg));
  else
    ++h.dropped;
  return true;
}

/// Starts the grace period of `command`, if there is one.
void start_grace(manager_ptr self, const std::string& command) {
  auto& st = self->state;
  auto period = st.ctx.settings->concern_grace_period;
  if (period <= duration::zero())
    return;
  auto& h = st.held[command];
  h.until = self->clock().now() + period;
  log(log_level::info, log_category::manager, "messages for '", command,
      "' are held for ",
      std::chrono::duration_cast<std::chrono::milliseconds>(period).count(),
      " ms, waiting for a concern to register for it");
}

/// Hands the messages held for `command` to its new concern.
void release_held(manager_ptr self, const std::string& command) {
  auto& st = self->state;
  auto i = st.held.find(command);
  if (i == st.held.end())
    return;
  auto h = std::move(i->second);
  st.held.erase(i);
  auto& handle = st.concerns[command].handle;
  log(log_level::info, log_category::manager, "concern '", command,
      "' registered within its grace period: ", h.messages.size(),
      " held messages delivered, ", h.dropped, " dropped");
  for (auto& msg : h.messages)
    self->send(handle, incoming_atom::value, std::move(msg));
}

/// Drops what was held for commands whose grace period ended.
void end_grace_periods(manager_ptr self, time_point now) {
  auto& st = self->state;
  for (auto i = st.held.begin(); i != st.held.end();) {
    if (i->second.until > now) {
      ++i;
      continue;
    }
    auto count = i->second.messages.size() + i->second.dropped;
    if (count > 0)
      log(log_level::warning, log_category::manager, count, " messages for '",
          i->first,
          "' dropped: no concern registered for it within its grace period");
    i = st.held.erase(i);
  }
}

bool exited_on_purpose(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::user_shutdown ||
         reason == caf::exit_reason::normal;
}

/// A spawned concern went down: restart it unless it failed too often.
void on_concern_exit(manager_ptr self, caf::exit_msg& msg) {
  auto command = command_of(self, msg.source);
  if (command.empty())
    return; // A concern we no longer know, or an unrelated link.
  auto& st = self->state;
  auto& e = st.concerns[command];
  if (exited_on_purpose(msg.reason)) {
    log(log_level::info, log_category::manager, "concern '", command,
        "' stopped");
    st.concerns.erase(command);
    return;
  }
  auto now = self->clock().now();
  auto window = st.ctx.settings->concern_restart_window;
  while (!e.restarts.empty() && now - e.restarts.front() > window)
    e.restarts.pop_front();
  if (e.restarts.size() >= st.ctx.settings->concern_max_restarts) {
    log(log_level::error, log_category::manager, "concern '", command,
        "' failed ", e.restarts.size() + 1,
        " times within the restart window and stays down: ",
        self->system().render(msg.reason));
    st.concerns.erase(command);
    return;
  }
  log(log_level::warning, log_category::manager, "concern '", command,
      "' failed (", self->system().render(msg.reason), "); restarting it");
  e.restarts.push_back(now);
  start_concern(self, command, e);
}

/// Tells the peer table that the source of `msg`, which came through a
/// relay, can be reached through that relay, unless it was told so lately.
void learn_reverse_path(manager_ptr self, const message& msg, time_point now) {
  auto& st = self->state;
  if (msg.previous_hop.empty() || msg.source == msg.previous_hop ||
      msg.source == st.ctx.local_uuid)
    return;
  auto [i, added] = st.hints.try_emplace(msg.source);
  auto& h = i->second;
  if (!added && h.relay == msg.previous_hop &&
      now - h.at < st.ctx.settings->heart_beat_interval)
    return;
  h.relay = msg.previous_hop;
  h.at = now;
  caf::anon_send(st.ctx.peers, via_atom::value, msg.source, msg.previous_hop);
}

/// Forgets the hints old enough to be given again anyway.
void forget_old_hints(manager_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto i = st.hints.begin(); i != st.hints.end();) {
    if (now - i->second.at >= st.ctx.settings->heart_beat_interval)
      i = st.hints.erase(i);
    else
      ++i;
  }
}

manager_impl_actor::behavior_type
manager(manager_ptr self, concern_context ctx, router_actor router,
        std::shared_ptr<receive_credit> credit) {
  self->state.ctx = std::move(ctx);
  self->state.router = std::move(router);
  self->state.credit = std::move(credit);
  self->state.ctx.requester = spawn_requester(
      self, self->state.ctx, caf::actor_cast<correlator_actor>(self));
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Our own links: concerns we spawned. Anything else that asks us to
    // exit (e.g. the local peer stopping) ends the manager.
    if (!command_of(self, msg.source).empty()) {
      on_concern_exit(self, msg);
      return;
    }
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto command = command_of(self, msg.source);
    if (command.empty())
      return;
    log(log_level::warning, log_category::manager, "concern '", command,
        "' went down (", self->system().render(msg.reason), "); unregistered");
    self->state.concerns.erase(command);
    start_grace(self, command);
  });
  self->delayed_send(self, self->state.ctx.settings->tick_interval,
                     timeout_atom::value);
  return {
      [self](incoming_atom, std::vector<message>& batch) {
        auto& st = self->state;
        auto now = self->clock().now();
        std::vector<message> transit;
        for (auto& msg : batch) {
          auto bytes = detail::traffic_bytes(msg, st.ctx.local_uuid);
          for (auto* x : {&detail::tally(st.stats.commands, msg.command),
                          &detail::tally(st.stats.peers, msg.previous_hop)}) {
            ++x->messages;
            x->bytes += bytes;
          }
          learn_reverse_path(self, msg, now);
          if (msg.to != st.ctx.local_uuid) {
            if (st.router) {
              transit.emplace_back(std::move(msg));
              continue;
            }
            ++st.unrouted;
            log(log_level::warning, log_category::router, "message '",
                msg.command, "' from ", short_uuid(msg.source), " for ",
                short_uuid(msg.to), " dropped: routing is not available");
            continue;
          }
          if (take_expected_reply(self, msg, now))
            continue;
          auto i = st.concerns.find(msg.command);
          if (i == st.concerns.end()) {
            if (hold(self, msg, now))
              continue;
            ++st.stats.unknown_command;
            log(log_level::warning, log_category::manager, "unknown command '",
                msg.command, "' in a ", to_string(msg.kind), " from ",
                short_uuid(msg.source), "; dropped");
            continue;
          }
          self->send(i->second.handle, incoming_atom::value, std::move(msg));
        }
        if (!transit.empty())
          self->send(st.router, incoming_atom::value, std::move(transit));
        if (st.credit)
          st.credit->give();
      },
      [self](add_atom, std::string& command,
             concern_factory& factory) -> caf::result<void> {
        auto& st = self->state;
        if (st.concerns.count(command) > 0)
          return make_error(errc::duplicate_concern,
                            "a concern for '" + command + "' is registered");
        auto& e = st.concerns[command];
        e.factory = std::move(factory);
        start_concern(self, command, e);
        log(log_level::debug, log_category::manager, "concern '", command,
            "' started");
        release_held(self, command);
        return caf::unit;
      },
      [self](add_atom, std::string& command,
             concern_actor& handle) -> caf::result<void> {
        auto& st = self->state;
        if (st.concerns.count(command) > 0)
          return make_error(errc::duplicate_concern,
                            "a concern for '" + command + "' is registered");
        self->monitor(handle);
        st.concerns[command].handle = std::move(handle);
        log(log_level::debug, log_category::manager, "concern '", command,
            "' registered");
        release_held(self, command);
        return caf::unit;
      },
      [self](remove_atom, const std::string& command) {
        auto& st = self->state;
        auto i = st.concerns.find(command);
        if (i == st.concerns.end())
          return false;
        auto e = std::move(i->second);
        st.concerns.erase(i);
        if (e.factory) {
          self->unlink_from(e.handle);
          self->send_exit(e.handle, caf::exit_reason::user_shutdown);
        } else {
          self->demonitor(e.handle.address());
        }
        return true;
      },
      [self](get_atom) {
        std::vector<std::string> result;
        for (auto& kvp : self->state.concerns)
          result.emplace_back(kvp.first);
        std::sort(result.begin(), result.end());
        return result;
      },
      [self](get_atom, const std::string& command) {
        auto i = self->state.concerns.find(command);
        return i == self->state.concerns.end() ? concern_actor{}
                                               : i->second.handle;
      },
      [self](stats_atom) {
        auto result = self->state.stats;
        for (auto& kvp : self->state.concerns)
          result.commands.try_emplace(kvp.first);
        return result;
      },
      [self](tick_atom) {
        for (auto& kvp : self->state.concerns)
          self->send(kvp.second.handle, tick_atom::value);
      },
      [self](expect_atom, std::string& peer, std::uint64_t id,
             caf::timespan timeout, concern_actor& who) {
        auto& st = self->state;
        auto until = self->clock().now() + timeout;
        expectation_key key{std::move(peer), id};
        st.expiries.emplace(until, key);
        st.expected[std::move(key)] = expectation{std::move(who), until};
      },
      [self](outgoing_atom, message& msg, priority prio, concern_actor& owner) {
        // From another node: its clock and its numbers mean nothing here.
        auto& st = self->state;
        msg.source = st.ctx.local_uuid;
        msg.deadline = self->clock().now() + st.ctx.settings->message_ttl;
        if (msg.is_request() && msg.id == 0)
          msg.id = st.ctx.ids->next();
        self->send(st.ctx.sender, outgoing_atom::value, std::move(msg), prio,
                   std::move(owner));
      },
      [self](context_atom) {
        auto& own = self->state.ctx;
        return remote_context{own.local_uuid,
                              own.host,
                              own.port,
                              std::chrono::duration_cast<caf::timespan>(
                                  own.settings->message_ttl),
                              own.requester,
                              own.peers};
      },
      [self](timeout_atom) {
        forget_old_hints(self);
        auto now = self->clock().now();
        expire_expectations(self, now);
        end_grace_periods(self, now);
        for (auto& kvp : self->state.concerns)
          self->send(kvp.second.handle, tick_atom::value);
        self->delayed_send(self, self->state.ctx.settings->tick_interval,
                           timeout_atom::value);
      },
  };
}

} // namespace

manager_actor spawn_manager(caf::actor_system& sys, concern_context ctx,
                            router_actor router,
                            std::shared_ptr<receive_credit> credit) {
  return caf::actor_cast<manager_actor>(
      sys.spawn(manager, std::move(ctx), std::move(router), std::move(credit)));
}

} // namespace p2p0mq
