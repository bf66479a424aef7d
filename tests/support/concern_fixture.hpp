#pragma once

// Deterministic fixtures for the peer table, the manager and the concerns: a
// fake sender that records what it is asked to do instead of touching
// sockets, a peer table wired to it, and (for concerns) a manager on the same
// context. Everything runs on the test's thread under CAF's test coordinator.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/manager.hpp"
#include "p2p0mq/actors/peer_table.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/peer.hpp"
#include "p2p0mq/testing/deterministic.hpp"

namespace Catch {

template <>
struct StringMaker<p2p0mq::peer_state> {
  static std::string convert(p2p0mq::peer_state x) {
    return std::string{p2p0mq::to_string(x)};
  }
};

} // namespace Catch

namespace p2p0mq::testing {

/// Everything a fake sender was asked to do, in order. `seq` numbers the
/// calls across the three lists, so tests can check their order.
struct sender_record {
  struct connect_call {
    std::size_t seq;
    std::string uuid;
    std::string endpoint;
    time_point at;
  };

  struct outgoing_call {
    std::size_t seq;
    message msg;
    priority prio;
    concern_actor owner;
    time_point at;
  };

  struct route_call {
    std::size_t seq;
    std::string uuid;
    peer_state state;
    std::string via;
    time_point at;
  };

  struct remove_call {
    std::size_t seq;
    std::string uuid;
    time_point at;
  };

  std::vector<connect_call> connects;
  std::vector<outgoing_call> outgoing;
  std::vector<route_call> routes;
  std::vector<remove_call> removes;
  std::size_t calls = 0;
  /// What the fake answers to `find_atom` (set by the test).
  std::vector<wanted_route> wanted;

  /// Forgets every call recorded so far.
  void clear() {
    connects.clear();
    outgoing.clear();
    routes.clear();
    removes.clear();
  }

  /// Whether nothing was recorded since the last `clear`.
  bool empty() const {
    return connects.empty() && outgoing.empty() && routes.empty() &&
           removes.empty();
  }

  /// The outgoing messages of `command` and `kind`, in order.
  std::vector<outgoing_call> outgoing_of(const std::string& command,
                                         message_kind kind) const {
    std::vector<outgoing_call> result;
    for (auto& x : outgoing)
      if (x.msg.command == command && x.msg.kind == kind)
        result.push_back(x);
    return result;
  }
};

/// The behaviour of a sender that records into `rec` (owned by the test) and
/// sends nothing anywhere; outcomes are up to the test.
inline sender_actor::behavior_type fake_sender(sender_actor::pointer self,
                                               sender_record* rec) {
  return {
      [self, rec](connect_atom, std::string& uuid, std::string& endpoint) {
        rec->connects.push_back({rec->calls++, std::move(uuid),
                                 std::move(endpoint), self->clock().now()});
      },
      [self, rec](outgoing_atom, message& msg, priority prio,
                  concern_actor& owner) {
        rec->outgoing.push_back({rec->calls++, std::move(msg), prio,
                                 std::move(owner), self->clock().now()});
      },
      [self, rec](route_atom, std::string& uuid, peer_state state,
                  std::string& via) {
        rec->routes.push_back({rec->calls++, std::move(uuid), state,
                               std::move(via), self->clock().now()});
      },
      [](lost_atom, const std::string&) {},
      [self, rec](remove_atom, std::string& uuid) {
        rec->removes.push_back(
            {rec->calls++, std::move(uuid), self->clock().now()});
      },
      [rec](find_atom) { return rec->wanted; },
      [](stats_atom) { return sender_stats{}; },
  };
}

/// Sends a request to `dest` from a short-lived actor, runs the system and
/// returns the answer. Fails the test when no answer came.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(deterministic& fix, const Handle& dest, Ts... xs) {
  auto result = try_ask<T>(fix, dest, std::move(xs)...);
  REQUIRE(result.has_value());
  return std::move(*result);
}

/// A payload `{"host": host, "port": port}`, as `hello` carries.
inline payload address_payload(const std::string& host, std::int64_t port) {
  return payload_builder{}
      .add_string("host", host)
      .add_integer("port", port)
      .build();
}

/// A deterministic system with a fake sender and a real peer table.
class table_fixture : public deterministic {
public:
  /// Our own uuid.
  static constexpr const char* local = "local-0000";

  /// `tune` may change the settings before any actor sees them; the peer
  /// table owns `store` if there is one.
  explicit table_fixture(const std::function<void(config&)>& tune = nullptr,
                         std::unique_ptr<peer_store> store = nullptr)
      : settings(std::make_shared<config>()) {
    settings->uuid = local;
    if (tune)
      tune(*settings);
    sender = sys().spawn(fake_sender, &wire);
    peers = spawn_peer_table(sys(), settings, sender, std::move(store));
    run();
  }

