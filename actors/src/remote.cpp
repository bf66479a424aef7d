#include "p2p0mq/actors/remote.hpp"

#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

caf::error no_middleman() {
  return make_error(errc::invalid_config,
                    "the actor system has no middleman: load "
                    "caf::io::middleman into its config");
}

} // namespace

caf::expected<std::uint16_t>
publish_manager(local_peer& peer, std::uint16_t port, const std::string& host) {
  if (!peer.running())
    return make_error(errc::not_started, "publish_manager before start");
  auto& sys = peer.system();
  if (!sys.has_middleman())
    return no_middleman();
  auto result = sys.middleman().publish(peer.supervisor(), port, host.c_str());
  if (result)
    log(log_level::info, log_category::manager, "manager of ",
        short_uuid(peer.uuid()), " published on ", host, ":", *result);
  return result;
}

caf::error unpublish_manager(local_peer& peer, std::uint16_t port) {
  auto& sys = peer.system();
  if (!sys.has_middleman())
    return no_middleman();
  auto result = sys.middleman().unpublish(peer.supervisor(), port);
  if (!result)
    return std::move(result.error());
  return caf::none;
}

caf::expected<concern_actor>
attach_concern(caf::actor_system& sys, const std::string& host,
               std::uint16_t port, const std::string& command,
               concern_factory factory, caf::timespan timeout) {
  if (!sys.has_middleman())
    return no_middleman();
  auto manager = sys.middleman().remote_actor<supervisor_actor>(host, port);
  if (!manager)
    return std::move(manager.error());
  caf::scoped_actor self{sys};
  caf::error err;
  remote_context info;
  self->request(*manager, timeout, context_atom::value)
      .receive([&](remote_context& x) { info = std::move(x); },
               [&](caf::error& x) { err = std::move(x); });
  if (err)
    return err;
  auto settings = std::make_shared<config>();
  settings->uuid = info.local_uuid;
  settings->host = info.host;
  settings->port = info.port;
  settings->message_ttl = info.message_ttl;
  concern_context ctx;
  ctx.local_uuid = info.local_uuid;
  ctx.host = info.host;
  ctx.port = info.port;
  ctx.peers = info.peers;
  ctx.sender = info.sender;
  ctx.settings = std::move(settings);
  ctx.command = command;
  ctx.requester = info.requester;
  ctx.outlet = *manager;
  auto concern = factory(self.ptr(), std::move(ctx));
  self->request(*manager, timeout, add_atom::value, command, concern)
      .receive([] {}, [&](caf::error& x) { err = std::move(x); });
  if (err) {
    self->send_exit(concern, caf::exit_reason::user_shutdown);
    return err;
  }
  log(log_level::info, log_category::manager, "concern '", command,
      "' registered with the manager of ", short_uuid(info.local_uuid), " at ",
      host, ":", port);
  return concern;
}

} // namespace p2p0mq
