#pragma once

// Deterministic fixtures for the peer table, the dispatcher, the supervisor
// and the concerns: a fake sender that records what it is asked to do
// instead of touching sockets, a peer table wired to it, and (for concerns)
// the rest of a local peer's actors, built by its `assembly`. Everything runs
// on the test's thread under CAF's test coordinator.

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

#include "p2p0mq/actors/assembly.hpp"
#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/peer_table.hpp"
#include "p2p0mq/concern_payloads.hpp"
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
    owner_actor owner;
    time_point at;
  };

  struct route_call {
    std::size_t seq;
    std::string uuid;
    peer_state state;
    std::string via;
    bool relays;
    time_point at;
  };

  struct remove_call {
    std::size_t seq;
    std::string uuid;
    time_point at;
  };

  std::vector<connect_call> connects;
  std::vector<outgoing_call> outgoing;
  /// The number of messages in each `outgoing` actor message, in order.
  std::vector<std::size_t> batches;
  std::vector<route_call> routes;
  std::vector<remove_call> removes;
  std::size_t calls = 0;
  /// What the fake answers to `find_atom` (set by the test).
  std::vector<wanted_route> wanted;
  /// Who subscribed to wanted routes (`subscribe_atom`).
  std::vector<route_watcher_actor> route_watchers;

  /// Forgets every call recorded so far.
  void clear() {
    connects.clear();
    outgoing.clear();
    batches.clear();
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
                  owner_actor& owner) {
        rec->batches.push_back(1);
        rec->outgoing.push_back({rec->calls++, std::move(msg), prio,
                                 std::move(owner), self->clock().now()});
      },
      [self, rec](outgoing_atom, std::vector<message>& msgs, priority prio,
                  owner_actor& owner) {
        // Recorded as the messages handed over one at a time.
        rec->batches.push_back(msgs.size());
        for (auto& msg : msgs)
          rec->outgoing.push_back(
              {rec->calls++, std::move(msg), prio, owner, self->clock().now()});
      },
      [self, rec](route_atom, std::string& uuid, peer_state state,
                  std::string& via, bool relays) {
        rec->routes.push_back({rec->calls++, std::move(uuid), state,
                               std::move(via), relays, self->clock().now()});
      },
      [](lost_atom, const std::string&) {},
      [self, rec](remove_atom, std::string& uuid) {
        rec->removes.push_back(
            {rec->calls++, std::move(uuid), self->clock().now()});
      },
      [rec](find_atom) { return rec->wanted; },
      [rec](subscribe_atom, route_watcher_actor& who) {
        rec->route_watchers.push_back(std::move(who));
      },
      [](stats_atom) { return sender_stats{}; },
      [](stop_atom) { return std::uint64_t{0}; },
  };
}

/// The work a peer table made due, as a watcher of both kinds saw it.
struct due_record {
  std::vector<std::string> greetings;
  std::vector<std::string> beats;
};

