#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/duration.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "p2p0mq/actors/assembly.hpp"
#include "p2p0mq/actors/beacon.hpp"
#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/groups.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/metrics.hpp"
#include "p2p0mq/actors/receiver.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/config.hpp"

namespace zmq {
class context_t;
} // namespace zmq

namespace p2p0mq {

class zap_service;

/// One local peer: the facade users touch. It binds the receiver, builds the
/// actors of the local peer with an `assembly` (sender on ZeroMQ, peer table,
/// router, dispatcher, supervisor, requester and the built-in concerns
/// `hello`, `hb`, `r`), and gives access to their handles for CAF users who
/// want them.
///
/// Several local peers may share one actor system and one ZeroMQ context, or
/// each have their own. The member functions are meant for one controlling
/// thread (not for actors: those talk to the handles). Functions that wait for
/// an answer (`peers`, `add_peer`, ...) wait at most `settings().call_timeout`.
///
/// ~~~
/// caf::actor_system sys{cfg};
/// p2p0mq::config settings;
/// settings.port = 0; // any free port
/// p2p0mq::local_peer alice{sys, settings};
/// if (auto err = alice.start())
///   ...
/// alice.add_peer("bob-uuid", "127.0.0.1", 8402);
/// ~~~
class local_peer {
public:
  /// A local peer in `sys`, with a ZeroMQ context of its own.
  local_peer(caf::actor_system& sys, config settings);

  /// A local peer in `sys`, sharing the ZeroMQ context `zmq_context`.
  local_peer(caf::actor_system& sys, config settings,
             std::shared_ptr<zmq::context_t> zmq_context);

  /// Stops the local peer if it runs.
  ~local_peer();

  local_peer(const local_peer&) = delete;
  local_peer& operator=(const local_peer&) = delete;

  /// Validates the settings, opens the peer store when the settings name a
  /// `database` (its uuid wins over a generated one), binds the receiver and
  /// starts the actors. With encryption on (the default), it loads the local
  /// peer's key pair from the certificate directories, generating and writing
  /// it when there is none, and registers with the authenticator of its
  /// ZeroMQ context (started on first use), which accepts only clients whose
  /// key is in the public certificate directory. Errors:
  /// `errc::invalid_config`, `errc::socket_error` (e.g. the address is in
  /// use), `errc::already_started`, the errors of `peer_store::open` (e.g.
  /// `errc::store_corrupt`, `errc::store_uuid_mismatch`: a peer never starts
  /// on a store it cannot read), and the certificate store's errors
  /// (`errc::missing_certificate`, `errc::bad_certificate`,
  /// `errc::certificate_io`).
  caf::error start();

  /// Stops the receiver, then runs the assembly's stop sequence (see
  /// `assembly::stop`) and waits for every actor and thread to end: outgoing
  /// messages still held are reported dropped to their owners, waiting
  /// requests end with `errc::local_peer_stopped`, and the peer table has
  /// the store sync a last time. Idempotent. With a ZeroMQ context of its own, the
  /// port is free again when `stop` returns; with a shared context libzmq
  /// releases it a little later, in its I/O thread.
  void stop();

  /// Whether `start` succeeded and `stop` has not been called.
  bool running() const noexcept {
    return running_;
  }

  /// The uuid: the peer store's, else the one of the settings, else
  /// generated (after `start`).
  const std::string& uuid() const noexcept {
    return settings_->uuid;
  }

  /// The port the receiver is bound to (the chosen one when configured as 0);
  /// 0 before `start`.
  std::uint16_t port() const noexcept {
    return port_;
  }

  /// The settings in force (after `start`, with the uuid filled in).
  const config& settings() const noexcept {
    return *settings_;
  }

  /// The certificate store, set by `start` with encryption on.
  const std::optional<cert_store>& certificates() const noexcept {
    return certs_;
  }

  /// Reads the public certificate directory again now, so that a certificate
  /// added (or removed) there applies to the next handshake. The
  /// authenticator also reads it every `certificate_reload_interval`, and
  /// when an unknown key tries to connect. Does nothing with encryption off.
  /// Error: `errc::not_started`.
  caf::error reload_certificates();

