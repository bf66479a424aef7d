#pragma once

// A simulated network of local peers in one deterministic actor system: each
// peer has the real actors of a local peer (sender, peer table, router,
// manager and the built-in concerns, plus echo), and the senders' transports
// hand frames straight to the manager of the peer they name, through the
// real codec. Who reaches whom follows from who is told whose address, as on
// a real network; virtual time drives every rule.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/connector.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/manager.hpp"
#include "p2p0mq/actors/peer_table.hpp"
#include "p2p0mq/actors/router.hpp"
#include "p2p0mq/actors/sender.hpp"
#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/errc.hpp"
#include "support/concern_fixture.hpp"
#include "support/deterministic.hpp"

namespace p2p0mq::testing {

/// One message part of the simulated wire, as the sending peer handed it to
/// its socket.
struct sim_transfer {
  /// The sending peer (the previous hop at the receiving end).
  std::string from;
  /// Frames 0-6 as handed to the sender socket (frame 0: the next hop).
  frames xs;
  time_point at;

  const std::string& to() const {
    return xs[0];
  }

  const std::string& command() const {
    return xs[4];
  }

  bool is_request() const {
    return xs[3] == "\x01";
  }
};

/// Everything one simulated peer heard about the echo requests the test
/// sent from it.
struct sim_outcomes {
  /// Echo replies that came back, in order.
  std::vector<message> replies;
  /// Echo requests dropped by the sender, with the reason.
  std::vector<std::pair<message, caf::error>> dropped;
  std::size_t sent = 0;
};

/// Records echo replies (as the echo concern's listener).
inline caf::behavior sim_listener(caf::event_based_actor*, sim_outcomes* out) {
  return {
      [out](incoming_atom, message& msg) {
        out->replies.emplace_back(std::move(msg));
      },
      [](dropped_atom, const message&, const caf::error&) {
        // Only the owner's view counts: see `sim_owner`.
      },
  };
}

/// Owns the test's echo requests: records their outcomes.
inline concern_actor::behavior_type sim_owner(concern_actor::pointer,
                                              sim_outcomes* out) {
  return {
      [](incoming_atom, const message&) {},
      [](tick_atom) {},
      [out](sent_atom, const message&) { ++out->sent; },
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [out](dropped_atom, message& msg, caf::error& err) {
        out->dropped.emplace_back(std::move(msg), std::move(err));
      },
  };
}

class sim_network;

/// One local peer of the simulated network.
struct sim_peer {
  std::string uuid;
  std::uint16_t port = 0;
  std::shared_ptr<config> settings;
  concern_context ctx;
  router_actor router;
  manager_actor manager;
  /// Peers its sender has connected to.
  std::set<std::string> connected;
  sim_outcomes echo;
  caf::actor listener;
  concern_actor owner;
};

/// The sending side of a simulated peer: `send` hands the frames, as the
/// receiving socket would see them, to the manager of the next hop.
class sim_transport : public transport {
public:
  sim_transport(sim_network* net, std::string local)
      : net_(net), local_(std::move(local)) {
  }

  caf::error connect(const std::string& uuid, const std::string&) override;

