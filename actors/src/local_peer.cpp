#include "p2p0mq/actors/local_peer.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <zmq.hpp>

#include "monitor.hpp"
#include "p2p0mq/actors/ask_around.hpp"
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
    auto service = zap_service::attach(sys_, zmq_, log_limits_of(*settings_));
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
  watch.logging = log_limits_of(*settings_);
  watch.inline_resumes = settings_->receiver_inline_resumes;
  try {
    socket = zmq::socket_t{*zmq_, zmq::socket_type::router};
    socket.set(zmq::sockopt::routing_id, zmq::buffer(settings_->uuid));
    socket.set(zmq::sockopt::linger, 0);
    // A peer's new connection (it forgot us and connected again, or came
    // back) takes its uuid over from an old one this socket still holds:
    // without it, a ROUTER leaves the new connection unread for good.
    socket.set(zmq::sockopt::router_handover, true);
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
  auto credit = settings_->unprocessed_batch_limit == 0
                    ? nullptr
                    : std::make_shared<receive_credit>(
                          settings_->unprocessed_batch_limit);
  assembly_parts parts;
  parts.settings = settings_;
  parts.host = settings_->host;
  parts.port = port_;
  parts.wire = std::move(wire);
  parts.store.store = std::move(store);
  parts.credit = credit;
  parts.groups = groups_;
  peer_ = assembly::spawn(sys_, std::move(parts));
  // The built-in concerns are registered before the receiver reads: the
  // supervisor answers after the registrations this thread sent it, and has
  // handed each concern to the dispatcher by then, ahead of any batch the
  // receiver will send it. (Otherwise a peer that greets at once could find
  // no concern for `hello` and have its greeting dropped.)
  {
    caf::scoped_actor self{sys_};
    self->request(peer_.supervisor(), caf::infinite, get_atom::value)
        .receive([](const std::vector<std::string>&) {},
                 [](const caf::error&) {});
  }
  if (zap_)
    // A certificate that appears greets the peer given up for want of it.
    caf::anon_send(zap_->authenticator(), subscribe_atom::value,
                   settings_->uuid, trust_watcher_actor{peer_.peer_table()});
  watch.sender = peer_.sender();
  watch.credit = std::move(credit);
  receiver_ = spawn_receiver(sys_, std::move(socket), settings_->uuid,
                             peer_.dispatcher(), std::move(watch));
  // -- discovery: begin --
  if (settings_->discovery.beacons) {
    auto station = spawn_beacon(sys_, settings_, port_, peer_.peer_table());
    if (station)
      beacon_ = std::move(*station);
    else
      log(log_level::error, log_category::connector,
          "no LAN beacons: ", render(station.error()));
  }
  // -- discovery: end --
  running_ = true;
  log(log_level::info, log_category::concerns, "local peer ",
      short_uuid(uuid()), " listens on ", settings_->host, ":", port_,
      " with encryption ", settings_->encryption ? "on" : "off");
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
  beacon_.stop();
  receiver_.stop();
  auto sequence = peer_.stop(sys_);
  caf::scoped_actor self{sys_};
  if (beacon_)
    self->wait_for(beacon_.handle());
  self->wait_for(receiver_.handle(), sequence, peer_.sender(),
                 peer_.peer_table(), peer_.supervisor(), peer_.dispatcher(),
                 peer_.router(), peer_.requester());
  // The receiver is closed: no client waits for the authenticator.
  release_security();
  // A context of our own ends here: terminating it waits until libzmq has
  // closed the sockets, so the port is free again when stop returns.
  if (owns_zmq_) {
    zmq_.reset();
    owns_zmq_ = false;
  }
  log(log_level::info, log_category::concerns, "local peer ",
      short_uuid(uuid()), " stopped");
}

template <class T, class Handle, class... Ts>
caf::expected<T> local_peer::call(const char* what, const Handle& dest,
                                  Ts&&... xs) {
  if (!running_)
    return make_error(errc::not_started, std::string{what} + " before start");
  caf::scoped_actor self{sys_};
  std::optional<caf::expected<T>> result;
  auto failed = [&](caf::error& err) { result.emplace(std::move(err)); };
  auto req =
      self->request(dest, settings_->call_timeout, std::forward<Ts>(xs)...);
  if constexpr (std::is_void_v<T>)
    std::move(req).receive([&] { result.emplace(caf::unit); }, failed);
  else
    std::move(req).receive([&](T& x) { result.emplace(std::move(x)); }, failed);
  return std::move(*result);
}

caf::error local_peer::add_peer(const std::string& peer_uuid,
                                const std::string& host, std::uint16_t port) {
  auto result = call<peer>("add_peer", peer_.peer_table(), add_atom::value,
                           peer_uuid, host, port);
  return result ? caf::none : std::move(result.error());
}

caf::expected<std::vector<peer>> local_peer::peers() {
  return call<std::vector<peer>>("peers", peer_.peer_table(), get_atom::value);
}

