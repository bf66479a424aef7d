#include "p2p0mq/actors/local_peer.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <zmq.hpp>

#include "monitor.hpp"
#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/connector.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/actors/peer_table.hpp"
#include "p2p0mq/actors/sender.hpp"
#include "p2p0mq/actors/zap.hpp"
#include "p2p0mq/actors/zmq_transport.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// Reads the port back from an endpoint like `tcp://127.0.0.1:40123`.
std::uint16_t port_of(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  std::uint16_t result = 0;
  if (colon != std::string::npos)
    std::from_chars(endpoint.data() + colon + 1,
                    endpoint.data() + endpoint.size(), result);
  return result;
}

} // namespace

local_peer::local_peer(caf::actor_system& sys, config settings)
    : local_peer(sys, std::move(settings), nullptr) {
}

local_peer::local_peer(caf::actor_system& sys, config settings,
                       std::shared_ptr<zmq::context_t> zmq_context)
    : sys_(sys),
      settings_(std::make_shared<config>(std::move(settings))),
      zmq_(std::move(zmq_context)) {
}

local_peer::~local_peer() {
  stop();
}

caf::error local_peer::start() {
  if (running_)
    return make_error(errc::already_started, "local peer " + uuid());
  if (auto err = settings_->validate())
    return err;
  // The uuid, before anything uses it: the database's, else the configured
  // one, else a new one.
  std::unique_ptr<peer_store> store;
  if (!settings_->database.empty()) {
    auto opened = peer_store::open(settings_->database, settings_->uuid,
                                   settings_->store_lock_wait);
    if (!opened)
      return std::move(opened.error());
    settings_->uuid = opened->uuid();
    store = std::make_unique<peer_store>(std::move(*opened));
  } else if (settings_->uuid.empty()) {
    settings_->uuid = make_uuid();
  }
  if (!zmq_) {
    zmq_ = std::make_shared<zmq::context_t>(1);
    owns_zmq_ = true;
  }
  std::optional<curve_client> curve;
  if (settings_->encryption) {
    // The authenticator is in place before the receiver binds: libzmq lets
    // a CURVE server accept every client while no ZAP handler is bound.
    certs_.emplace(settings_->public_certs(), settings_->private_certs());
    auto keys = certs_->load_or_create_own(settings_->uuid);
    if (!keys)
      return std::move(keys.error());
    auto service = zap_service::attach(sys_, zmq_);
    if (!service)
      return std::move(service.error());
    zap_ = std::move(*service);
    caf::anon_send(zap_->authenticator(), add_atom::value, settings_->uuid,
                   certs_->public_dir(),
                   settings_->certificate_reload_interval);
    curve = curve_client{std::move(*keys),
                         [store = *certs_](const std::string& peer_uuid) {
                           return store.public_key(peer_uuid);
                         }};
  }
  auto endpoint =
      "tcp://" + settings_->host + ":" + std::to_string(settings_->port);
  zmq::socket_t socket;
  std::unique_ptr<transport> wire;
  receiver_options watch;
  watch.encryption = settings_->encryption;
  watch.check_user_id = settings_->encryption;
  try {
    socket = zmq::socket_t{*zmq_, zmq::socket_type::router};
    socket.set(zmq::sockopt::routing_id, zmq::buffer(settings_->uuid));
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvhwm, settings_->receive_high_water_mark);
    socket.set(zmq::sockopt::maxmsgsize, settings_->max_frame_size);
    if (curve) {
      socket.set(zmq::sockopt::curve_server, true);
      socket.set(zmq::sockopt::curve_publickey, curve->keys.public_key);
      socket.set(zmq::sockopt::curve_secretkey, curve->keys.secret_key);
      // The authenticator serves every local peer of the context: the
      // domain tells it whose certificates to look at.
      socket.set(zmq::sockopt::zap_domain, settings_->uuid);
    }
    watch.receiver_monitor = detail::monitor_socket(*zmq_, socket);
    socket.bind(endpoint);
    port_ = port_of(socket.get(zmq::sockopt::last_endpoint));
    wire = make_zmq_transport(*zmq_, settings_->uuid, *settings_,
                              std::move(curve), &watch.sender_monitor);
  } catch (const zmq::error_t& e) {
    release_security();
    return make_error(errc::socket_error,
                      "cannot bind " + endpoint + ": " + e.what());
  }
  auto shared_settings = std::shared_ptr<const config>{settings_};
  ctx_.local_uuid = settings_->uuid;
  ctx_.host = settings_->host;
  ctx_.port = port_;
  ctx_.settings = shared_settings;
  ctx_.ids = std::make_shared<message_id_counter>();
  ctx_.sender =
      spawn_sender(sys_, settings_->uuid, shared_settings, std::move(wire));
  ctx_.peers =
      spawn_peer_table(sys_, shared_settings, ctx_.sender, std::move(store));
  router_ = spawn_router(sys_, settings_->uuid, shared_settings, ctx_.sender);
  if (settings_->unprocessed_batch_limit != 0)
    watch.credit =
        std::make_shared<receive_credit>(settings_->unprocessed_batch_limit);
  manager_ = spawn_manager(sys_, ctx_, router_, watch.credit);
  {
    // The manager spawned the requester.
    caf::scoped_actor self{sys_};
    self->request(manager_, settings_->call_timeout, context_atom::value)
        .receive([&](remote_context& x) { ctx_.requester = x.requester; },
                 [](caf::error&) {});
  }
  caf::anon_send(manager_, add_atom::value, std::string{connector_command},
                 connector());
  caf::anon_send(manager_, add_atom::value, std::string{heart_beat_command},
                 heart_beat());
  caf::anon_send(manager_, add_atom::value, std::string{ask_around_command},
                 ask_around());
  watch.sender = ctx_.sender;
  receiver_ = spawn_receiver(sys_, std::move(socket), settings_->uuid, manager_,
                             std::move(watch));
  running_ = true;
  log(log_level::info, log_category::manager, "local peer ", short_uuid(uuid()),
      " listens on ", settings_->host, ":", port_, " with encryption ",
      settings_->encryption ? "on" : "off");
  return caf::none;
}

