#include "p2p0mq/actors/peer_table.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

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

/// When each peer is due next, in order: one timer serves them all.
class due_index {
public:
  /// Files `uuid` as due at `at`; `time_point::max()` takes it out.
  void set(const std::string& uuid, time_point at) {
    auto i = at_.find(uuid);
    if (i != at_.end()) {
      if (i->second == at)
        return;
      order_.erase({i->second, uuid});
      if (at == time_point::max()) {
        at_.erase(i);
        return;
      }
      i->second = at;
    } else {
      if (at == time_point::max())
        return;
      at_.emplace(uuid, at);
    }
    order_.emplace(at, uuid);
  }

  void erase(const std::string& uuid) {
    set(uuid, time_point::max());
  }

  /// The earliest due time, or `time_point::max()`.
  time_point next() const {
    return order_.empty() ? time_point::max() : order_.begin()->first;
  }

  /// Takes out and returns the peers due by `now`.
  std::vector<std::string> take(time_point now) {
    std::vector<std::string> result;
    while (!order_.empty() && order_.begin()->first <= now) {
      result.push_back(order_.begin()->second);
      at_.erase(order_.begin()->second);
      order_.erase(order_.begin());
    }
    return result;
  }

private:
  std::set<std::pair<time_point, std::string>> order_;
  std::unordered_map<std::string, time_point> at_;
};

struct peer_table_state {
  static inline const char* name = "p2p0mq.peer_table";
  std::shared_ptr<const config> settings;
  sender_actor sender;
  std::unordered_map<std::string, peer> peers;
  /// Peers handed out to greet, and when (see `spawn_peer_table`).
  std::unordered_map<std::string, time_point> greeting;
  /// Callers waiting for a peer to be CONNECTED (or ROUTED), by uuid.
  struct waiter {
    caf::typed_response_promise<peer> promise;
    bool routed;
    time_point until;
  };
  std::unordered_map<std::string, std::vector<waiter>> waiters;
  /// The waiters' deadlines; the timer of the earliest one.
  std::multimap<time_point, std::string> waiter_deadlines;
  std::optional<time_point> waiter_timer;
  /// CONNECTED peers greeted to learn what they speak, and when.
  std::unordered_map<std::string, time_point> speaks_asked;
  /// When each peer is due next.
  due_index due;
  /// When the pending timer fires, if one is pending.
  std::optional<time_point> timer_at;
  /// Whether a look at the due peers is queued (a timer of zero).
  bool check_queued = false;
  /// Who takes each kind of work.
  std::vector<due_watcher_actor> greeters;
  std::vector<due_watcher_actor> beaters;
  /// Who hears of changes, and the changes not yet told.
  std::vector<peer_watcher_actor> watchers;
  std::vector<peer_change> changes;
  /// The store actor, when the local peer has a store, and the rows not yet
  /// told to it.
  store_actor store;
  std::vector<stored_peer> store_rows;
  std::vector<std::string> store_gone;
  /// Peers added by the user or from the store: never evicted.
  std::unordered_set<std::string> pinned;
  /// Peers not pinned and INITIAL, CONNECTING or NO_CONNECTION.
  eviction_queue evictable;
  /// Evictions and refusals since the last warning about them, and when
  /// that warning was (none yet: unset).
  std::uint64_t evicted = 0;
  std::uint64_t refused = 0;
  std::optional<time_point> full_logged;
};

/// The peer table's own interface: the public one, its timer and what its
/// store actor tells it.
using peer_table_impl_actor =
    peer_table_actor::extend<caf::reacts_to<timeout_atom>,
                             caf::reacts_to<sync_atom, store_changes>,
                             caf::reacts_to<await_atom>>;

using peer_table_ptr =
    peer_table_impl_actor::stateful_pointer<peer_table_state>;

std::string endpoint_of(const peer& p) {
  return "tcp://" + p.host + ":" + std::to_string(p.port);
}

bool is_connect_state(peer_state x) {
  return x == peer_state::initial || x == peer_state::no_connection ||
         x == peer_state::connecting;
}

// -- telling others -----------------------------------------------------------