caf::expected<local_peer_metrics> local_peer::metrics() {
  auto table = peers();
  if (!table)
    return std::move(table.error());
  local_peer_metrics result;
  auto sent = call<sender_stats>("metrics", peer_.sender(), stats_atom::value);
  if (!sent)
    return std::move(sent.error());
  result.sender = std::move(*sent);
  auto incoming =
      call<dispatcher_stats>("metrics", peer_.dispatcher(), stats_atom::value);
  if (!incoming)
    return std::move(incoming.error());
  auto routed =
      call<router_stats>("metrics", peer_.router(), stats_atom::value);
  if (!routed)
    return std::move(routed.error());
  result.router = *routed;
  auto finder =
      call<concern_actor>("metrics", peer_.supervisor(), get_atom::value,
                          std::string{ask_around_command});
  if (!finder)
    return std::move(finder.error());
  if (*finder) {
    // Zero when another concern serves `r`, or ours is restarting.
    if (auto xs = call<concern_counters>("metrics", *finder, stats_atom::value))
      result.ask_around = ask_around_stats_of(*xs);
  }
  result.uuid = uuid();
  result.host = settings_->host;
  result.port = port_;
  result.encryption = settings_->encryption;
  result.received = receiver_.received();
  result.malformed = receiver_.malformed();
  result.impostors = receiver_.impostors();
  result.handshake_failures = receiver_.handshake_failures();
  result.unknown_command = incoming->unknown_command;
  // Traffic by command: the dispatcher's incoming and the sender's outgoing.
  auto outgoing = std::move(result.sender.commands);
  result.sender.commands.clear();
  for (auto& [command, x] : incoming->commands)
    outgoing.try_emplace(command);
  for (auto& [command, x] : outgoing) {
    concern_metrics c;
    c.command = command;
    c.out = x;
    if (auto i = incoming->commands.find(command);
        i != incoming->commands.end())
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
    m.origin = p.origin;
    m.seconds_in_state = secs(now - p.state_since);
    if (p.last_heard != time_point{})
      m.seconds_since_heard = secs(now - p.last_heard);
    m.heart_beat_slow_down_seconds = secs(p.slow_down);
    m.round_trips = p.round_trips;
    if (auto i = incoming->peers.find(p.uuid); i != incoming->peers.end())
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
  return call<peer>("find_peer", peer_.peer_table(), get_atom::value,
                    peer_uuid);
}

caf::expected<peer> local_peer::wait_connected(const std::string& peer_uuid,
                                               caf::timespan timeout,
                                               bool routed) {
  if (!running_)
    return make_error(errc::not_started, "wait_connected before start");
  caf::expected<peer> result{peer{}};
  caf::scoped_actor self{sys_};
  await_connected(self, peer_uuid, timeout, routed)
      .receive([&](peer& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error local_peer::add_concern(const std::string& command,
                                   concern_factory factory) {
  auto result = call<void>("add_concern", peer_.supervisor(), add_atom::value,
                           command, std::move(factory));
  return result ? caf::none : std::move(result.error());
}

caf::expected<bool> local_peer::remove_concern(const std::string& command) {
  return call<bool>("remove_concern", peer_.supervisor(), remove_atom::value,
                    command);
}

caf::error local_peer::reload_certificates() {
  if (!running_)
    return make_error(errc::not_started, "reload_certificates before start");
  if (!zap_)
    return caf::none;
  auto result =
      call<std::uint64_t>("reload_certificates", zap_->authenticator(),
                          reload_atom::value, settings_->uuid);
  return result ? caf::none : std::move(result.error());
}

caf::error local_peer::use_groups(group_settings settings) {
  if (running_)
    return make_error(errc::already_started, "use_groups after start");
  groups_ = settings;
  return caf::none;
}

namespace {

caf::error no_groups() {
  return make_error(errc::unknown_command,
                    "groups: the local peer runs no group concern "
                    "(use_groups)");
}

} // namespace

caf::expected<bool> local_peer::join(const std::string& group) {
  if (running_ && !peer_.groups())
    return no_groups();
  return call<bool>("join", peer_.groups(), join_atom::value, group);
}

caf::expected<bool> local_peer::leave(const std::string& group) {
  if (running_ && !peer_.groups())
    return no_groups();
  return call<bool>("leave", peer_.groups(), leave_atom::value, group);
}

caf::expected<std::uint64_t> local_peer::publish(const std::string& group,
                                                 payload body) {
  if (running_ && !peer_.groups())
    return no_groups();
  return call<std::uint64_t>("publish", peer_.groups(), publish_atom::value,
                             group, std::move(body));
}

caf::expected<group_view> local_peer::groups_now() {
  if (running_ && !peer_.groups())
    return no_groups();
  return call<group_view>("groups_now", peer_.groups(), get_atom::value);
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

void local_peer::send(message msg, priority prio, owner_actor owner) {
  caf::anon_send(peer_.sender(), outgoing_atom::value, std::move(msg), prio,
                 std::move(owner));
}

void local_peer::send(const std::string& peer, const std::string& command,
                      payload body, priority prio) {
  if (!running_) {
    log(log_level::warning, log_category::app, "send of '", command, "' to ",
        short_uuid(peer), " before start; dropped");
    return;
  }
  caf::anon_send(peer_.requester(), send_atom::value, peer, command,
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
