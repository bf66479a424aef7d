#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/peer_store.hpp"

namespace p2p0mq {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_peer& x) {
  bool has_db_id = x.db_id.has_value();
  std::int64_t db_id = x.db_id.value_or(0);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.db_id = has_db_id ? std::optional<std::int64_t>{db_id} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("stored_peer"), x.uuid, x.host, x.port,
           has_db_id, db_id, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_changes& x) {
  return f(caf::meta::type_name("store_changes"), x.assigned, x.added, x.moved,
           x.inserted, x.updated, x.deleted);
}

/// Hears what a sync of the peer store found: `(sync_atom, store_changes)`,
/// sent only when it found something (ids assigned, rows added or moved by
/// other programs). The peer table.
using store_listener_actor =
    caf::typed_actor<caf::reacts_to<sync_atom, store_changes>>;

/// The store actor: the only user of a local peer's `peer_store`, so that
/// SQLite's disk I/O never runs on a scheduled actor's thread (it is spawned
/// detached, with a thread of its own, except under CAF's test coordinator).
/// It keeps the rows it writes as the peer table last described them and
/// syncs them on a timer of its own, every `store_sync_interval`.
///
/// | message | from | reply |
/// |---|---|---|
/// | `(add_atom, std::vector<stored_peer>)` | peer table | none: rows new or with a new address, written at the next sync |
/// | `(remove_atom, std::vector<std::string>)` | peer table | none: peers that left the table, deleted at the next sync |
/// | `(stop_atom)` | peer table | none, after a last sync: then the store closes and the actor exits |
///
/// A periodic sync waits at most 100 ms (or `store_lock_wait`, if shorter)
/// for a lock another program holds and tries again at the next interval; the
/// last one waits up to `store_lock_wait`. A failed sync is logged (category
/// `store`) and changes nothing. Rows another program added are kept as the
/// table's until it says otherwise (a full table sends `remove_atom` for the
/// ones it refused).
using store_actor =
    caf::typed_actor<caf::reacts_to<add_atom, std::vector<stored_peer>>,
                     caf::reacts_to<remove_atom, std::vector<std::string>>,
                     caf::reacts_to<stop_atom>>;

/// A peer store and how to run it, for `spawn_peer_table`.
struct store_setup {
  /// The open store; null: the table keeps its peers in memory only.
  std::unique_ptr<peer_store> store;
  /// Run the store actor on a thread of its own (`caf::detached`). Off only
  /// under CAF's test coordinator, which then runs it like any other actor.
  bool detached = true;
};

/// Spawns the store actor for `store`, which it owns from now on, with `rows`
/// (what the store held when it was loaded) as its first view of the table.
/// It tells `listener` what its syncs find.
store_actor spawn_store(caf::actor_system& sys,
                        std::unique_ptr<peer_store> store,
                        std::vector<stored_peer> rows,
                        std::shared_ptr<const config> settings,
                        store_listener_actor listener, bool detached);

} // namespace p2p0mq