  /// Adds a peer to contact at `host:port`, or updates its address. The
  /// connector greets it at once, also a known peer given up on
  /// (NO_CONNECTION).
  caf::error add_peer(const std::string& uuid, const std::string& host,
                      std::uint16_t port);

  /// A snapshot of every peer record.
  caf::expected<std::vector<peer>> peers();

  /// A snapshot of the peer table (with each peer's round-trip times and
  /// traffic), the counters of the sender, receiver, dispatcher, router and
  /// ask-around concern, and the traffic by command id, with times measured
  /// against the actor system's clock (see `local_peer_metrics`). Errors:
  /// `errc::not_started`, and CAF's errors of an actor that does not answer
  /// within `call_timeout`.
  caf::expected<local_peer_metrics> metrics();

  /// The record of one peer. Error: `errc::unknown_peer`.
  caf::expected<peer> find_peer(const std::string& uuid);

  /// Waits until the peer `uuid` is CONNECTED (or ROUTED too, with
  /// `routed`), at most `timeout`, and returns its record; at once when it
  /// is. Errors: `errc::request_timeout`, `errc::not_started`.
  caf::expected<peer> wait_connected(const std::string& uuid,
                                     caf::timespan timeout,
                                     bool routed = false);

  /// `wait_connected` for actors: CAF's response handle of the peer's
  /// record, or the error, e.g. in an event-based actor:
  ///
  /// ~~~
  /// peer.await_connected(self, "bob-0002", std::chrono::seconds{10})
  ///     .then([=](p2p0mq::peer& bob) { ... },
  ///           [=](caf::error& err) { ... });
  /// ~~~
  template <class Self>
  auto await_connected(Self&& self, std::string uuid, caf::timespan timeout,
                       bool routed = false) const {
    return self->request(peer_.peer_table(), caf::infinite, await_atom::value,
                         std::move(uuid), timeout, routed);
  }

  /// Adds a concern for `command`, spawned from `factory` now and again
  /// whenever it fails. Error: `errc::duplicate_concern`.
  caf::error add_concern(const std::string& command, concern_factory factory);

  /// Removes the concern of `command`; returns whether there was one.
  caf::expected<bool> remove_concern(const std::string& command);

  // -- groups (see groups.hpp) ------------------------------------------------

  /// Runs the group concern with `settings` once started, and announces
  /// `capability::groups`. Call before `start`; error:
  /// `errc::already_started`.
  caf::error use_groups(group_settings settings = {});

  /// The group concern (valid after `start` when `use_groups` was called):
  /// for actors, which ask it themselves.
  const group_actor& groups() const noexcept {
    return peer_.groups();
  }

  /// Joins `group`; returns whether it was not in it yet. Errors:
  /// `errc::invalid_request` (a bad name, too many groups),
  /// `errc::not_started`, `errc::unknown_command` without `use_groups`.
  caf::expected<bool> join(const std::string& group);

  /// Leaves `group`; returns whether it was in it.
  caf::expected<bool> leave(const std::string& group);

  /// Publishes `body` to `group`; returns its number in the group. Errors
  /// as `join`, and `errc::invalid_request` for a payload too large.
  caf::expected<std::uint64_t> publish(const std::string& group, payload body);

  /// The groups and their members as this local peer knows them.
  caf::expected<group_view> groups_now();

  /// Hands `msg` to the sender on behalf of `owner`, which learns its
  /// outcome. A message made with `context().make_request` leaves its next
  /// hop to the sender.
  void send(message msg, priority prio, owner_actor owner);

  /// Sends a request for `command` to `peer` and forgets it: nobody waits
  /// for its reply (a reply goes to our concern of `command`, if any), a
  /// failed send is tried again while its time-to-live lasts, and a drop is
  /// logged. Does nothing (but log) before `start`.
  void send(const std::string& peer, const std::string& command, payload body,
            priority prio = priority::fast);

