#include "p2p0mq/actors/connector.hpp"

#include <string>
#include <unordered_map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

struct connector_state {
  static inline const char* name = "p2p0mq.connector";
  concern_context ctx;
  /// Peers with a `hello` of ours in flight, and since when: not greeted
  /// again until its outcome is known or two time-to-lives have passed. The
  /// peer table applies the same rule to the peers it hands out on a tick;
  /// this one also covers the peers we greet back when they greet us.
  std::unordered_map<std::string, time_point> greeting;
};

using connector_ptr = concern_actor::stateful_pointer<connector_state>;

/// Our receiver's address, as `hello` carries it.
payload our_address(const concern_context& ctx) {
  return make_hello_payload(ctx.host, ctx.port);
}

std::string endpoint_of(const std::string& host, std::uint16_t port) {
  return "tcp://" + host + ":" + std::to_string(port);
}

/// Connects to `p` and sends it a `hello` request, unless one is in flight.
void greet(connector_ptr self, const peer& p) {
  auto& ctx = self->state.ctx;
  auto now = self->clock().now();
  auto [i, added] = self->state.greeting.try_emplace(p.uuid, now);
  if (!added) {
    if (now - i->second <= 2 * ctx.settings->message_ttl)
      return;
    i->second = now;
  }
  self->send(ctx.sender, connect_atom::value, p.uuid,
             endpoint_of(p.host, p.port));
  auto msg = ctx.make_request(p.uuid, connector_command, our_address(ctx), now);
  // A hello always goes straight to the peer, whatever its route.
  msg.next_hop = p.uuid;
  log(log_level::debug, log_category::connector, "greeting ",
      short_uuid(p.uuid), " at ", p.host, ":", p.port);
  self->send(ctx.sender, outgoing_atom::value, std::move(msg), priority::fast,
             concern_actor{self});
}

void on_hello(connector_ptr self, message msg) {
  auto addr = parse_hello_payload(msg.payload);
  if (!addr) {
    log(log_level::warning, log_category::connector, "dropped a hello ",
        to_string(msg.kind), " from ", short_uuid(msg.source), ": ",
        render(addr.error()));
    return;
  }
  auto [host, port] = std::move(*addr);
  self->request(self->state.ctx.peers, caf::infinite, learn_atom::value,
                msg.source, host, port)
      .then(
          [self, msg](const peer& p) mutable {
            auto& ctx = self->state.ctx;
            if (msg.is_reply()) {
              caf::anon_send(ctx.peers, heard_atom::value, msg);
              return;
            }
            auto direct = msg.source == msg.previous_hop;
            if (direct)
              self->send(ctx.sender, connect_atom::value, p.uuid,
                         endpoint_of(p.host, p.port));
            auto reply =
                ctx.make_reply(msg, our_address(ctx), self->clock().now());
            self->send(ctx.sender, outgoing_atom::value, std::move(reply),
                       priority::fast, concern_actor{self});
            // A peer we reach only through relays told us its address: try
            // to reach it directly too.
            if (p.needs_reconnect() ||
                (!direct && p.state == peer_state::routed))
              greet(self, p);
            else
              caf::anon_send(ctx.peers, heard_atom::value, std::move(msg));
          },
          [self, msg](const caf::error& err) {
            // A full table warns about itself, at most every 10 s.
            log(err == errc::peer_table_full ? log_level::debug
                                             : log_level::warning,
                log_category::connector, "ignored a hello from ",
                short_uuid(msg.source), ": ", render(err));
          });
}

concern_actor::behavior_type connector_impl(connector_ptr self,
                                            concern_context context) {
  self->state.ctx = std::move(context);
  return {
      [self](incoming_atom, message& msg) { on_hello(self, std::move(msg)); },
      [self](tick_atom) {
        self->request(self->state.ctx.peers, caf::infinite, greet_atom::value)
            .then([self](const std::vector<peer>& due) {
              for (auto& p : due)
                greet(self, p);
            });
      },
      [self](sent_atom, const message& msg) {
        if (!msg.is_request())
          return;
        self->state.greeting.erase(msg.to);
        caf::anon_send(self->state.ctx.peers, state_atom::value, msg.to,
                       peer_state::connecting);
      },
      [](send_failed_atom, const message& msg, const caf::error& err) {
        // A connection still in its handshake (a new one after a failed
        // handshake, or to a new address) takes the hello shortly: try again
        // while its time-to-live lasts. Anything else (a missing
        // certificate, ...) waits for the next attempt after the reconnect
        // wait.
        auto again = err == errc::peer_unreachable;
        log(again ? log_level::debug : log_level::warning,
            log_category::connector, "hello ", to_string(msg.kind), " to ",
            short_uuid(msg.next_hop), " failed: ", render(err),
            again ? " (trying again)" : "");
        return again;
      },
      [self](dropped_atom, const message& msg, const caf::error&) {
        if (!msg.is_request())
          return;
        self->state.greeting.erase(msg.to);
        caf::anon_send(self->state.ctx.peers, state_atom::value, msg.to,
                       peer_state::no_connection);
      },
  };
}

} // namespace

concern_factory connector() {
  return [](caf::local_actor* parent, concern_context ctx) {
    return parent->spawn(connector_impl, std::move(ctx));
  };
}

} // namespace p2p0mq