/// Tells the watchers, the store actor and whoever else waits what changed
/// while the current message was handled.
void flush(peer_table_ptr self) {
  auto& st = self->state;
  if (!st.changes.empty()) {
    if (st.watchers.size() == 1) {
      self->send(st.watchers.front(), changed_atom::value,
                 std::move(st.changes));
    } else {
      for (auto& w : st.watchers)
        self->send(w, changed_atom::value, st.changes);
    }
    st.changes.clear();
  }
  if (st.store) {
    if (!st.store_rows.empty())
      self->send(st.store, add_atom::value, std::move(st.store_rows));
    if (!st.store_gone.empty())
      self->send(st.store, remove_atom::value, std::move(st.store_gone));
  }
  st.store_rows.clear();
  st.store_gone.clear();
}

void note_change(peer_table_state& st, change_kind what, const peer& p,
                 peer_state was) {
  if (!st.watchers.empty())
    st.changes.push_back(peer_change{what, p, was});
}

/// The peer's identity and address changed (or it is new): the store writes
/// it at its next sync.
void note_address(peer_table_state& st, const peer& p) {
  if (st.store)
    st.store_rows.push_back(stored_peer{p.uuid, p.host, p.port, p.db_id});
}

// -- the timer ----------------------------------------------------------------

/// Sets the timer to the earliest due time, unless it fires by then already;
/// queues a look at once when a peer is due now.
void arm_timer(peer_table_ptr self) {
  auto& st = self->state;
  auto next = st.due.next();
  if (next == time_point::max())
    return;
  auto now = self->clock().now();
  if (next <= now) {
    if (!st.check_queued) {
      st.check_queued = true;
      self->send(self, timeout_atom::value);
    }
    return;
  }
  if (st.timer_at && *st.timer_at <= next)
    return;
  st.timer_at = next;
  self->scheduled_send(self, next, timeout_atom::value);
}

/// Files `p` by the time its rules act next; a peer whose greeting is in
/// flight waits for its outcome (or two time-to-lives). The rules of a kind
/// apply only while a watcher takes that work: peers are greeted only while
/// one takes greetings, and judged by the heart-beat rules only while one
/// takes beats.
void schedule(peer_table_ptr self, const peer& p) {
  auto& st = self->state;
  auto at = p.next_due(*st.settings);
  if (p.does_heart_beat() && st.beaters.empty()) {
    at = time_point::max();
  } else if (p.state == peer_state::initial ||
             p.state == peer_state::no_connection) {
    if (st.greeters.empty()) {
      at = time_point::max();
    } else if (auto i = st.greeting.find(p.uuid); i != st.greeting.end()) {
      auto again = i->second + 2 * st.settings->message_ttl + duration{1};
      at = std::max(at, again);
    }
  } else if (p.relayed_with_address()) {
    // Beaten, and greeted straight now and then: a greeting that cannot go
    // (no greeter, or one in flight) must not make the peer due at once.
    auto greet = p.next_connect;
    if (st.greeters.empty())
      greet = time_point::max();
    else if (auto i = st.greeting.find(p.uuid); i != st.greeting.end())
      greet = std::max(greet,
                       i->second + 2 * st.settings->message_ttl + duration{1});
    at = std::min(p.next_heart_beat, greet);
  }
  st.due.set(p.uuid, at);
  arm_timer(self);
}

// -- records ------------------------------------------------------------------

/// Keeps `p`'s place in the eviction queue in line with its state.
void reindex(peer_table_state& st, const peer& p) {
  auto idle = is_connect_state(p.state);
  if (idle && st.pinned.count(p.uuid) == 0)
    st.evictable.push(p.uuid);
  else
    st.evictable.erase(p.uuid);
}

/// Answers the callers waiting for `p` that its state satisfies.
void answer_waiters(peer_table_state& st, const peer& p) {
  auto i = st.waiters.find(p.uuid);
  if (i == st.waiters.end())
    return;
  auto& xs = i->second;
  auto ok = [&](const peer_table_state::waiter& w) {
    return p.state == peer_state::connected ||
           (w.routed && p.state == peer_state::routed);
  };
  for (auto& w : xs)
    if (ok(w))
      w.promise.deliver(p);
  xs.erase(std::remove_if(xs.begin(), xs.end(), ok), xs.end());
  if (xs.empty())
    st.waiters.erase(i);
}

