#include "p2p0mq/actors/manager.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

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

struct manager_state {
  static inline const char* name = "p2p0mq.manager";
  concern_context ctx;
  router_actor router;
  std::unordered_map<std::string, entry> concerns;
  /// Messages for other peers dropped for want of a router.
  std::uint64_t unrouted = 0;
  /// Route hints given recently, by source.
  std::unordered_map<std::string, hint> hints;
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

void start_concern(manager_ptr self, entry& e) {
  e.handle = e.factory(self, self->state.ctx);
  self->link_to(e.handle);
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
  start_concern(self, e);
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

manager_impl_actor::behavior_type manager(manager_ptr self, concern_context ctx,
                                          router_actor router) {
  self->state.ctx = std::move(ctx);
  self->state.router = std::move(router);
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
  });
  self->delayed_send(self, self->state.ctx.settings->tick_interval,
                     timeout_atom::value);
  return {
      [self](incoming_atom, std::vector<message>& batch) {
        auto& st = self->state;
        auto now = self->clock().now();
        std::vector<message> transit;
        for (auto& msg : batch) {
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
          auto i = st.concerns.find(msg.command);
          if (i == st.concerns.end()) {
            log(log_level::warning, log_category::manager, "unknown command '",
                msg.command, "' in a ", to_string(msg.kind), " from ",
                short_uuid(msg.source), "; dropped");
            continue;
          }
          self->send(i->second.handle, incoming_atom::value, std::move(msg));
        }
        if (!transit.empty())
          self->send(st.router, incoming_atom::value, std::move(transit));
      },
      [self](add_atom, std::string& command,
             concern_factory& factory) -> caf::result<void> {
        auto& st = self->state;
        if (st.concerns.count(command) > 0)
          return make_error(errc::duplicate_concern,
                            "a concern for '" + command + "' is registered");
        auto& e = st.concerns[command];
        e.factory = std::move(factory);
        start_concern(self, e);
        log(log_level::debug, log_category::manager, "concern '", command,
            "' started");
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
      [self](tick_atom) {
        for (auto& kvp : self->state.concerns)
          self->send(kvp.second.handle, tick_atom::value);
      },
      [self](timeout_atom) {
        forget_old_hints(self);
        for (auto& kvp : self->state.concerns)
          self->send(kvp.second.handle, tick_atom::value);
        self->delayed_send(self, self->state.ctx.settings->tick_interval,
                           timeout_atom::value);
      },
  };
}

} // namespace

manager_actor spawn_manager(caf::actor_system& sys, concern_context ctx,
                            router_actor router) {
  return caf::actor_cast<manager_actor>(
      sys.spawn(manager, std::move(ctx), std::move(router)));
}

} // namespace p2p0mq