  /// Asks the concern of `command` on `peer`, from the actor `self`, and
  /// returns CAF's response handle for the answer: the reply message, or an
  /// error (see `requester_actor`: `errc::request_timeout` after `timeout`,
  /// the reason a drop or failed send gave, `errc::rejected`, ...). `self`
  /// is anything CAF's `request` is called on with `->`: a `scoped_actor`,
  /// or an event-based actor's `self` pointer. Valid after `start`.
  ///
  /// ~~~
  /// caf::scoped_actor self{sys};
  /// peer.request(self, "bob-0002", "upper", body, std::chrono::seconds{5})
  ///     .receive([&](p2p0mq::message& reply) { ... },
  ///              [&](caf::error& err) { ... });
  /// // in an event-based actor:
  /// peer.request(self, "bob-0002", "upper", body, std::chrono::seconds{5})
  ///     .then([=](p2p0mq::message& reply) { ... },
  ///           [=](caf::error& err) { ... });
  /// ~~~
  template <class Self>
  auto request(Self&& self, std::string peer, std::string command, payload body,
               caf::timespan timeout, priority prio = priority::fast) const {
    return self->request(peer_.requester(), caf::infinite, request_atom::value,
                         std::move(peer), std::move(command), std::move(body),
                         timeout, prio);
  }

  /// Asks like `request(self, ...)` and waits for the answer: the reply
  /// message or the error. Error also: `errc::not_started`.
  caf::expected<message> request(const std::string& peer,
                                 const std::string& command, payload body,
                                 caf::timespan timeout,
                                 priority prio = priority::fast);

  /// What concerns of this local peer work with (valid after `start`).
  const concern_context& context() const noexcept {
    return peer_.context();
  }

  /// The actors of this local peer (valid after `start`).
  const p2p0mq::assembly& assembly() const noexcept {
    return peer_;
  }

  /// The supervisor, which starts and registers the concerns (valid after
  /// `start`); what `publish_local_peer` publishes.
  const supervisor_actor& supervisor() const noexcept {
    return peer_.supervisor();
  }

  /// The dispatcher, which hands received messages to the concerns (valid
  /// after `start`).
  const dispatcher_actor& dispatcher() const noexcept {
    return peer_.dispatcher();
  }

  /// The sender (valid after `start`).
  const sender_actor& sender() const noexcept {
    return peer_.sender();
  }

  /// The requester (valid after `start`): makes the requests whose answer a
  /// caller waits for (see `requester_actor`).
  const requester_actor& requester() const noexcept {
    return peer_.requester();
  }

  /// The peer table (valid after `start`).
  const peer_table_actor& peer_table() const noexcept {
    return peer_.peer_table();
  }

  /// The router, which forwards messages for other peers (valid after
  /// `start`).
  const router_actor& router() const noexcept {
    return peer_.router();
  }

  /// The receiver (valid after `start`).
  const p2p0mq::receiver& receiver() const noexcept {
    return receiver_;
  }

  /// The LAN beacon, with `discovery.beacons` on (valid after `start`; it
  /// tests false when beacons are off or could not start, which is logged).
  const beacon_station& beacon() const noexcept {
    return beacon_;
  }

  /// The actor system this local peer runs in.
  caf::actor_system& system() noexcept {
    return sys_;
  }

private:
  /// Lets go of the authenticator (after the receiver stopped).
  void release_security();

  /// Asks `dest` and waits at most `call_timeout`: the answer, or the
  /// error; `errc::not_started` (naming `what`) when not running.
  template <class T, class Handle, class... Ts>
  caf::expected<T> call(const char* what, const Handle& dest, Ts&&... xs);

  caf::actor_system& sys_;
  std::shared_ptr<config> settings_;
  std::shared_ptr<zmq::context_t> zmq_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  bool owns_zmq_ = false;
  p2p0mq::assembly peer_;
  p2p0mq::receiver receiver_;
  beacon_station beacon_;
  std::optional<cert_store> certs_;
  std::shared_ptr<zap_service> zap_;
  std::optional<group_settings> groups_;
};

/// Makes two running local peers with encryption on trust each other: copies
/// each one's public certificate into the other's public directory and has
/// both authenticators read their directories again. For tests and scripts;
/// peers on different machines exchange their `<uuid>.key` files by other
/// means. Errors: `errc::not_started`, and the certificate store's errors.
caf::error exchange_certificates(local_peer& a, local_peer& b);

} // namespace p2p0mq