/// Records the work a peer table hands out into `rec` (owned by the test).
inline due_watcher_actor::behavior_type due_recorder(due_watcher_actor::pointer,
                                                     due_record* rec) {
  return {
      [rec](due_atom, due_kind kind, const std::vector<peer>& peers) {
        auto& xs = kind == due_kind::greeting ? rec->greetings : rec->beats;
        for (auto& p : peers)
          xs.push_back(p.uuid);
      },
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

/// A `hello` payload of a C++ peer: `{"host": host, "port": port}` and what
/// it speaks (`capabilities::ours()`). A legacy hello (the Python peer's)
/// is `make_hello_payload(host, port)`.
inline payload address_payload(const std::string& host, std::int64_t port) {
  return payload_builder{}
      .add_string("host", host)
      .add_integer("port", port)
      .add_string_array(speaks_field, capabilities::ours().names())
      .add_integer(speaks_version_field, capabilities::version)
      .build();
}

/// A deterministic system with a fake sender and a real peer table. A
/// recorder takes the greetings and heart-beats the table makes due, from
/// the first call of `greet` and `heart_beat` on (the table applies the rules
/// of a kind only while someone takes that work: before the first call,
/// nothing is due, as when a local peer runs no concern for it).
class table_fixture : public deterministic {
public:
  /// Our own uuid.
  static constexpr const char* local = "local-0000";

  /// `tune` may change the settings before any actor sees them; the peer
  /// table owns `store` if there is one. With `whole_peer`, the table is the
  /// one of a whole local peer's actors (see `assembly`), without the
  /// built-in concerns, on the fake sender.
  explicit table_fixture(const std::function<void(config&)>& tune = nullptr,
                         std::unique_ptr<peer_store> store = nullptr,
                         bool whole_peer = false)
      : settings(std::make_shared<config>()) {
    settings->uuid = local;
    if (tune)
      tune(*settings);
    sender = sys().spawn(fake_sender, &wire);
    store_setup setup{std::move(store), false};
    if (whole_peer) {
      assembly_parts parts;
      parts.settings = settings;
      parts.host = "127.0.0.1";
      parts.port = 7000;
      parts.sender = sender;
      parts.store = std::move(setup);
      parts.built_in_concerns = false;
      actors = assembly::spawn(sys(), std::move(parts));
      peers = actors.peer_table();
    } else {
      peers = spawn_peer_table(sys(), settings, sender, std::move(setup));
    }
    due_watcher = sys().spawn(due_recorder, &due);
    run();
  }

  ~table_fixture() {
    // The table's stop sequence: its store syncs a last time.
    try_ask<bool>(*this, peers, stop_atom::value);
    if (actors.supervisor())
      actors.kill(caf::exit_reason::user_shutdown);
    caf::anon_send_exit(due_watcher, caf::exit_reason::user_shutdown);
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

  /// Tells the peer table that `msg` arrived; returns the record of its
  /// source after that (`errc::unknown_peer` for a peer it does not know).
  caf::expected<peer> heard(const message& msg) {
    caf::anon_send(peers, heard_atom::value, msg);
    run();
    return lookup(msg.source);
  }

  /// Asks the peer table to move `uuid` to `next`; returns its answer.
  caf::expected<peer> set_state(const std::string& uuid, peer_state next) {
    return ask<peer>(*this, peers, state_atom::value, uuid, next);
  }

  /// The uuids of the peers the heart-beat rules made due since the last
  /// call, in the order handed out (sorted within each due time); the first
  /// call takes the beats due now.
  std::vector<std::string> heart_beat() {
    take(due_kind::heart_beat);
    return std::exchange(due.beats, {});
  }

  /// The uuids of the peers handed out to greet since the last call; the
  /// first call takes the greetings due now.
  std::vector<std::string> greet() {
    take(due_kind::greeting);
    return std::exchange(due.greetings, {});
  }

  /// Has the recorder take the work of `kind` from now on, and runs.
  void take(due_kind kind) {
    auto& taken = kind == due_kind::greeting ? greetings_taken_ : beats_taken_;
    if (!taken) {
      taken = true;
      caf::anon_send(peers, subscribe_atom::value, kind, due_watcher);
    }
    run();
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
  due_record due;
  due_watcher_actor due_watcher;
  /// The actors of the whole local peer, with `whole_peer`.
  assembly actors;

private:
  bool greetings_taken_ = false;
  bool beats_taken_ = false;
};

/// The actors of a whole local peer on a fake sender (see `table_fixture`),
/// without the built-in concerns: the test adds the concerns it looks at.
class concern_fixture : public table_fixture {
public:
  explicit concern_fixture(const std::function<void(config&)>& tune = nullptr)
      : table_fixture(tune, nullptr, true),
        ctx(actors.context()),
        supervisor(actors.supervisor()),
        dispatcher(actors.dispatcher()) {
    run();
  }

  /// Registers the concern of `command` from `factory`.
  void add_concern(const std::string& command, concern_factory factory) {
    caf::anon_send(supervisor, add_atom::value, command, std::move(factory));
    run();
  }

  /// Hands `msg` to the dispatcher as the receiver would.
  void deliver(message msg) {
    caf::anon_send(dispatcher, incoming_atom::value,
                   std::vector<message>{std::move(msg)});
    run();
  }

  /// Makes `uuid` a known CONNECTED peer (heard from directly now) that
  /// said in its `hello` it speaks `speaks` (by default what our peers do),
  /// then forgets what the sender was told so far.
  void connected_peer(const std::string& uuid,
                      const std::string& host = "10.0.0.1",
                      std::uint16_t port = 5000,
                      capabilities speaks = capabilities::ours()) {
    add(uuid, host, port);
    REQUIRE(ask<peer>(*this, peers, learn_atom::value, uuid, host, port, false,
                      speaks));
    auto p = heard(incoming(uuid, "hb", message_kind::reply));
    REQUIRE(p);
    REQUIRE(p->state == peer_state::connected);
    wire.clear();
  }

  concern_context ctx;
  supervisor_actor supervisor;
  dispatcher_actor dispatcher;
};

} // namespace p2p0mq::testing