/// Applies `change` to `p`, files it by its next due time, and tells the
/// sender and the watchers when its state or route changed.
template <class F>
void update(peer_table_ptr self, peer& p, F change) {
  auto& st = self->state;
  auto old_state = p.state;
  auto old_via = p.via;
  change(p);
  schedule(self, p);
  if (p.state == old_state && p.via == old_via)
    return;
  reindex(st, p);
  log(log_level::info, log_category::connector, short_uuid(p.uuid), " ",
      to_string(old_state), " -> ", to_string(p.state),
      p.via.empty() ? "" : " via ", short_uuid(p.via));
  self->send(st.sender, route_atom::value, p.uuid, p.state, p.via, p.relays());
  note_change(st, change_kind::changed, p, old_state);
  answer_waiters(st, p);
}

/// Records what `p` speaks, from its `hello`; tells the sender when whether
/// it relays changed, and warns when the default route turns out not to.
void learn_speaks(peer_table_ptr self, peer& p, const capabilities& speaks) {
  auto& st = self->state;
  auto relayed = p.relays();
  p.speaks = speaks;
  st.speaks_asked.erase(p.uuid);
  if (p.relays() == relayed)
    return;
  self->send(st.sender, route_atom::value, p.uuid, p.state, p.via, p.relays());
  if (!p.relays() && p.uuid == st.settings->default_route)
    log(log_level::warning, log_category::router, "the default route ",
        short_uuid(p.uuid),
        " does not relay messages for other peers (its hello announces no "
        "forwarding: a Python peer?); nothing goes through it");
}

/// Forgets `uuid` everywhere but in `peers`.
void forget(peer_table_state& st, const std::string& uuid) {
  st.greeting.erase(uuid);
  st.speaks_asked.erase(uuid);
  st.pinned.erase(uuid);
  st.evictable.erase(uuid);
  st.due.erase(uuid);
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
caf::error make_room(peer_table_ptr self, time_point now) {
  auto& st = self->state;
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
  auto i = st.peers.find(uuid);
  log(log_level::debug, log_category::connector, "evicted ", short_uuid(uuid),
      " (", to_string(i->second.state), ") to make room");
  forget(st, uuid);
  note_change(st, change_kind::removed, i->second, i->second.state);
  st.peers.erase(i);
  if (st.store)
    st.store_gone.push_back(uuid);
  self->send(st.sender, remove_atom::value, std::move(uuid));
  ++st.evicted;
  log_full(st, now);
  return caf::none;
}

/// Creates the record of `uuid` (room made already) and tells the watchers.
peer& create(peer_table_ptr self, const std::string& uuid, time_point now,
             peer_origin origin) {
  auto& st = self->state;
  auto& p = st.peers[uuid];
  p.uuid = uuid;
  p.state_since = now;
  p.origin = origin;
  return p;
}

/// Adds the peer `uuid` at `host`:`port`, or updates its address; `pin`
/// keeps it from ever being evicted.
caf::result<peer> add_peer(peer_table_ptr self, const std::string& uuid,
                           std::string& host, std::uint16_t port, bool pin,
                           peer_origin origin) {
  auto& st = self->state;
  if (uuid.size() < min_uuid_size)
    return make_error(errc::invalid_peer,
                      "uuid of " + std::to_string(uuid.size()) +
                          " bytes, at least " + std::to_string(min_uuid_size) +
                          " expected");
  if (uuid == st.settings->uuid)
    return make_error(errc::invalid_peer, "the local peer's own uuid");
  auto now = self->clock().now();
  auto i = st.peers.find(uuid);
  if (i == st.peers.end()) {
    if (auto err = make_room(self, now))
      return err;
    auto& p = create(self, uuid, now, origin);
    p.host = std::move(host);
    p.port = port;
    if (pin)
      st.pinned.insert(uuid);
    log(log_level::info, log_category::connector, "new peer ", short_uuid(uuid),
        " at ", p.host, ":", p.port);
    reindex(st, p);
    schedule(self, p);
    note_address(st, p);
    note_change(st, change_kind::added, p, p.state);
    return p;
  }
  auto& p = i->second;
  if (p.host != host || p.port != port) {
    p.host = std::move(host);
    p.port = port;
    note_address(st, p);
  }
  if (pin) {
    st.pinned.insert(uuid);
    // The user asks for this peer: one given up on is greeted now.
    if (p.state == peer_state::no_connection) {
      p.next_connect = now;
      st.greeting.erase(uuid);
    }
  }
  reindex(st, p);
  schedule(self, p);
  return p;
}

/// Applies what a sync of the store found.
void apply_sync(peer_table_ptr self, store_changes& changes) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto& x : changes.assigned)
    if (auto i = st.peers.find(x.uuid); i != st.peers.end())
      i->second.db_id = x.db_id;
  for (auto& x : changes.moved) {
    if (auto i = st.peers.find(x.uuid); i != st.peers.end()) {
      log(log_level::info, log_category::store, short_uuid(x.uuid),
          " moved to ", x.host, ":", x.port, " in the store");
      i->second.host = std::move(x.host);
      i->second.port = x.port;
    }
  }
  for (auto& x : changes.added) {
    if (st.peers.count(x.uuid) > 0)
      continue;
    if (make_room(self, now)) {
      // The store keeps it until told: it is not ours.
      if (st.store)
        st.store_gone.push_back(x.uuid);
      continue;
    }
    st.pinned.insert(x.uuid);
    auto& p = create(self, x.uuid, now, peer_origin::store);
    p.host = std::move(x.host);
    p.port = x.port;
    p.db_id = x.db_id;
    log(log_level::info, log_category::store, "new peer ", short_uuid(p.uuid),
        " at ", p.host, ":", p.port, " from the store");
    reindex(st, p);
    schedule(self, p);
    note_change(st, change_kind::added, p, p.state);
  }
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

