#include "p2p0mq/actors/peer_table.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// The longest a periodic sync waits for a lock another program holds on the
/// store's database; the table answers nothing meanwhile. A sync that gives
/// up tries again at the next interval.
constexpr duration periodic_lock_wait = std::chrono::milliseconds{100};

/// The least time between two warnings about a full table.
constexpr duration full_log_interval = std::chrono::seconds{10};

/// The peers a full table may evict, in the order they became evictable.
class eviction_queue {
public:
  /// Adds `uuid` at the back, unless it is in the queue already.
  void push(const std::string& uuid) {
    if (seq_.try_emplace(uuid, next_).second)
      order_.emplace(next_++, uuid);
  }

  /// Removes `uuid` if it is in the queue.
  void erase(const std::string& uuid) {
    auto i = seq_.find(uuid);
    if (i == seq_.end())
      return;
    order_.erase(i->second);
    seq_.erase(i);
  }

  /// The peer evictable the longest, or null.
  const std::string* oldest() const {
    return order_.empty() ? nullptr : &order_.begin()->second;
  }

private:
  std::map<std::uint64_t, std::string> order_;
  std::unordered_map<std::string, std::uint64_t> seq_;
  std::uint64_t next_ = 0;
};

struct peer_table_state {
  static inline const char* name = "p2p0mq.peer_table";
  std::shared_ptr<const config> settings;
  sender_actor sender;
  std::unordered_map<std::string, peer> peers;
  /// Peers handed out to greet, and when: not handed out again until the
  /// outcome of that `hello` is known, or two time-to-lives have passed (the
  /// outcome went to a connector that has since been restarted).
  std::unordered_map<std::string, time_point> greeting;
  /// The peer store, when the local peer has a database.
  std::unique_ptr<peer_store> store;
  /// Peers added by the user or from the store: never evicted.
  std::unordered_set<std::string> pinned;
  /// Peers not pinned and INITIAL, CONNECTING or NO_CONNECTION.
  eviction_queue evictable;
  /// Evictions and refusals since the last warning about them, and when
  /// that warning was (none yet: unset).
  std::uint64_t evicted = 0;
  std::uint64_t refused = 0;
  std::optional<time_point> full_logged;

  /// Syncs a last time, whichever way the actor exits.
  ~peer_table_state();
};

/// The peer table's own interface: the public one plus its sync timer.
using peer_table_impl_actor =
    peer_table_actor::extend<caf::reacts_to<timeout_atom>>;

using peer_table_ptr =
    peer_table_impl_actor::stateful_pointer<peer_table_state>;

/// Keeps `p`'s place in the eviction queue in line with its state.
void reindex(peer_table_state& st, const peer& p) {
  auto idle = p.state == peer_state::initial ||
              p.state == peer_state::connecting ||
              p.state == peer_state::no_connection;
  if (idle && st.pinned.count(p.uuid) == 0)
    st.evictable.push(p.uuid);
  else
    st.evictable.erase(p.uuid);
}

/// Warns about evictions and refusals, at most once per interval.
void log_full(peer_table_state& st, time_point now) {
  if (st.full_logged && now - *st.full_logged < full_log_interval)
    return;
  st.full_logged = now;
  log(log_level::warning, log_category::connector, "the peer table is full (",
      st.settings->max_peers, " peers): ", st.evicted,
      " idle peers evicted and ", st.refused,
      " new peers refused since the last warning");
  st.evicted = 0;
  st.refused = 0;
}

/// Makes room for one more peer, evicting one if the table is full. Returns
/// `errc::peer_table_full` when it cannot.
caf::error make_room(peer_table_state& st, time_point now) {
  auto limit = st.settings->max_peers;
  if (limit == 0 || st.peers.size() < limit)
    return caf::none;
  auto victim = st.evictable.oldest();
  if (victim == nullptr) {
    ++st.refused;
    log_full(st, now);
    return make_error(errc::peer_table_full,
                      std::to_string(st.peers.size()) +
                          " peers, none of them evictable");
  }
  auto uuid = *victim;
  log(log_level::debug, log_category::connector, "evicted ", short_uuid(uuid),
      " (", to_string(st.peers.at(uuid).state), ") to make room");
  st.evictable.erase(uuid);
  st.greeting.erase(uuid);
  st.peers.erase(uuid);
  caf::anon_send(st.sender, remove_atom::value, std::move(uuid));
  ++st.evicted;
  log_full(st, now);
  return caf::none;
}