  ~table_fixture() {
    caf::anon_send_exit(peers, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
    run();
  }

  /// Adds a peer (or updates its address) and returns it.
  peer add(const std::string& uuid, const std::string& host = "10.0.0.1",
           std::uint16_t port = 5000) {
    auto result = ask<peer>(*this, peers, add_atom::value, uuid, host, port);
    REQUIRE(result);
    return *result;
  }

  /// The peer table's record of `uuid`; fails the test when it has none.
  peer get(const std::string& uuid) {
    auto result = lookup(uuid);
    REQUIRE(result);
    return *result;
  }

  /// The peer table's answer for `uuid`.
  caf::expected<peer> lookup(const std::string& uuid) {
    return ask<peer>(*this, peers, get_atom::value, uuid);
  }

  /// Tells the peer table that `msg` arrived; returns its answer.
  caf::expected<peer> heard(const message& msg) {
    return ask<peer>(*this, peers, heard_atom::value, msg);
  }

  /// Asks the peer table to move `uuid` to `next`; returns its answer.
  caf::expected<peer> set_state(const std::string& uuid, peer_state next) {
    return ask<peer>(*this, peers, state_atom::value, uuid, next);
  }

  /// Applies the heart-beat rules now; returns the uuids due for a beat.
  std::vector<std::string> heart_beat() {
    return uuids(ask<std::vector<peer>>(*this, peers, heart_beat_atom::value));
  }

  /// Applies the connector rules now; returns the uuids to greet.
  std::vector<std::string> greet() {
    return uuids(ask<std::vector<peer>>(*this, peers, greet_atom::value));
  }

  /// A message `command` of `kind` from `source` for us, as the receiver
  /// decodes it, that reached us through `via` (straight from the source when
  /// `via` is empty).
  message incoming(const std::string& source, const std::string& command,
                   message_kind kind = message_kind::request,
                   std::uint64_t id = 1, payload body = payload{},
                   const std::string& via = "") {
    message result;
    result.source = source;
    result.to = local;
    result.previous_hop = via.empty() ? source : via;
    result.command = command;
    result.kind = kind;
    result.id = id;
    result.payload = std::move(body);
    return result;
  }

  /// Advances virtual time by `d` in steps of `step`, running every message
  /// in between, so periodic timers fire at each of their due times.
  void advance(duration d, duration step = std::chrono::seconds{1}) {
    while (d > duration::zero()) {
      auto x = std::min(d, step);
      advance_time(x);
      d -= x;
    }
  }

  std::shared_ptr<config> settings;
  sender_record wire;
  sender_actor sender;
  peer_table_actor peers;

private:
  static std::vector<std::string>
  uuids(const caf::expected<std::vector<peer>>& xs) {
    REQUIRE(xs);
    std::vector<std::string> result;
    for (auto& x : *xs)
      result.push_back(x.uuid);
    return result;
  }
};

/// A table fixture plus a manager running on a full concern context; concerns
/// are added to the manager by the test.
class concern_fixture : public table_fixture {
public:
  explicit concern_fixture(const std::function<void(config&)>& tune = nullptr)
      : table_fixture(tune) {
    ctx.local_uuid = local;
    ctx.host = "127.0.0.1";
    ctx.port = 7000;
    ctx.sender = sender;
    ctx.peers = peers;
    ctx.settings = settings;
    ctx.ids = std::make_shared<message_id_counter>();
    manager = spawn_manager(sys(), ctx);
    run();
  }

  ~concern_fixture() {
    caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
    run();
  }

  /// Registers the concern of `command` from `factory`.
  void add_concern(const std::string& command, concern_factory factory) {
    caf::anon_send(manager, add_atom::value, command, std::move(factory));
    run();
  }

  /// Hands `msg` to the manager as the receiver would.
  void deliver(message msg) {
    caf::anon_send(manager, incoming_atom::value,
                   std::vector<message>{std::move(msg)});
    run();
  }

  /// Makes `uuid` a known CONNECTED peer (heard from directly now), then
  /// forgets what the sender was told so far.
  void connected_peer(const std::string& uuid,
                      const std::string& host = "10.0.0.1",
                      std::uint16_t port = 5000) {
    add(uuid, host, port);
    auto p = heard(incoming(uuid, "hb", message_kind::reply));
    REQUIRE(p);
    REQUIRE(p->state == peer_state::connected);
    wire.clear();
  }

  concern_context ctx;
  manager_actor manager;
};

} // namespace p2p0mq::testing