void local_peer::release_security() {
  if (!zap_)
    return;
  caf::anon_send(zap_->authenticator(), remove_atom::value, settings_->uuid);
  zap_.reset();
}

void local_peer::stop() {
  if (!running_)
    return;
  running_ = false;
  receiver_.stop();
  // Concerns are linked to the manager and exit with it; the sender reports
  // what it still holds as dropped, then closes its socket.
  caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx_.peers, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx_.sender, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  caf::scoped_actor self{sys_};
  self->wait_for(receiver_.handle(), manager_, ctx_.peers, ctx_.sender,
                 router_);
  // The receiver is closed: no client waits for the authenticator.
  release_security();
  // A context of our own ends here: terminating it waits until libzmq has
  // closed the sockets, so the port is free again when stop returns.
  if (owns_zmq_) {
    zmq_.reset();
    owns_zmq_ = false;
  }
  log(log_level::info, log_category::manager, "local peer ", short_uuid(uuid()),
      " stopped");
}

caf::error local_peer::add_peer(const std::string& peer_uuid,
                                const std::string& host, std::uint16_t port) {
  if (!running_)
    return make_error(errc::not_started, "add_peer before start");
  caf::error result;
  caf::scoped_actor self{sys_};
  self->request(ctx_.peers, settings_->call_timeout, add_atom::value, peer_uuid,
                host, port)
      .receive([](const peer&) {}, [&](caf::error& err) { result = err; });
  if (!result)
    caf::anon_send(manager_, tick_atom::value);
  return result;
}