/// Syncs the table with its store, waiting at most `wait` for a lock, and
/// applies what the store found: ids of new rows, addresses changed in the
/// database, and peers other programs added (INITIAL since `now`). On error
/// nothing changed.
caf::error sync_store(peer_table_state& st, time_point now, duration wait) {
  auto started = clock_type::now();
  std::vector<stored_peer> rows;
  rows.reserve(st.peers.size());
  for (auto& [uuid, p] : st.peers)
    rows.push_back(stored_peer{uuid, p.host, p.port, p.db_id});
  auto changes = st.store->sync(rows, wait);
  if (!changes)
    return std::move(changes.error());
  for (auto& x : changes->assigned)
    if (auto i = st.peers.find(x.uuid); i != st.peers.end())
      i->second.db_id = x.db_id;
  for (auto& x : changes->moved) {
    if (auto i = st.peers.find(x.uuid); i != st.peers.end()) {
      log(log_level::info, log_category::store, short_uuid(x.uuid),
          " moved to ", x.host, ":", x.port, " in the store");
      i->second.host = std::move(x.host);
      i->second.port = x.port;
    }
  }
  for (auto& x : changes->added) {
    if (st.peers.count(x.uuid) > 0)
      continue;
    if (make_room(st, now))
      continue;
    st.pinned.insert(x.uuid);
    auto& p = st.peers[x.uuid];
    p.uuid = std::move(x.uuid);
    p.host = std::move(x.host);
    p.port = x.port;
    p.db_id = x.db_id;
    p.state_since = now;
    log(log_level::info, log_category::store, "new peer ", short_uuid(p.uuid),
        " at ", p.host, ":", p.port, " from the store");
  }
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      clock_type::now() - started);
  log(log_level::debug, log_category::store, "synced ", rows.size(),
      " peers in ", took.count(), " us: ", changes->inserted, " inserted, ",
      changes->updated, " updated, ", changes->deleted, " deleted, ",
      changes->added.size(), " added, ", changes->moved.size(), " moved");
  return caf::none;
}

peer_table_state::~peer_table_state() {
  if (!store)
    return;
  if (auto err = sync_store(*this, time_point{}, settings->store_lock_wait))
    log(log_level::error, log_category::store,
        "the last sync failed, changes since the one before are not stored: ",
        render(err));
}

/// A periodic sync, or the first; a failed one is tried again at the next
/// interval.
void sync_now(peer_table_ptr self, duration wait) {
  auto& st = self->state;
  if (auto err = sync_store(st, self->clock().now(), wait))
    log(log_level::warning, log_category::store,
        "sync failed, trying again in ",
        std::chrono::duration_cast<std::chrono::milliseconds>(
            st.settings->store_sync_interval)
            .count(),
        " ms: ", render(err));
}

