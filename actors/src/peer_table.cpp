#include "p2p0mq/actors/peer_table.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

struct peer_table_state {
  static inline const char* name = "p2p0mq.peer_table";
  std::shared_ptr<const config> settings;
  sender_actor sender;
  std::unordered_map<std::string, peer> peers;
  /// Peers handed out to greet, and when: not handed out again until the
  /// outcome of that `hello` is known, or two time-to-lives have passed (the
  /// outcome went to a connector that has since been restarted).
  std::unordered_map<std::string, time_point> greeting;
};

using peer_table_ptr = peer_table_actor::stateful_pointer<peer_table_state>;

/// Applies `change` to `p` and tells the sender when the state or the route
/// changed.
template <class F>
void update(peer_table_ptr self, peer& p, F change) {
  auto old_state = p.state;
  auto old_via = p.via;
  change(p);
  if (p.state == old_state && p.via == old_via)
    return;
  log(log_level::info, log_category::connector, short_uuid(p.uuid), " ",
      to_string(old_state), " -> ", to_string(p.state),
      p.via.empty() ? "" : " via ", short_uuid(p.via));
  self->send(self->state.sender, route_atom::value, p.uuid, p.state, p.via);
}

/// Why a route hint "`uuid` is reached through `relay`" is not acceptable,
/// or no error.
caf::error check_route_hint(const config& cfg, const std::string& uuid,
                            const std::string& relay) {
  if (uuid.size() < min_uuid_size || relay.size() < min_uuid_size)
    return make_error(errc::invalid_peer,
                      "a route hint with a uuid of " +
                          std::to_string(std::min(uuid.size(), relay.size())) +
                          " bytes");
  if (uuid == cfg.uuid || relay == cfg.uuid)
    return make_error(errc::invalid_peer,
                      "a route hint naming the local peer itself");
  if (uuid == relay)
    return make_error(errc::invalid_peer,
                      "a route hint naming a peer as its own relay");
  return caf::none;
}

std::vector<peer> sorted(std::vector<peer> xs) {
  std::sort(xs.begin(), xs.end(),
            [](const peer& x, const peer& y) { return x.uuid < y.uuid; });
  return xs;
}

peer_table_actor::behavior_type
peer_table(peer_table_ptr self, std::shared_ptr<const config> settings,
           sender_actor sender) {
  self->state.settings = std::move(settings);
  self->state.sender = std::move(sender);
  return {
      [self](get_atom) {
        std::vector<peer> result;
        result.reserve(self->state.peers.size());
        for (auto& kvp : self->state.peers)
          result.emplace_back(kvp.second);
        return sorted(std::move(result));
      },
      [self](get_atom, const std::string& uuid) -> caf::result<peer> {
        auto i = self->state.peers.find(uuid);
        if (i == self->state.peers.end())
          return make_error(errc::unknown_peer, short_uuid(uuid));
        return i->second;
      },
      [self](add_atom, const std::string& uuid, std::string& host,
             std::uint16_t port) -> caf::result<peer> {
        auto& st = self->state;
        if (uuid.size() < min_uuid_size)
          return make_error(errc::invalid_peer,
                            "uuid of " + std::to_string(uuid.size()) +
                                " bytes, at least " +
                                std::to_string(min_uuid_size) + " expected");
        if (uuid == st.settings->uuid)
          return make_error(errc::invalid_peer, "the local peer's own uuid");
        auto [i, added] = st.peers.try_emplace(uuid);
        auto& p = i->second;
        if (added) {
          p.uuid = uuid;
          p.state_since = self->clock().now();
          log(log_level::info, log_category::connector, "new peer ",
              short_uuid(uuid), " at ", host, ":", port);
        }
        p.host = std::move(host);
        p.port = port;
        return p;
      },
      [self](remove_atom, const std::string& uuid) {
        self->state.greeting.erase(uuid);
        return self->state.peers.erase(uuid) > 0;
      },
      [self](heard_atom, const message& msg) -> caf::result<peer> {
        auto& st = self->state;
        auto i = st.peers.find(msg.source);
        if (i == st.peers.end())
          return make_error(errc::unknown_peer, short_uuid(msg.source));
        st.greeting.erase(msg.source);
        auto now = self->clock().now();
        update(self, i->second,
               [&](peer& p) { p.become_connected(msg, now, *st.settings); });
        return i->second;
      },
      [self](state_atom, const std::string& uuid,
             peer_state next) -> caf::result<peer> {
        auto& st = self->state;
        auto i = st.peers.find(uuid);
        if (i == st.peers.end())
          return make_error(errc::unknown_peer, short_uuid(uuid));
        st.greeting.erase(uuid);
        auto now = self->clock().now();
        update(self, i->second, [&](peer& p) {
          switch (next) {
          case peer_state::connecting:
            if (p.needs_reconnect())
              p.set_state(next, now);
            break;
          case peer_state::no_connection:
            if (p.state != peer_state::connected &&
                p.state != peer_state::routed)
              p.become_no_connection(now, *st.settings);
            break;
          default:
            p.set_state(next, now);
          }
        });
        return i->second;
      },
      [self](heart_beat_atom) {
        auto& st = self->state;
        auto& cfg = *st.settings;
        auto now = self->clock().now();
        std::vector<peer> due;
        for (auto& kvp : st.peers) {
          auto& p = kvp.second;
          switch (p.heart_beat_due(now, cfg)) {
          case heart_beat_action::none:
            break;
          case heart_beat_action::no_connection:
            update(self, p, [&](peer& x) { x.become_no_connection(now, cfg); });
            break;
          case heart_beat_action::unreachable:
            update(self, p,
                   [&](peer& x) { x.set_state(peer_state::unreachable, now); });
            [[fallthrough]];
          case heart_beat_action::send:
            p.schedule_heart_beat(now, cfg);
            due.emplace_back(p);
            break;
          }
        }
        return sorted(std::move(due));
      },
      [self](via_atom, const std::string& uuid,
             const std::string& relay) -> caf::result<peer> {
        auto& st = self->state;
        if (auto err = check_route_hint(*st.settings, uuid, relay))
          return err;
        auto [i, added] = st.peers.try_emplace(uuid);
        auto& p = i->second;
        auto now = self->clock().now();
        if (added) {
          p.uuid = uuid;
          p.state_since = now;
          log(log_level::info, log_category::router, "new peer ",
              short_uuid(uuid), " reached via ", short_uuid(relay));
        }
        update(self, p,
               [&](peer& x) { x.become_routed(relay, now, *st.settings); });
        return p;
      },
      [self](greet_atom) {
        auto& st = self->state;
        auto& cfg = *st.settings;
        auto now = self->clock().now();
        std::vector<peer> due;
        for (auto& kvp : st.peers) {
          auto& p = kvp.second;
          switch (p.connect_due(now, cfg)) {
          case connect_action::none:
            break;
          case connect_action::give_up:
            log(log_level::info, log_category::connector, short_uuid(p.uuid),
                " never answered its hello");
            update(self, p, [&](peer& x) { x.become_no_connection(now, cfg); });
            break;
          case connect_action::send_hello: {
            auto i = st.greeting.find(p.uuid);
            if (i != st.greeting.end() &&
                now - i->second <= 2 * cfg.message_ttl)
              break;
            st.greeting[p.uuid] = now;
            due.emplace_back(p);
            break;
          }
          }
        }
        return sorted(std::move(due));
      },
  };
}

} // namespace

peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender) {
  return sys.spawn(peer_table, std::move(settings), std::move(sender));
}

} // namespace p2p0mq