  send_status send(const frames& xs, caf::error& err) override;

private:
  sim_network* net_;
  std::string local_;
};

/// A deterministic system holding a simulated network.
class sim_network : public deterministic {
public:
  ~sim_network() {
    for (auto& [uuid, p] : peers_) {
      caf::anon_send_exit(p->manager, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(p->ctx.peers, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(p->ctx.sender, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(p->router, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(p->listener, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(p->owner, caf::exit_reason::user_shutdown);
    }
    run();
  }

  /// Adds a peer with the built-in concerns and echo; `tune` may change its
  /// settings first.
  sim_peer& add(const std::string& uuid,
                const std::function<void(config&)>& tune = nullptr) {
    auto p = std::make_unique<sim_peer>();
    p->uuid = uuid;
    p->port = static_cast<std::uint16_t>(7000 + peers_.size());
    p->settings = std::make_shared<config>();
    p->settings->uuid = uuid;
    p->settings->host = "sim";
    p->settings->encryption = false;
    if (tune)
      tune(*p->settings);
    auto& ctx = p->ctx;
    ctx.local_uuid = uuid;
    ctx.host = "sim";
    ctx.port = p->port;
    ctx.settings = p->settings;
    ctx.ids = std::make_shared<message_id_counter>();
    ctx.sender = spawn_sender(sys(), uuid, p->settings,
                              std::make_unique<sim_transport>(this, uuid));
    ctx.peers = spawn_peer_table(sys(), p->settings, ctx.sender);
    p->router = spawn_router(sys(), uuid, p->settings, ctx.sender);
    p->manager = spawn_manager(sys(), ctx, p->router);
    p->listener = sys().spawn(sim_listener, &p->echo);
    p->owner = sys().spawn(sim_owner, &p->echo);
    auto add_concern = [&](const char* command, concern_factory f) {
      caf::anon_send(p->manager, add_atom::value, std::string{command},
                     std::move(f));
    };
    add_concern(connector_command, connector());
    add_concern(heart_beat_command, heart_beat());
    add_concern(ask_around_command, ask_around());
    add_concern(echo_command, echo(p->listener));
    run();
    auto& result = *p;
    peers_.emplace(uuid, std::move(p));
    return result;
  }

  /// The peer of `uuid`; fails the test when there is none.
  sim_peer& operator[](const std::string& uuid) {
    auto i = peers_.find(uuid);
    REQUIRE(i != peers_.end());
    return *i->second;
  }

  /// Whether `uuid` is a peer of the network.
  bool has(const std::string& uuid) const {
    return peers_.count(uuid) > 0;
  }

  /// Tells `a` the address of `b` (`a` greets `b` on its next tick).
  void tell(const std::string& a, const std::string& b) {
    auto& x = (*this)[a];
    auto& y = (*this)[b];
    auto added = ask<peer>(*this, x.ctx.peers, add_atom::value, y.uuid,
                           std::string{"sim"}, y.port);
    REQUIRE(added);
  }

  /// Tells each peer of `chain` the address of the next one.
  void line(const std::vector<std::string>& chain) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
      tell(chain[i], chain[i + 1]);
  }

  /// The record `a` keeps of `b`, if any.
  caf::expected<peer> record(const std::string& a, const std::string& b) {
    return ask<peer>(*this, (*this)[a].ctx.peers, get_atom::value, b);
  }

  /// Whether `a` has `b` in `state` (and, when given, via `via`).
  bool sees(const std::string& a, const std::string& b, peer_state state,
            const std::string& via = {}) {
    auto p = record(a, b);
    return p && p->state == state && (via.empty() || p->via == via);
  }

  /// Whether every pair of neighbours in `chain` is CONNECTED both ways.
  bool connected(const std::vector<std::string>& chain) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
      if (!sees(chain[i], chain[i + 1], peer_state::connected) ||
          !sees(chain[i + 1], chain[i], peer_state::connected))
        return false;
    return true;
  }

  /// Sends an echo request from `from` to `to`, carrying `seq`; returns its
  /// message id.
  std::uint64_t ping(const std::string& from, const std::string& to,
                     std::int64_t seq = 1) {
    auto& p = (*this)[from];
    auto body = payload_builder{}.add_integer("seq", seq).build();
    auto msg = p.ctx.make_request(to, echo_command, std::move(body), now());
    auto id = msg.id;
    caf::anon_send(p.ctx.sender, outgoing_atom::value, std::move(msg),
                   priority::fast, p.owner);
    run();
    return id;
  }

  /// Whether `from` got the reply to its echo request `id`.
  bool answered(const std::string& from, std::uint64_t id) {
    for (auto& r : (*this)[from].echo.replies)
      if (r.id == id)
        return true;
    return false;
  }

  /// The counters of the router of `uuid`.
  router_stats router_counters(const std::string& uuid) {
    auto result =
        ask<router_stats>(*this, (*this)[uuid].router, stats_atom::value);
    REQUIRE(result);
    return *result;
  }

  /// Moves time on by `d` in steps of `step`, running everything between.
  void advance(duration d, duration step = std::chrono::milliseconds{100}) {
    while (d > duration::zero()) {
      auto x = std::min(d, step);
      advance_time(x);
      d -= x;
    }
  }

  /// Everything that went over the wire, in order.
  const std::vector<sim_transfer>& transfers() const {
    return transfers_;
  }

  /// The transfers of `command` and kind (request or not) sent by `from`
  /// (any peer when empty).
  std::vector<sim_transfer> transfers_of(const std::string& command,
                                         bool requests,
                                         const std::string& from = {}) const {
    std::vector<sim_transfer> result;
    for (auto& x : transfers_)
      if (x.command() == command && x.is_request() == requests &&
          (from.empty() || x.from == from))
        result.push_back(x);
    return result;
  }

  /// Forgets the transfers so far.
  void clear_transfers() {
    transfers_.clear();
  }

  /// Whether `uuid`'s sender connected to `other`.
  bool can_send(const std::string& uuid, const std::string& other) {
    auto& xs = (*this)[uuid].connected;
    return xs.count(other) > 0;
  }

  /// Hands the frames `xs`, sent by `from`, to the peer they name.
  send_status deliver(const std::string& from, const frames& xs,
                      caf::error& err) {
    auto i = peers_.find(xs[0]);
    if (!can_send(from, xs[0]) || i == peers_.end()) {
      err = make_error(errc::peer_unreachable, "no connection to " + xs[0]);
      return send_status::unreachable;
    }
    transfers_.push_back({from, xs, now()});
    // As the receiving socket reads it: frame 0 is the previous hop.
    std::vector<std::string> in(xs.begin(), xs.end());
    in[0] = from;
    auto msg = decode(in, i->first);
    REQUIRE(msg);
    caf::anon_send(i->second->manager, incoming_atom::value,
                   std::vector<message>{std::move(*msg)});
    return send_status::sent;
  }

private:
  std::map<std::string, std::unique_ptr<sim_peer>> peers_;
  std::vector<sim_transfer> transfers_;
};

inline caf::error sim_transport::connect(const std::string& uuid,
                                         const std::string&) {
  (*net_)[local_].connected.insert(uuid);
  return caf::none;
}

inline send_status sim_transport::send(const frames& xs, caf::error& err) {
  return net_->deliver(local_, xs, err);
}

} // namespace p2p0mq::testing