/// Applies `change` to `p` and tells the sender when the state or the route
/// changed.
template <class F>
void update(peer_table_ptr self, peer& p, F change) {
  auto old_state = p.state;
  auto old_via = p.via;
  change(p);
  if (p.state == old_state && p.via == old_via)
    return;
  reindex(self->state, p);
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

/// Adds the peer `uuid` at `host`:`port`, or updates its address; `pin`
/// keeps it from ever being evicted.
caf::result<peer> add_peer(peer_table_ptr self, const std::string& uuid,
                           std::string& host, std::uint16_t port, bool pin) {
  auto& st = self->state;
  if (uuid.size() < min_uuid_size)
    return make_error(errc::invalid_peer,
                      "uuid of " + std::to_string(uuid.size()) +
                          " bytes, at least " + std::to_string(min_uuid_size) +
                          " expected");
  if (uuid == st.settings->uuid)
    return make_error(errc::invalid_peer, "the local peer's own uuid");
  auto now = self->clock().now();
  if (st.peers.count(uuid) == 0)
    if (auto err = make_room(st, now))
      return err;
  auto [i, added] = st.peers.try_emplace(uuid);
  auto& p = i->second;
  if (added) {
    p.uuid = uuid;
    p.state_since = now;
    log(log_level::info, log_category::connector, "new peer ", short_uuid(uuid),
        " at ", host, ":", port);
  }
  p.host = std::move(host);
  p.port = port;
  if (pin)
    st.pinned.insert(uuid);
  reindex(st, p);
  return p;
}

peer_table_impl_actor::behavior_type
peer_table(peer_table_ptr self, std::shared_ptr<const config> settings,
           sender_actor sender, std::unique_ptr<peer_store> store) {
  auto& state = self->state;
  state.settings = std::move(settings);
  state.sender = std::move(sender);
  state.store = std::move(store);
  if (state.store) {
    sync_now(self, state.settings->store_lock_wait);
    self->delayed_send(self, state.settings->store_sync_interval,
                       timeout_atom::value);
  }
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
             std::uint16_t port) {
        return add_peer(self, uuid, host, port, true);
      },
      [self](learn_atom, const std::string& uuid, std::string& host,
             std::uint16_t port) {
        return add_peer(self, uuid, host, port, false);
      },
      [self](remove_atom, const std::string& uuid) {
        self->state.greeting.erase(uuid);
        self->state.pinned.erase(uuid);
        self->state.evictable.erase(uuid);
        return self->state.peers.erase(uuid) > 0;
      },
      [self](heard_atom, const message& msg) -> caf::result<peer> {
        auto& st = self->state;
        auto i = st.peers.find(msg.source);
        if (i == st.peers.end())
          return make_error(errc::unknown_peer, short_uuid(msg.source));
        st.greeting.erase(msg.source);
        auto& p = i->second;
        // A peer that talks to us directly before we connected to it (it
        // knew us from before our restart and goes on with its heart-beats,
        // while we still hold it as INITIAL from the store): connect to it
        // now, or every answer would find no connection and it would never be
        // greeted, being CONNECTED. Before the route change, so that the
        // sender has the connection when it sends what waited for the route.
        auto direct =
            msg.previous_hop.empty() || msg.source == msg.previous_hop;
        if (direct && p.state != peer_state::connected &&
            p.state != peer_state::connecting && !p.host.empty() && p.port != 0)
          self->send(st.sender, connect_atom::value, p.uuid,
                     "tcp://" + p.host + ":" + std::to_string(p.port));
        auto now = self->clock().now();
        update(self, p,
               [&](peer& x) { x.become_connected(msg, now, *st.settings); });
        return p;
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
      [self](round_trip_atom, const std::string& uuid, caf::timespan rtt) {
        auto i = self->state.peers.find(uuid);
        if (i != self->state.peers.end())
          i->second.round_trips.add(rtt);
      },
      [self](via_atom, const std::string& uuid,
             const std::string& relay) -> caf::result<peer> {
        auto& st = self->state;
        if (auto err = check_route_hint(*st.settings, uuid, relay))
          return err;
        auto now = self->clock().now();
        if (st.peers.count(uuid) == 0)
          if (auto err = make_room(st, now))
            return err;
        auto [i, added] = st.peers.try_emplace(uuid);
        auto& p = i->second;
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
      [self](timeout_atom) {
        auto& st = self->state;
        sync_now(self,
                 std::min(periodic_lock_wait, st.settings->store_lock_wait));
        self->delayed_send(self, st.settings->store_sync_interval,
                           timeout_atom::value);
      },
  };
}

} // namespace

peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender,
                                  std::unique_ptr<peer_store> store) {
  return caf::actor_cast<peer_table_actor>(sys.spawn(
      peer_table, std::move(settings), std::move(sender), std::move(store)));
}

} // namespace p2p0mq