/// Refuses `relay` as a hop when its `hello` showed that it does not relay
/// messages for others (a legacy peer).
caf::error check_relay(const peer_table_state& st, const std::string& relay) {
  auto i = st.peers.find(relay);
  if (i == st.peers.end() || i->second.relays())
    return caf::none;
  return make_error(errc::not_a_relay,
                    short_uuid(relay) + " announced no forwarding");
}

std::vector<peer> sorted(std::vector<peer> xs) {
  std::sort(xs.begin(), xs.end(),
            [](const peer& x, const peer& y) { return x.uuid < y.uuid; });
  return xs;
}

void hand_out(peer_table_ptr self, std::vector<due_watcher_actor>& to,
              due_kind kind, std::vector<peer> xs);

/// A message from `msg.source` arrived: applies it to its record.
void on_heard(peer_table_ptr self, const message& msg,
              std::optional<caf::timespan> rtt) {
  auto& st = self->state;
  auto i = st.peers.find(msg.source);
  if (i == st.peers.end()) {
    log(log_level::debug, log_category::connector, "heard from ",
        short_uuid(msg.source), ", not a known peer");
    return;
  }
  st.greeting.erase(msg.source);
  auto& p = i->second;
  if (rtt)
    p.round_trips.add(*rtt);
  // A peer that talks to us directly before we connected to it (it knew us
  // from before our restart and goes on with its heart-beats, while we still
  // hold it as INITIAL from the store): connect to it now, or every answer
  // would find no connection and it would never be greeted, being
  // CONNECTED. Before the route change, so that the sender has the
  // connection when it sends what waited for the route.
  auto direct = msg.previous_hop.empty() || msg.source == msg.previous_hop;
  if (direct && p.state != peer_state::connected &&
      p.state != peer_state::connecting && !p.host.empty() && p.port != 0)
    self->send(st.sender, connect_atom::value, p.uuid, endpoint_of(p));
  auto now = self->clock().now();
  update(self, p, [&](peer& x) { x.become_connected(msg, now, *st.settings); });
  // A peer that talks to us directly but never said what it speaks (we know
  // it from the store, it knew us from before): greet it, so that its
  // `hello` tells.
  if (direct && !p.speaks && p.state == peer_state::connected &&
      !st.greeters.empty() && !p.host.empty() && p.port != 0) {
    auto [asked, added] = st.speaks_asked.try_emplace(p.uuid, now);
    if (added || now - asked->second > 2 * st.settings->message_ttl) {
      asked->second = now;
      self->send(st.sender, connect_atom::value, p.uuid, endpoint_of(p));
      hand_out(self, st.greeters, due_kind::greeting, {p});
    }
  }
}