caf::expected<std::vector<peer>> local_peer::peers() {
  if (!running_)
    return make_error(errc::not_started, "peers before start");
  caf::expected<std::vector<peer>> result{std::vector<peer>{}};
  caf::scoped_actor self{sys_};
  self->request(ctx_.peers, settings_->call_timeout, get_atom::value)
      .receive([&](std::vector<peer>& xs) { result = std::move(xs); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<local_peer_metrics> local_peer::metrics() {
  auto table = peers();
  if (!table)
    return std::move(table.error());
  local_peer_metrics result;
  manager_stats incoming;
  concern_actor finder;
  caf::error failure;
  auto fail = [&](caf::error& err) { failure = std::move(err); };
  caf::scoped_actor self{sys_};
  auto timeout = settings_->call_timeout;
  self->request(ctx_.sender, timeout, stats_atom::value)
      .receive([&](sender_stats& x) { result.sender = std::move(x); }, fail);
  if (!failure)
    self->request(manager_, timeout, stats_atom::value)
        .receive([&](manager_stats& x) { incoming = std::move(x); }, fail);
  if (!failure)
    self->request(router_, timeout, stats_atom::value)
        .receive([&](const router_stats& x) { result.router = x; }, fail);
  if (!failure)
    self->request(manager_, timeout, get_atom::value,
                  std::string{ask_around_command})
        .receive([&](concern_actor& x) { finder = std::move(x); }, fail);
  if (failure)
    return failure;
  if (finder) {
    // Zero when another concern serves `r`, or ours is restarting.
    self->request(caf::actor_cast<ask_around_actor>(finder), timeout,
                  stats_atom::value)
        .receive([&](const ask_around_stats& x) { result.ask_around = x; },
                 [](caf::error&) {});
  }
  result.uuid = uuid();
  result.host = settings_->host;
  result.port = port_;
  result.encryption = settings_->encryption;
  result.received = receiver_.received();
  result.malformed = receiver_.malformed();
  result.impostors = receiver_.impostors();
  result.handshake_failures = receiver_.handshake_failures();
  result.unknown_command = incoming.unknown_command;
  // Traffic by command: the manager's incoming and the sender's outgoing.
  auto outgoing = std::move(result.sender.commands);
  result.sender.commands.clear();
  for (auto& [command, x] : incoming.commands)
    outgoing.try_emplace(command);
  for (auto& [command, x] : outgoing) {
    concern_metrics c;
    c.command = command;
    c.out = x;
    if (auto i = incoming.commands.find(command); i != incoming.commands.end())
      c.in = i->second;
    result.concerns.push_back(std::move(c));
  }
  auto now = sys_.clock().now();
  auto secs = [](duration d) {
    return std::chrono::duration<double>(d).count();
  };
  for (auto& p : *table) {
    peer_metrics m;
    m.uuid = p.uuid;
    m.host = p.host;
    m.port = p.port;
    m.state = p.state;
    m.via = p.via;
    m.seconds_in_state = secs(now - p.state_since);
    if (p.last_heard != time_point{})
      m.seconds_since_heard = secs(now - p.last_heard);
    m.heart_beat_slow_down_seconds = secs(p.slow_down);
    m.round_trips = p.round_trips;
    if (auto i = incoming.peers.find(p.uuid); i != incoming.peers.end())
      m.in = i->second;
    if (auto i = result.sender.peers.find(p.uuid);
        i != result.sender.peers.end())
      m.out = i->second;
    result.peers.push_back(std::move(m));
  }
  result.sender.peers.clear();
  std::sort(result.peers.begin(), result.peers.end(),
            [](const peer_metrics& x, const peer_metrics& y) {
              return x.uuid < y.uuid;
            });
  return result;
}

caf::expected<peer> local_peer::find_peer(const std::string& peer_uuid) {
  if (!running_)
    return make_error(errc::not_started, "find_peer before start");
  caf::expected<peer> result{peer{}};
  caf::scoped_actor self{sys_};
  self->request(ctx_.peers, settings_->call_timeout, get_atom::value, peer_uuid)
      .receive([&](peer& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error local_peer::add_concern(const std::string& command,
                                   concern_factory factory) {
  if (!running_)
    return make_error(errc::not_started, "add_concern before start");
  caf::error result;
  caf::scoped_actor self{sys_};
  self->request(manager_, settings_->call_timeout, add_atom::value, command,
                std::move(factory))
      .receive([] {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<bool> local_peer::remove_concern(const std::string& command) {
  if (!running_)
    return make_error(errc::not_started, "remove_concern before start");
  caf::expected<bool> result{false};
  caf::scoped_actor self{sys_};
  self->request(manager_, settings_->call_timeout, remove_atom::value, command)
      .receive([&](bool x) { result = x; },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error local_peer::reload_certificates() {
  if (!running_)
    return make_error(errc::not_started, "reload_certificates before start");
  if (!zap_)
    return caf::none;
  caf::error result;
  caf::scoped_actor self{sys_};
  self->request(zap_->authenticator(), settings_->call_timeout,
                reload_atom::value, settings_->uuid)
      .receive([](std::uint64_t) {},
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error exchange_certificates(local_peer& a, local_peer& b) {
  auto a_certs = a.certificates();
  auto b_certs = b.certificates();
  if (!a.running() || !b.running() || !a_certs || !b_certs)
    return make_error(errc::not_started,
                      "exchange_certificates needs two running local peers "
                      "with encryption on");
  if (auto err = a_certs->share_with(a.uuid(), *b_certs))
    return err;
  if (auto err = b_certs->share_with(b.uuid(), *a_certs))
    return err;
  if (auto err = a.reload_certificates())
    return err;
  return b.reload_certificates();
}

void local_peer::send(message msg, priority prio, concern_actor owner) {
  caf::anon_send(ctx_.sender, outgoing_atom::value, std::move(msg), prio,
                 std::move(owner));
}

void local_peer::send(const std::string& peer, const std::string& command,
                      payload body, priority prio) {
  if (!running_) {
    log(log_level::warning, log_category::app, "send of '", command, "' to ",
        short_uuid(peer), " before start; dropped");
    return;
  }
  caf::anon_send(ctx_.requester, send_atom::value, peer, command,
                 std::move(body), prio);
}

caf::expected<message> local_peer::request(const std::string& peer,
                                           const std::string& command,
                                           payload body, caf::timespan timeout,
                                           priority prio) {
  if (!running_)
    return make_error(errc::not_started, "request before start");
  caf::expected<message> result{message{}};
  caf::scoped_actor self{sys_};
  request(self, peer, command, std::move(body), timeout, prio)
      .receive([&](message& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace p2p0mq
