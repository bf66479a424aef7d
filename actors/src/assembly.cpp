#include "p2p0mq/actors/assembly.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/connector.hpp"
#include "p2p0mq/actors/exchange.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/actors/peer_table.hpp"
#include "p2p0mq/actors/requester.hpp"
#include "p2p0mq/actors/sender.hpp"
#include "p2p0mq/log.hpp"

namespace p2p0mq {

namespace {

/// The handles the stop sequence works through.
struct stop_plan {
  sender_actor sender;
  peer_table_actor peers;
  supervisor_actor supervisor;
  requester_actor requester;
  router_actor router;
  dispatcher_actor dispatcher;
  group_actor groups;
};

/// Runs the stop sequence of `assembly::stop`, then exits.
caf::behavior stopper(caf::event_based_actor* self, stop_plan plan) {
  auto step3 = [self, plan] {
    self->request(plan.peers, caf::infinite, stop_atom::value)
        .then(
            [self, plan](bool) {
              caf::anon_send_exit(plan.sender, caf::exit_reason::user_shutdown);
              self->quit();
            },
            [self, plan](caf::error&) {
              // Gone already: nothing to settle.
              caf::anon_send_exit(plan.sender, caf::exit_reason::user_shutdown);
              self->quit();
            });
  };
  auto step2 = [self, plan, step3] {
    auto pending = std::make_shared<std::size_t>(0);
    for (auto x : {caf::actor_cast<caf::strong_actor_ptr>(plan.supervisor),
                   caf::actor_cast<caf::strong_actor_ptr>(plan.requester),
                   caf::actor_cast<caf::strong_actor_ptr>(plan.router),
                   caf::actor_cast<caf::strong_actor_ptr>(plan.dispatcher),
                   caf::actor_cast<caf::strong_actor_ptr>(plan.groups)})
      if (x) {
        ++*pending;
        self->monitor(x);
        caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      }
    if (*pending == 0) {
      step3();
      return;
    }
    self->set_down_handler([pending, step3](caf::down_msg&) {
      if (--*pending == 0)
        step3();
    });
  };
  self->request(plan.sender, caf::infinite, stop_atom::value)
      .then([step2](std::uint64_t) { step2(); },
            [step2](caf::error&) { step2(); });
  return {
      [] {
        // Nothing but the sequence.
      },
  };
}

} // namespace

assembly assembly::spawn(caf::actor_system& sys, assembly_parts parts) {
  assembly result;
  auto& ctx = result.ctx_;
  auto& settings = parts.settings;
  ctx.local_uuid = settings->uuid;
  ctx.host = std::move(parts.host);
  ctx.port = parts.port;
  ctx.settings = settings;
  ctx.ids = std::make_shared<message_id_counter>();
  ctx.speaks = parts.legacy ? capabilities{} : capabilities::ours();
  if (!parts.built_in_concerns)
    ctx.speaks.bits &= ~static_cast<std::uint32_t>(capability::ask_around);
  if (parts.groups && !parts.legacy)
    ctx.speaks.add(capability::groups);
  // The peer exchange comes with its concern (discovery).
  auto exchanging = parts.built_in_concerns && !parts.legacy &&
                    settings->discovery.target_degree > 0;
  if (exchanging)
    ctx.speaks.add(capability::exchange);
  ctx.sender = parts.sender ? std::move(parts.sender)
                            : spawn_sender(sys, settings->uuid, settings,
                                           std::move(parts.wire));
  ctx.peers =
      spawn_peer_table(sys, settings, ctx.sender, std::move(parts.store));
  if (!parts.legacy)
    result.router_ =
        spawn_router(sys, settings->uuid, settings, ctx.sender, ctx.peers);
  result.dispatcher_ = spawn_dispatcher(
      sys, settings, ctx.peers, result.router_, std::move(parts.credit),
      parts.legacy ? sender_actor{} : ctx.sender);
  ctx.requester = spawn_requester(sys, ctx, result.dispatcher_);
  result.supervisor_ = spawn_supervisor(sys, ctx, result.dispatcher_);
  if (parts.built_in_concerns) {
    auto add = [&](const char* command, concern_factory f) {
      caf::anon_send(result.supervisor_, add_atom::value, std::string{command},
                     std::move(f));
    };
    add(connector_command, connector());
    add(heart_beat_command, heart_beat());
    add(ask_around_command, ask_around());
    if (exchanging)
      add(exchange_command, exchange());
  }
  if (parts.groups && !parts.legacy) {
    result.groups_ = spawn_groups(sys, ctx, *parts.groups);
    caf::anon_send(result.supervisor_, add_atom::value,
                   std::string{group_command},
                   caf::actor_cast<concern_actor>(result.groups_));
  }
  return result;
}

caf::actor assembly::stop(caf::actor_system& sys) const {
  return sys.spawn(stopper,
                   stop_plan{ctx_.sender, ctx_.peers, supervisor_,
                             ctx_.requester, router_, dispatcher_, groups_});
}

void assembly::kill(caf::exit_reason reason) const {
  caf::anon_send_exit(groups_, reason);
  caf::anon_send_exit(supervisor_, reason);
  caf::anon_send_exit(ctx_.requester, reason);
  caf::anon_send_exit(dispatcher_, reason);
  caf::anon_send_exit(router_, reason);
  caf::anon_send_exit(ctx_.peers, reason);
  caf::anon_send_exit(ctx_.sender, reason);
}

} // namespace p2p0mq
