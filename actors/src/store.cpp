#include "p2p0mq/actors/store.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// The longest a periodic sync waits for a lock another program holds on the
/// database. A sync that gives up tries again at the next interval.
constexpr duration periodic_lock_wait = std::chrono::milliseconds{100};

struct store_state {
  static inline const char* name = "p2p0mq.store";
  std::unique_ptr<peer_store> store;
  std::shared_ptr<const config> settings;
  store_listener_actor listener;
  /// The rows as the peer table last described them, with their ids.
  std::map<std::string, stored_peer> rows;
};

/// The store actor's own interface: the public one plus its timer.
using store_impl_actor = store_actor::extend<caf::reacts_to<timeout_atom>>;

using store_ptr = store_impl_actor::stateful_pointer<store_state>;

/// Syncs the rows, waiting at most `wait` for a lock, and tells the listener
/// what the sync found. Returns the error of a failed sync.
caf::error sync(store_ptr self, duration wait) {
  auto& st = self->state;
  auto started = clock_type::now();
  std::vector<stored_peer> rows;
  rows.reserve(st.rows.size());
  for (auto& kvp : st.rows)
    rows.push_back(kvp.second);
  auto changes = st.store->sync(rows, wait);
  if (!changes)
    return std::move(changes.error());
  for (auto& x : changes->assigned)
    if (auto i = st.rows.find(x.uuid); i != st.rows.end())
      i->second.db_id = x.db_id;
  for (auto& x : changes->moved)
    if (auto i = st.rows.find(x.uuid); i != st.rows.end()) {
      i->second.host = x.host;
      i->second.port = x.port;
    }
  // Rows another program added are the table's from now on, until it says
  // otherwise: the next sync keeps them.
  for (auto& x : changes->added)
    st.rows.insert_or_assign(x.uuid, x);
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      clock_type::now() - started);
  log(log_level::debug, log_category::store, "synced ", rows.size(),
      " peers in ", took.count(), " us: ", changes->inserted, " inserted, ",
      changes->updated, " updated, ", changes->deleted, " deleted, ",
      changes->added.size(), " added, ", changes->moved.size(), " moved");
  if (!changes->assigned.empty() || !changes->added.empty() ||
      !changes->moved.empty())
    self->send(st.listener, sync_atom::value, std::move(*changes));
  return caf::none;
}

store_impl_actor::behavior_type
store_fun(store_ptr self, std::unique_ptr<peer_store> store,
          std::vector<stored_peer> rows, std::shared_ptr<const config> settings,
          store_listener_actor listener) {
  self->state.store = std::move(store);
  self->state.settings = std::move(settings);
  self->state.listener = std::move(listener);
  for (auto& x : rows)
    self->state.rows.emplace(x.uuid, std::move(x));
  self->delayed_send(self, self->state.settings->store_sync_interval,
                     timeout_atom::value);
  return {
      [self](add_atom, std::vector<stored_peer>& xs) {
        for (auto& x : xs) {
          auto& row = self->state.rows[x.uuid];
          auto id = row.db_id;
          row = std::move(x);
          row.db_id = id;
        }
      },
      [self](remove_atom, const std::vector<std::string>& xs) {
        for (auto& x : xs)
          self->state.rows.erase(x);
      },
      [self](timeout_atom) {
        auto& st = self->state;
        if (auto err = sync(self, std::min(periodic_lock_wait,
                                           st.settings->store_lock_wait)))
          log(log_level::warning, log_category::store,
              "sync failed, trying again in ",
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  st.settings->store_sync_interval)
                  .count(),
              " ms: ", render(err));
        self->delayed_send(self, st.settings->store_sync_interval,
                           timeout_atom::value);
      },
      [self](stop_atom) {
        auto& st = self->state;
        if (auto err = sync(self, st.settings->store_lock_wait))
          log(log_level::error, log_category::store,
              "the last sync failed, changes since the one before are not "
              "stored: ",
              render(err));
        // The store closes with the state, once the actor has exited.
        self->quit();
      },
  };
}

} // namespace

store_actor spawn_store(caf::actor_system& sys,
                        std::unique_ptr<peer_store> store,
                        std::vector<stored_peer> rows,
                        std::shared_ptr<const config> settings,
                        store_listener_actor listener, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(store_fun, std::move(store),
                                    std::move(rows), std::move(settings),
                                    std::move(listener));
  return sys.spawn(store_fun, std::move(store), std::move(rows),
                   std::move(settings), std::move(listener));
}

} // namespace p2p0mq