// -- due work -----------------------------------------------------------------

void hand_out(peer_table_ptr self, std::vector<due_watcher_actor>& to,
              due_kind kind, std::vector<peer> xs) {
  if (xs.empty())
    return;
  xs = sorted(std::move(xs));
  for (std::size_t i = 0; i + 1 < to.size(); ++i)
    self->send(to[i], due_atom::value, kind, xs);
  if (!to.empty())
    self->send(to.back(), due_atom::value, kind, std::move(xs));
}

/// Greets `uuid` now, unless a greeting is in flight (see `greet_atom`).
void greet_now(peer_table_ptr self, const std::string& uuid) {
  auto& st = self->state;
  auto i = st.peers.find(uuid);
  if (i == st.peers.end() || i->second.host.empty() || i->second.port == 0 ||
      st.greeters.empty())
    return;
  auto g = st.greeting.find(uuid);
  auto now = self->clock().now();
  if (g != st.greeting.end() && now - g->second <= 2 * st.settings->message_ttl)
    return;
  st.greeting[uuid] = now;
  auto& p = i->second;
  self->send(st.sender, connect_atom::value, p.uuid, endpoint_of(p));
  hand_out(self, st.greeters, due_kind::greeting, {p});
  schedule(self, p);
}

/// Applies the rules to the peers due by now and hands out the work.
void run_due(peer_table_ptr self) {
  auto& st = self->state;
  auto& cfg = *st.settings;
  auto now = self->clock().now();
  std::vector<peer> beats;
  std::vector<peer> greetings;
  for (auto& uuid : st.due.take(now)) {
    auto i = st.peers.find(uuid);
    if (i == st.peers.end())
      continue;
    auto& p = i->second;
    switch (p.heart_beat_due(now, cfg)) {
    case heart_beat_action::none:
      break;
    case heart_beat_action::no_connection:
      update(self, p, [&](peer& x) { x.become_no_connection(now, cfg); });
      continue;
    case heart_beat_action::unreachable:
      update(self, p,
             [&](peer& x) { x.set_state(peer_state::unreachable, now); });
      [[fallthrough]];
    case heart_beat_action::send:
      p.schedule_heart_beat(now, cfg);
      beats.emplace_back(p);
      schedule(self, p);
      continue;
    }
    switch (p.connect_due(now, cfg)) {
    case connect_action::none:
      break;
    case connect_action::give_up:
      log(log_level::info, log_category::connector, short_uuid(p.uuid),
          " never answered its hello");
      update(self, p, [&](peer& x) { x.become_no_connection(now, cfg); });
      continue;
    case connect_action::send_hello: {
      auto g = st.greeting.find(p.uuid);
      if (st.greeters.empty() ||
          (g != st.greeting.end() && now - g->second <= 2 * cfg.message_ttl))
        break;
      st.greeting[p.uuid] = now;
      p.greeted(now, cfg);
      self->send(st.sender, connect_atom::value, p.uuid, endpoint_of(p));
      greetings.emplace_back(p);
      break;
    }
    }
    schedule(self, p);
  }
  hand_out(self, st.beaters, due_kind::heart_beat, std::move(beats));
  hand_out(self, st.greeters, due_kind::greeting, std::move(greetings));
}

/// Files every peer again (a watcher of greetings came or went).
void schedule_all(peer_table_ptr self) {
  for (auto& kvp : self->state.peers)
    schedule(self, kvp.second);
}

template <class Handle>
void drop_watcher(std::vector<Handle>& xs, const caf::actor_addr& addr) {
  xs.erase(std::remove_if(xs.begin(), xs.end(),
                          [&](const Handle& x) { return x.address() == addr; }),
           xs.end());
}

