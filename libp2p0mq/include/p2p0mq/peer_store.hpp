#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// What the peer store keeps of a peer: identity, address and row id.
struct stored_peer {
  /// The peer's uuid (opaque bytes).
  std::string uuid;

  /// Host of its receiver; empty when unknown (stored as NULL).
  std::string host;

  /// Port of its receiver; 0 when unknown (stored as NULL).
  std::uint16_t port = 0;

  /// Its row in `p2p0mq_peers` (`peer_id`), once it has one.
  std::optional<std::int64_t> db_id;
};

/// What one sync changed, for the owner of the peers to apply to its records.
struct store_changes {
  /// Peers of the memory that got a row, with its id in `db_id`: a row
  /// inserted for them, or an existing row of the same uuid taken over.
  std::vector<stored_peer> assigned;

  /// Rows that another program inserted, for peers the memory does not have:
  /// new peers, to be contacted.
  std::vector<stored_peer> added;

  /// Peers whose address another program changed in the database while the
  /// memory kept the one of the last sync: their new host and port.
  std::vector<stored_peer> moved;

  /// Rows inserted (including rows written again after another program
  /// deleted them).
  std::size_t inserted = 0;

  /// Rows whose host and port were rewritten from the memory.
  std::size_t updated = 0;

  /// Rows deleted because their peers left the memory.
  std::size_t deleted = 0;
};

/// The peers and the identity of one local peer, persisted in a SQLite
/// database that the Python p2p0mq can open too (and the other way round).
///
/// Schema, as the Python p2p0mq creates it:
/// `p2p0mq_meta(id INTEGER PRIMARY KEY, key TEXT UNIQUE, value TEXT,
/// description TEXT)` holds the local peer's `uuid` (a BLOB of the uuid's
/// bytes, despite the column type) and `db_created` (seconds since the epoch
/// as decimal text, e.g. `'1795817946.97398'`); `p2p0mq_peers(peer_id INTEGER
/// PRIMARY KEY, uuid TEXT, host TEXT, port INTEGER)` holds one row per remote
/// peer, its uuid a BLOB too. Uuids are written as BLOBs and read as BLOB or
/// TEXT, so rows a user inserts with the `sqlite3` tool (`'peer-0001'`) work.
///
/// The database runs in WAL mode with `synchronous=FULL`, and each sync is one
/// transaction: a crash at any moment leaves a database that opens and holds
/// every peer of the last completed sync. Other programs may read and write
/// it while the store is open.
///
/// A plain value owning its connection, for one owner at a time (it may move
/// between threads, but two threads must not use it at once). The context of
/// every `store_*` error starts with the database's path.
class peer_store {
public:
  /// Opens the database at `path`, creating the file and the tables when
  /// missing, and reads its metadata. A database without metadata gets
  /// `uuid` (a new one from `make_uuid` when `uuid` is empty) and the current
  /// time as `db_created`; a database with metadata keeps its own uuid.
  /// Waits at most `lock_wait` for locks other connections hold.
  ///
  /// Errors: `errc::store_io` (the file cannot be created, opened, read or
  /// written, e.g. its directory is missing or it is read-only; also for an
  /// empty `path`), `errc::store_corrupt` (not a SQLite database, or it fails
  /// SQLite's `quick_check`), `errc::store_locked`, `errc::store_schema` (a
  /// p2p0mq table lacks a column of the schema above, or the metadata holds
  /// no valid uuid), `errc::store_uuid_mismatch` (`uuid` is not empty and
  /// differs from the database's), `errc::invalid_config` (`uuid` is not
  /// empty and shorter than `min_uuid_size`).
  static caf::expected<peer_store>
  open(const std::string& path, const std::string& uuid, duration lock_wait);

  peer_store(peer_store&&) noexcept;

  peer_store& operator=(peer_store&&) noexcept;

  /// Closes the database.
  ~peer_store();

  /// The path the store was opened with.
  const std::string& path() const noexcept;

  /// The local peer's uuid, as the database holds it.
  const std::string& uuid() const noexcept;

  /// When the database was created, in seconds since the epoch (its
  /// `db_created`).
  double created() const noexcept;

  /// Syncs the database with `peers`, the peers in memory, in one
  /// transaction, waiting at most `lock_wait` for the write lock. The store
  /// remembers the rows as they were after its last sync, so it tells who
  /// changed what since then:
  ///
  /// - a peer with no row gets one (`assigned`; a row of the same uuid that
  ///   another program inserted is taken over rather than duplicated); so
  ///   does a peer whose row another program deleted;
  /// - a peer whose address differs from its row's gets the row rewritten,
  ///   unless only the row changed since the last sync: then the row's
  ///   address wins (`moved`), so users can edit rows while the peer runs;
  /// - a row this store synced before whose peer is no longer in `peers` is
  ///   deleted (the peer was removed);
  /// - a row of a uuid `peers` does not have, not seen before, is a peer
  ///   another program added (`added`); rows holding no uuid, a uuid shorter
  ///   than `min_uuid_size`, the local uuid, or a uuid another row has
  ///   already are left alone (and logged once).
  ///
  /// On error nothing was written and the store's memory of the last sync is
  /// unchanged, so the next sync can simply try again. Errors:
  /// `errc::store_locked`, `errc::store_io`, `errc::store_corrupt`.
  caf::expected<store_changes> sync(const std::vector<stored_peer>& peers,
                                    duration lock_wait);

  /// Syncs waiting at most the `lock_wait` given to `open`.
  caf::expected<store_changes> sync(const std::vector<stored_peer>& peers);

private:
  struct impl;

  explicit peer_store(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace p2p0mq
