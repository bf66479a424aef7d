#include "p2p0mq/actors/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"

namespace p2p0mq {

namespace {

/// One registered concern.
struct entry {
  concern_actor handle;
  /// Empty for a concern registered as a running actor (not restarted).
  concern_factory factory;
  /// When it was restarted, within the restart window, oldest first (a
  /// vector: most concerns never restart, and an empty deque would still
  /// hold a block of memory).
  std::vector<time_point> restarts;
};

struct supervisor_state {
  static inline const char* name = "p2p0mq.supervisor";
  concern_context ctx;
  dispatcher_actor dispatcher;
  std::unordered_map<std::string, entry> concerns;
};

using supervisor_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

/// The command under which `addr` is registered, or empty.
std::string command_of(supervisor_ptr self, const caf::actor_addr& addr) {
  for (auto& [command, e] : self->state.concerns)
    if (e.handle.address() == addr)
      return command;
  return {};
}

void start_concern(supervisor_ptr self, const std::string& command, entry& e) {
  auto ctx = self->state.ctx;
  ctx.command = command;
  auto backlog = std::make_shared<concern_backlog>();
  ctx.backlog = backlog;
  e.handle = e.factory(self, std::move(ctx));
  self->link_to(e.handle);
  self->send(self->state.dispatcher, add_atom::value, command, e.handle,
             std::move(backlog));
}

void unregister(supervisor_ptr self, const std::string& command, bool hold) {
  self->state.concerns.erase(command);
  self->send(self->state.dispatcher, remove_atom::value, command, hold);
}

/// Makes a message from a concern on another node one of the local peer's:
/// that node's clock and numbers mean nothing here.
void adopt(supervisor_ptr self, message& msg) {
  auto& own = self->state.ctx;
  msg.source = own.local_uuid;
  msg.deadline = self->clock().now() + own.settings->message_ttl;
  if (msg.is_request() && msg.id == 0)
    msg.id = own.ids->next();
}

bool exited_on_purpose(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::user_shutdown ||
         reason == caf::exit_reason::normal;
}

/// A spawned concern went down: restart it unless it failed too often.
void on_concern_exit(supervisor_ptr self, const std::string& command,
                     caf::exit_msg& msg) {
  auto& st = self->state;
  auto& e = st.concerns[command];
  if (exited_on_purpose(msg.reason)) {
    log(log_level::info, log_category::concerns, "concern '", command,
        "' stopped");
    unregister(self, command, false);
    return;
  }
  auto now = self->clock().now();
  auto window = st.ctx.settings->concern_restart_window;
  e.restarts.erase(
      std::remove_if(e.restarts.begin(), e.restarts.end(),
                     [&](time_point t) { return now - t > window; }),
      e.restarts.end());
  if (e.restarts.size() >= st.ctx.settings->concern_max_restarts) {
    log(log_level::error, log_category::concerns, "concern '", command,
        "' failed ", e.restarts.size() + 1,
        " times within the restart window and stays down: ",
        self->system().render(msg.reason));
    unregister(self, command, false);
    return;
  }
  log(log_level::warning, log_category::concerns, "concern '", command,
      "' failed (", self->system().render(msg.reason), "); restarting it");
  e.restarts.push_back(now);
  start_concern(self, command, e);
}

caf::error duplicate(const std::string& command) {
  return make_error(errc::duplicate_concern,
                    "a concern for '" + command + "' is registered");
}

supervisor_actor::behavior_type supervisor(supervisor_ptr self,
                                           concern_context ctx,
                                           dispatcher_actor dispatcher) {
  self->state.ctx = std::move(ctx);
  self->state.dispatcher = std::move(dispatcher);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Our own links: concerns we spawned. Anything else that asks us to
    // exit (the local peer stopping) ends the supervisor, and its links.
    auto command = command_of(self, msg.source);
    if (!command.empty()) {
      on_concern_exit(self, command, msg);
      return;
    }
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto command = command_of(self, msg.source);
    if (command.empty())
      return;
    log(log_level::warning, log_category::concerns, "concern '", command,
        "' went down (", self->system().render(msg.reason), "); unregistered");
    unregister(self, command, true);
  });
  return {
      [self](add_atom, std::string& command,
             concern_factory& factory) -> caf::result<void> {
        auto& st = self->state;
        if (st.concerns.count(command) > 0)
          return duplicate(command);
        auto& e = st.concerns[command];
        e.factory = std::move(factory);
        start_concern(self, command, e);
        log(log_level::debug, log_category::concerns, "concern '", command,
            "' started");
        return caf::unit;
      },
      [self](add_atom, std::string& command,
             concern_actor& handle) -> caf::result<void> {
        auto& st = self->state;
        if (st.concerns.count(command) > 0)
          return duplicate(command);
        self->monitor(handle);
        st.concerns[command].handle = handle;
        self->send(st.dispatcher, add_atom::value, command, handle,
                   std::shared_ptr<concern_backlog>{});
        log(log_level::debug, log_category::concerns, "concern '", command,
            "' registered");
        return caf::unit;
      },
      [self](remove_atom, const std::string& command) {
        auto& st = self->state;
        auto i = st.concerns.find(command);
        if (i == st.concerns.end())
          return false;
        auto e = std::move(i->second);
        unregister(self, command, false);
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
      [self](context_atom) {
        auto& own = self->state.ctx;
        return remote_context{own.local_uuid,
                              own.host,
                              own.port,
                              std::chrono::duration_cast<caf::timespan>(
                                  own.settings->message_ttl),
                              own.requester,
                              own.peers,
                              own.sender,
                              own.speaks};
      },
      [self](outgoing_atom, message& msg, priority prio, owner_actor& owner) {
        adopt(self, msg);
        self->send(self->state.ctx.sender, outgoing_atom::value, std::move(msg),
                   prio, std::move(owner));
      },
      [self](outgoing_atom, std::vector<message>& msgs, priority prio,
             owner_actor& owner) {
        for (auto& msg : msgs)
          adopt(self, msg);
        self->send(self->state.ctx.sender, outgoing_atom::value,
                   std::move(msgs), prio, std::move(owner));
      },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys, concern_context ctx,
                                  dispatcher_actor dispatcher) {
  return sys.spawn(supervisor, std::move(ctx), std::move(dispatcher));
}

} // namespace p2p0mq