peer_table_impl_actor::behavior_type
peer_table(peer_table_ptr self, std::shared_ptr<const config> settings,
           sender_actor sender, std::unique_ptr<peer_store> store,
           std::vector<stored_peer> rows, bool detached) {
  auto& state = self->state;
  state.settings = std::move(settings);
  state.sender = std::move(sender);
  if (store) {
    auto now = self->clock().now();
    for (auto& x : rows) {
      if (x.uuid == state.settings->uuid || state.peers.count(x.uuid) > 0)
        continue;
      if (make_room(self, now))
        continue;
      state.pinned.insert(x.uuid);
      auto& p = create(self, x.uuid, now, peer_origin::store);
      p.host = x.host;
      p.port = x.port;
      p.db_id = x.db_id;
      log(log_level::info, log_category::store, "new peer ", short_uuid(p.uuid),
          " at ", p.host, ":", p.port, " from the store");
      reindex(state, p);
      schedule(self, p);
    }
    state.store = spawn_store(
        self->system(), std::move(store), std::move(rows), state.settings,
        caf::actor_cast<store_listener_actor>(self), detached);
    self->link_to(state.store);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto greeters = st.greeters.size();
    auto beaters = st.beaters.size();
    drop_watcher(st.greeters, msg.source);
    drop_watcher(st.beaters, msg.source);
    drop_watcher(st.watchers, msg.source);
    if ((greeters > 0 && st.greeters.empty()) ||
        (beaters > 0 && st.beaters.empty()))
      schedule_all(self);
  });
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
        auto result = add_peer(self, uuid, host, port, true, peer_origin::flag);
        flush(self);
        return result;
      },
      [self](learn_atom, const std::string& uuid, std::string& host,
             std::uint16_t port, bool connect, const capabilities& speaks) {
        auto result =
            add_peer(self, uuid, host, port, false, peer_origin::hello);
        auto i = self->state.peers.find(uuid);
        if (i != self->state.peers.end())
          learn_speaks(self, i->second, speaks);
        if (connect && i != self->state.peers.end() &&
            !i->second.host.empty() && i->second.port != 0)
          self->send(self->state.sender, connect_atom::value, uuid,
                     endpoint_of(i->second));
        flush(self);
        if (i != self->state.peers.end())
          return caf::result<peer>{i->second};
        return result;
      },
      // -- discovery: begin --
      [self](learn_atom, const std::string& uuid, std::string& host,
             std::uint16_t port, peer_origin origin) -> caf::result<peer> {
        // An address heard in a beacon or from a peer: it fills in a missing
        // address but never moves a known peer (the hearsay may be forged).
        auto& st = self->state;
        if (host.empty() || port == 0)
          return make_error(errc::invalid_peer, "no address");
        auto i = st.peers.find(uuid);
        if (i == st.peers.end()) {
          auto result = add_peer(self, uuid, host, port, false, origin);
          flush(self);
          return result;
        }
        auto& p = i->second;
        if (p.host.empty() || p.port == 0) {
          p.host = std::move(host);
          p.port = port;
          note_address(st, p);
          schedule(self, p);
        }
        // A direct link beats a route through others.
        if (p.state == peer_state::routed)
          greet_now(self, uuid);
        flush(self);
        return p;
      },
      // -- discovery: end --
      [self](remove_atom, const std::string& uuid) {
        auto& st = self->state;
        auto i = st.peers.find(uuid);
        if (i == st.peers.end())
          return false;
        forget(st, uuid);
        note_change(st, change_kind::removed, i->second, i->second.state);
        st.peers.erase(i);
        if (st.store)
          st.store_gone.push_back(uuid);
        flush(self);
        return true;
      },
      [self](heard_atom, const message& msg) {
        on_heard(self, msg, std::nullopt);
        flush(self);
      },
      [self](heard_atom, const message& msg, caf::timespan rtt) {
        on_heard(self, msg, rtt);
        flush(self);
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
        flush(self);
        return i->second;
      },
      [self](via_atom, const std::string& uuid,
             const std::string& relay) -> caf::result<peer> {
        auto& st = self->state;
        if (auto err = check_route_hint(*st.settings, uuid, relay))
          return err;
        if (auto err = check_relay(st, relay))
          return err;
        auto now = self->clock().now();
        auto i = st.peers.find(uuid);
        if (i == st.peers.end()) {
          if (auto err = make_room(self, now)) {
            flush(self);
            return err;
          }
          auto& p = create(self, uuid, now, peer_origin::route);
          log(log_level::info, log_category::router, "new peer ",
              short_uuid(uuid), " reached via ", short_uuid(relay));
          reindex(st, p);
          note_address(st, p);
          note_change(st, change_kind::added, p, p.state);
          i = st.peers.find(uuid);
        }
        auto& p = i->second;
        update(self, p,
               [&](peer& x) { x.become_routed(relay, now, *st.settings); });
        flush(self);
        return p;
      },
      [self](heard_atom, const std::string& uuid, const std::string& relay) {
        auto& st = self->state;
        if (check_route_hint(*st.settings, uuid, relay) ||
            check_relay(st, relay))
          return;
        auto now = self->clock().now();
        auto i = st.peers.find(uuid);
        if (i == st.peers.end()) {
          if (make_room(self, now)) {
            flush(self);
            return;
          }
          auto& p = create(self, uuid, now, peer_origin::route);
          log(log_level::info, log_category::router, "new peer ",
              short_uuid(uuid), " reached via ", short_uuid(relay));
          reindex(st, p);
          note_address(st, p);
          note_change(st, change_kind::added, p, p.state);
          i = st.peers.find(uuid);
        }
        auto& p = i->second;
        // A route that works is kept: traffic that takes another way round
        // proves the peer alive, not that the way is better (re-pointing
        // routes at every relayed message made them flap, and loop).
        if (p.state == peer_state::routed) {
          p.reset_heart_beat(now, *st.settings);
          schedule(self, p);
        } else {
          update(self, p,
                 [&](peer& x) { x.become_routed(relay, now, *st.settings); });
        }
        flush(self);
      },
      [self](lost_atom, const std::string& uuid) {
        auto& st = self->state;
        auto i = st.peers.find(uuid);
        if (i == st.peers.end() || i->second.state != peer_state::routed)
          return;
        log(log_level::info, log_category::router, "the route to ",
            short_uuid(uuid), " via ", short_uuid(i->second.via),
            " came round a loop: dropped");
        auto now = self->clock().now();
        update(self, i->second,
               [&](peer& x) { x.become_no_connection(now, *st.settings); });
        flush(self);
      },
      [self](greet_atom, const std::string& uuid) { greet_now(self, uuid); },
      [self](trusted_atom, const std::string& uuid) {
        auto& st = self->state;
        auto i = st.peers.find(uuid);
        if (i == st.peers.end() || i->second.state != peer_state::no_connection)
          return;
        log(log_level::info, log_category::connector, "a certificate for ",
            short_uuid(uuid), " appeared: greeting it now");
        i->second.next_connect = self->clock().now();
        st.greeting.erase(uuid);
        schedule(self, i->second);
      },
      [self](subscribe_atom, due_kind kind, due_watcher_actor& who) {
        auto& st = self->state;
        self->monitor(who);
        auto& xs = kind == due_kind::greeting ? st.greeters : st.beaters;
        xs.push_back(std::move(who));
        if (xs.size() == 1)
          schedule_all(self);
      },
      [self](subscribe_atom, peer_watcher_actor& who) {
        auto& st = self->state;
        self->monitor(who);
        st.watchers.push_back(std::move(who));
        std::vector<peer> result;
        result.reserve(st.peers.size());
        for (auto& kvp : st.peers)
          result.emplace_back(kvp.second);
        return sorted(std::move(result));
      },
      [self](route_atom, const std::string& uuid) {
        auto& st = self->state;
        if (st.peers.count(uuid) > 0)
          return true;
        auto& fallback = st.settings->default_route;
        if (!fallback.empty()) {
          auto i = st.peers.find(fallback);
          if (i != st.peers.end() && i->second.relays() &&
              i->second.state == peer_state::connected)
            return true;
        }
        for (auto& kvp : st.peers) {
          auto& p = kvp.second;
          if (p.state != peer_state::connected)
            continue;
          if (p.speaks && p.speaks->announced
                  ? p.speaks->has(capability::ask_around)
                  : st.settings->ask_around_legacy_peers)
            return true;
        }
        return false;
      },
      [self](await_atom, const std::string& uuid, caf::timespan timeout,
             bool routed) -> caf::result<peer> {
        auto& st = self->state;
        auto i = st.peers.find(uuid);
        if (i != st.peers.end() &&
            (i->second.state == peer_state::connected ||
             (routed && i->second.state == peer_state::routed)))
          return i->second;
        auto until = self->clock().now() + timeout;
        auto promise = self->make_response_promise<peer>();
        st.waiters[uuid].push_back({promise, routed, until});
        st.waiter_deadlines.emplace(until, uuid);
        if (!st.waiter_timer || until < *st.waiter_timer) {
          st.waiter_timer = until;
          self->scheduled_send(self, until, await_atom::value);
        }
        return promise;
      },
      [self](await_atom) {
        // Callers whose wait is over.
        auto& st = self->state;
        auto now = self->clock().now();
        if (st.waiter_timer && *st.waiter_timer <= now)
          st.waiter_timer.reset();
        while (!st.waiter_deadlines.empty() &&
               st.waiter_deadlines.begin()->first <= now) {
          auto uuid = st.waiter_deadlines.begin()->second;
          st.waiter_deadlines.erase(st.waiter_deadlines.begin());
          auto i = st.waiters.find(uuid);
          if (i == st.waiters.end())
            continue;
          auto& xs = i->second;
          for (auto& w : xs)
            if (w.until <= now)
              w.promise.deliver(
                  make_error(errc::request_timeout,
                             short_uuid(uuid) + " is not connected"));
          xs.erase(std::remove_if(xs.begin(), xs.end(),
                                  [&](const peer_table_state::waiter& w) {
                                    return w.until <= now;
                                  }),
                   xs.end());
          if (xs.empty())
            st.waiters.erase(i);
        }
        if (!st.waiter_deadlines.empty() && !st.waiter_timer) {
          st.waiter_timer = st.waiter_deadlines.begin()->first;
          self->scheduled_send(self, *st.waiter_timer, await_atom::value);
        }
      },
      [self](stop_atom) -> caf::result<bool> {
        auto& st = self->state;
        flush(self);
        if (!st.store) {
          self->quit();
          return true;
        }
        auto promise = std::make_shared<caf::typed_response_promise<bool>>(
            self->make_response_promise<bool>());
        self->unlink_from(st.store);
        self->monitor(st.store);
        auto store_addr = st.store.address();
        self->set_down_handler([self, promise, store_addr](caf::down_msg& msg) {
          if (msg.source != store_addr)
            return;
          promise->deliver(true);
          self->quit();
        });
        self->send(st.store, stop_atom::value);
        st.store = store_actor{};
        return *promise;
      },
      [self](timeout_atom) {
        auto& st = self->state;
        auto now = self->clock().now();
        if (st.timer_at && *st.timer_at <= now)
          st.timer_at.reset();
        st.check_queued = false;
        run_due(self);
        flush(self);
        arm_timer(self);
      },
      [self](sync_atom, store_changes& changes) {
        apply_sync(self, changes);
        flush(self);
      },
  };
}

} // namespace

const char* to_string(due_kind x) noexcept {
  switch (x) {
  case due_kind::greeting:
    return "greeting";
  case due_kind::heart_beat:
    return "heart_beat";
  }
  return "?";
}

peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender, store_setup setup) {
  std::vector<stored_peer> rows;
  if (setup.store) {
    // The stored peers, read here, before any actor runs: the table starts
    // with them.
    if (auto loaded = setup.store->sync({}, settings->store_lock_wait))
      rows = std::move(loaded->added);
    else
      log(log_level::warning, log_category::store,
          "cannot read the stored peers, starting without them: ",
          render(loaded.error()));
  }
  return caf::actor_cast<peer_table_actor>(
      sys.spawn(peer_table, std::move(settings), std::move(sender),
                std::move(setup.store), std::move(rows), setup.detached));
}

} // namespace p2p0mq
