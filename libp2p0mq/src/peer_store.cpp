#include "p2p0mq/peer_store.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <initializer_list>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <sqlite3.h>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

// -- RAII over the C API ------------------------------------------------------

struct db_closer {
  void operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
  }
};

using db_ptr = std::unique_ptr<sqlite3, db_closer>;

/// A prepared statement, reset after each use.
class statement {
public:
  statement() = default;

  explicit statement(sqlite3_stmt* ptr) : ptr_(ptr) {
  }

  /// Binds the bytes of `x` as a BLOB.
  void bind_blob(int i, const std::string& x) {
    sqlite3_bind_blob(ptr_.get(), i, x.data(), static_cast<int>(x.size()),
                      SQLITE_TRANSIENT);
  }

  /// Binds `x` as TEXT, or NULL when empty.
  void bind_text_or_null(int i, const std::string& x) {
    if (x.empty())
      sqlite3_bind_null(ptr_.get(), i);
    else
      sqlite3_bind_text(ptr_.get(), i, x.data(), static_cast<int>(x.size()),
                        SQLITE_TRANSIENT);
  }

  /// Binds `x` as INTEGER, or NULL when 0.
  void bind_int_or_null(int i, std::int64_t x) {
    if (x == 0)
      sqlite3_bind_null(ptr_.get(), i);
    else
      sqlite3_bind_int64(ptr_.get(), i, x);
  }

  void bind_int(int i, std::int64_t x) {
    sqlite3_bind_int64(ptr_.get(), i, x);
  }

  void bind_double(int i, double x) {
    sqlite3_bind_double(ptr_.get(), i, x);
  }

  /// Runs one step: `SQLITE_ROW`, `SQLITE_DONE` or an error code.
  int step() {
    return sqlite3_step(ptr_.get());
  }

  /// Runs a statement that returns no rows to its end, then resets it.
  int run() {
    auto rc = step();
    reset();
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }

  void reset() {
    sqlite3_reset(ptr_.get());
    sqlite3_clear_bindings(ptr_.get());
  }

  bool is_null(int col) const {
    return sqlite3_column_type(ptr_.get(), col) == SQLITE_NULL;
  }

  /// The column's bytes, whatever its type (BLOB, TEXT, or a number as
  /// text); empty for NULL.
  std::string bytes(int col) const {
    auto* data = sqlite3_column_blob(ptr_.get(), col);
    auto size = sqlite3_column_bytes(ptr_.get(), col);
    if (data == nullptr || size <= 0)
      return {};
    return std::string(static_cast<const char*>(data),
                       static_cast<std::size_t>(size));
  }

  /// Whether the column holds the bytes of `x` (NULL equals empty).
  bool equals(int col, const std::string& x) const {
    auto* data = sqlite3_column_blob(ptr_.get(), col);
    auto size = static_cast<std::size_t>(sqlite3_column_bytes(ptr_.get(), col));
    return size == x.size() &&
           (size == 0 || std::memcmp(data, x.data(), size) == 0);
  }

  /// The column as a port: 0 for NULL or a value outside 1..65535.
  std::uint16_t port(int col) const {
    auto x = sqlite3_column_int64(ptr_.get(), col);
    return x > 0 && x <= UINT16_MAX ? static_cast<std::uint16_t>(x) : 0;
  }

  std::int64_t int64(int col) const {
    return sqlite3_column_int64(ptr_.get(), col);
  }

  double real(int col) const {
    return sqlite3_column_double(ptr_.get(), col);
  }

private:
  struct finalizer {
    void operator()(sqlite3_stmt* x) const noexcept {
      sqlite3_finalize(x);
    }
  };

  std::unique_ptr<sqlite3_stmt, finalizer> ptr_;
};

// -- errors -------------------------------------------------------------------

errc classify(int rc) {
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return errc::store_locked;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    return errc::store_corrupt;
  default:
    return errc::store_io;
  }
}

caf::error schema_error(const std::string& path, const std::string& what) {
  return make_error(errc::store_schema, path + ": " + what);
}

int wait_ms(duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, INT_MAX));
}

// -- schema -------------------------------------------------------------------

constexpr const char* meta_table = "p2p0mq_meta";

constexpr const char* peers_table = "p2p0mq_peers";

constexpr const char* create_meta_sql = "CREATE TABLE p2p0mq_meta ("
                                        "id INTEGER PRIMARY KEY, "
                                        "key TEXT UNIQUE, "
                                        "value TEXT, "
                                        "description TEXT)";

constexpr const char* create_peers_sql = "CREATE TABLE p2p0mq_peers ("
                                         "peer_id INTEGER PRIMARY KEY, "
                                         "uuid TEXT, "
                                         "host TEXT, "
                                         "port INTEGER)";

/// An address as a row holds it.
struct row_address {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const row_address& x, const row_address& y) {
    return x.port == y.port && x.host == y.host;
  }

  friend bool operator!=(const row_address& x, const row_address& y) {
    return !(x == y);
  }
};

/// One row of `p2p0mq_peers`.
struct peer_row {
  std::int64_t id = 0;
  std::string uuid;
  row_address addr;
  /// Whether `uuid` is usable (not NULL, long enough).
  bool valid = false;
  /// The last sync that confirmed the row (in `peer_store::impl::synced`).
  std::uint64_t generation = 0;
};

} // namespace

// -- the store ----------------------------------------------------------------

struct peer_store::impl {
  std::string path;
  std::string uuid;
  double created = 0;
  duration lock_wait{};
  // Declared before the statements: destroyed after them.
  db_ptr db;
  statement begin;
  statement commit;
  statement rollback;
  statement select_peers;
  statement insert_peer;
  statement update_peer;
  statement delete_peer;
  /// The rows the memory and the database agreed on after the last sync, by
  /// row id: what tells who changed what since.
  std::unordered_map<std::int64_t, peer_row> synced;
  /// Counts syncs; marks the entries of `synced` each one confirms.
  std::uint64_t generation = 0;
  /// Rows logged once as left alone.
  std::unordered_set<std::int64_t> ignored;

  /// What the busy handler waits now.
  duration current_wait{};

  /// An error for the failed SQLite call that returned `rc`, e.g.
  /// `"/x/peers.db: cannot read the database: file is not a database"`.
  caf::error fail(const std::string& what, int rc) const {
    auto code = classify(rc);
    std::string why = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    if (code == errc::store_locked)
      why += " (waited " + std::to_string(wait_ms(current_wait)) + " ms)";
    return make_error(code, path + ": " + what + ": " + why);
  }

  /// Runs `sql` (no rows expected, or rows ignored).
  int exec(const char* sql) {
    return sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr);
  }

  int prepare(statement& x, const char* sql) {
    sqlite3_stmt* ptr = nullptr;
    auto rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 &ptr, nullptr);
    x = statement{ptr};
    return rc;
  }

  void set_wait(duration d) {
    current_wait = d;
    sqlite3_busy_timeout(db.get(), wait_ms(d));
  }

  caf::error connect();
  caf::error check_columns(const char* table,
                           std::initializer_list<const char*> columns,
                           const char* primary_key);
  caf::error setup(const std::string& wanted_uuid);
  caf::error read_meta(const std::string& wanted_uuid);
  peer_row current_row() const;
  caf::expected<store_changes> sync(const std::vector<stored_peer>& peers);
};

caf::error peer_store::impl::connect() {
  sqlite3* raw = nullptr;
  auto flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
               SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  auto rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db.reset(raw);
  if (rc != SQLITE_OK)
    return fail("cannot open the database", rc);
  set_wait(lock_wait);
  // The first read of the file: a file that is not a database fails here.
  if (auto rc2 = exec("SELECT count(*) FROM sqlite_master"); rc2 != SQLITE_OK)
    return fail("cannot read the database", rc2);
  statement mode;
  if (auto rc2 = prepare(mode, "PRAGMA journal_mode=WAL"); rc2 != SQLITE_OK)
    return fail("cannot switch to WAL mode", rc2);
  if (auto rc2 = mode.step(); rc2 != SQLITE_ROW)
    return fail("cannot switch to WAL mode", rc2);
  if (auto got = mode.bytes(0); got != "wal")
    return make_error(errc::store_io, path +
                                          ": cannot switch to WAL mode: "
                                          "the journal mode stays " +
                                          got);
  mode = statement{}; // Finalized: it would hold a read transaction open.
  if (auto rc2 = exec("PRAGMA synchronous=FULL"); rc2 != SQLITE_OK)
    return fail("cannot set synchronous=FULL", rc2);
  statement check;
  if (auto rc2 = prepare(check, "PRAGMA quick_check"); rc2 != SQLITE_OK)
    return fail("cannot check the database", rc2);
  auto rc2 = check.step();
  if (rc2 != SQLITE_ROW)
    return fail("cannot check the database", rc2);
  if (auto verdict = check.bytes(0); verdict != "ok") {
    std::replace(verdict.begin(), verdict.end(), '\n', ' ');
    return make_error(errc::store_corrupt,
                      path + ": the database is damaged: " + verdict);
  }
  return caf::none;
}

caf::error
peer_store::impl::check_columns(const char* table,
                                std::initializer_list<const char*> columns,
                                const char* primary_key) {
  statement info;
  auto sql = std::string{"PRAGMA table_info("} + table + ")";
  if (auto rc = prepare(info, sql.c_str()); rc != SQLITE_OK)
    return fail(std::string{"cannot read the columns of "} + table, rc);
  std::set<std::string> names;
  std::string pk;
  int rc;
  while ((rc = info.step()) == SQLITE_ROW) {
    auto name = info.bytes(1);
    if (info.int64(5) == 1)
      pk = name;
    names.insert(std::move(name));
  }
  if (rc != SQLITE_DONE)
    return fail(std::string{"cannot read the columns of "} + table, rc);
  for (auto column : columns)
    if (names.count(column) == 0)
      return schema_error(path, std::string{"table "} + table +
                                    " has no column " + column +
                                    " (unexpected schema)");
  if (pk != primary_key)
    return schema_error(path, std::string{"table "} + table +
                                  " does not have " + primary_key +
                                  " as its INTEGER PRIMARY KEY");
  return caf::none;
}

caf::error peer_store::impl::setup(const std::string& wanted_uuid) {
  if (auto rc = exec("BEGIN IMMEDIATE"); rc != SQLITE_OK)
    return fail("cannot lock the database", rc);
  auto err = [&]() -> caf::error {
    statement tables;
    auto rc = prepare(tables, "SELECT name, type FROM sqlite_master "
                              "WHERE name IN ('p2p0mq_meta', 'p2p0mq_peers')");
    if (rc != SQLITE_OK)
      return fail("cannot read the schema", rc);
    bool has_meta = false;
    bool has_peers = false;
    while ((rc = tables.step()) == SQLITE_ROW) {
      auto name = tables.bytes(0);
      if (tables.bytes(1) != "table")
        return schema_error(path, name + " is a " + tables.bytes(1) +
                                      ", not a table (unexpected schema)");
      (name == meta_table ? has_meta : has_peers) = true;
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read the schema", rc);
    if (!has_meta) {
      if (rc = exec(create_meta_sql); rc != SQLITE_OK)
        return fail("cannot create the table p2p0mq_meta", rc);
    } else if (auto e = check_columns(
                   meta_table, {"id", "key", "value", "description"}, "id")) {
      return e;
    }
    // The Python p2p0mq creates the peers table at its first sync only.
    if (!has_peers) {
      if (rc = exec(create_peers_sql); rc != SQLITE_OK)
        return fail("cannot create the table p2p0mq_peers", rc);
    } else if (auto e = check_columns(peers_table,
                                      {"peer_id", "uuid", "host", "port"},
                                      "peer_id")) {
      return e;
    }
    return read_meta(wanted_uuid);
  }();
  if (err) {
    exec("ROLLBACK");
    return err;
  }
  if (auto rc = exec("COMMIT"); rc != SQLITE_OK) {
    exec("ROLLBACK");
    return fail("cannot write the metadata", rc);
  }
  return caf::none;
}

caf::error peer_store::impl::read_meta(const std::string& wanted_uuid) {
  statement select;
  auto rc = prepare(select, "SELECT key, value FROM p2p0mq_meta "
                            "WHERE key IN ('uuid', 'db_created')");
  if (rc != SQLITE_OK)
    return fail("cannot read the metadata", rc);
  bool has_uuid = false;
  bool has_created = false;
  while ((rc = select.step()) == SQLITE_ROW) {
    auto key = select.bytes(0);
    if (key == "uuid") {
      if (select.is_null(1))
        return schema_error(path, "the metadata's uuid is NULL");
      uuid = select.bytes(1);
      has_uuid = true;
    } else {
      created = select.real(1);
      has_created = true;
    }
  }
  if (rc != SQLITE_DONE)
    return fail("cannot read the metadata", rc);
  if (has_uuid && uuid.size() < min_uuid_size)
    return schema_error(path, "the metadata's uuid has " +
                                  std::to_string(uuid.size()) +
                                  " bytes, at least " +
                                  std::to_string(min_uuid_size) + " expected");
  if (has_uuid && !wanted_uuid.empty() && wanted_uuid != uuid)
    return make_error(errc::store_uuid_mismatch,
                      path + ": the database belongs to the local peer '" +
                          uuid + "', the configuration names '" + wanted_uuid +
                          "'");
  statement insert;
  if (!has_uuid || !has_created) {
    rc = prepare(insert, "INSERT INTO p2p0mq_meta(key, value, description) "
                         "VALUES(?, ?, ?)");
    if (rc != SQLITE_OK)
      return fail("cannot write the metadata", rc);
  }
  if (!has_uuid) {
    uuid = wanted_uuid.empty() ? make_uuid() : wanted_uuid;
    // A BLOB, as the Python p2p0mq writes its uuid (bytes).
    insert.bind_text_or_null(1, "uuid");
    insert.bind_blob(2, uuid);
    insert.bind_text_or_null(3, "the unique identification of this instance");
    if (rc = insert.run(); rc != SQLITE_OK)
      return fail("cannot write the metadata", rc);
  }
  if (!has_created) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    created = std::chrono::duration<double>(now).count();
    // A REAL into a TEXT column: SQLite stores its decimal text, exactly as
    // when the Python p2p0mq inserts `time()`.
    insert.bind_text_or_null(1, "db_created");
    insert.bind_double(2, created);
    insert.bind_text_or_null(3, "the time when the metadata was inserted");
    if (rc = insert.run(); rc != SQLITE_OK)
      return fail("cannot write the metadata", rc);
  }
  return caf::none;
}

peer_row peer_store::impl::current_row() const {
  peer_row row;
  row.id = select_peers.int64(0);
  row.uuid = select_peers.bytes(1);
  row.valid = !select_peers.is_null(1) && row.uuid.size() >= min_uuid_size;
  row.addr.host = select_peers.bytes(2);
  row.addr.port = select_peers.port(3);
  return row;
}

caf::expected<store_changes>
peer_store::impl::sync(const std::vector<stored_peer>& peers) {
  if (auto rc = begin.run(); rc != SQLITE_OK)
    return fail("cannot lock the database for a sync", rc);
  ++generation;
  store_changes changes;
  // What `synced` learns and forgets once the transaction commits.
  std::vector<peer_row> learned;
  std::vector<std::int64_t> forgotten;
  auto err = [&]() -> caf::error {
    // The rows come in id order; so do the memory peers with an id: one merge
    // pass matches them without copying a row that did not change.
    std::vector<std::pair<std::int64_t, std::size_t>> by_id;
    std::vector<std::size_t> homeless; // Peers without a row of theirs yet.
    by_id.reserve(peers.size());
    for (std::size_t i = 0; i < peers.size(); ++i) {
      if (peers[i].db_id)
        by_id.emplace_back(*peers[i].db_id, i);
      else
        homeless.push_back(i);
    }
    std::sort(by_id.begin(), by_id.end());
    std::vector<peer_row> unclaimed;
    // Rows to rewrite from the memory, after the scan: (row id, peer).
    std::vector<std::pair<std::int64_t, std::size_t>> updates;
    // A peer matched with its row: which address wins, and what to remember.
    auto reconcile = [&](std::size_t i, const peer_row& row) {
      auto& p = peers[i];
      if (p.db_id != row.id)
        changes.assigned.push_back(stored_peer{p.uuid, p.host, p.port, row.id});
      row_address mine{p.host, p.port};
      auto agreed = mine;
      if (mine != row.addr) {
        auto base = synced.find(row.id);
        if (base != synced.end() && base->second.uuid == p.uuid &&
            base->second.addr == mine) {
          // Only the row changed since the last sync: its address wins.
          changes.moved.push_back(
              stored_peer{p.uuid, row.addr.host, row.addr.port, row.id});
          agreed = row.addr;
        } else {
          updates.emplace_back(row.id, i);
        }
      }
      learned.push_back(peer_row{row.id, p.uuid, std::move(agreed), true});
    };
    auto m = by_id.begin();
    int rc;
    while ((rc = select_peers.step()) == SQLITE_ROW) {
      auto id = select_peers.int64(0);
      for (; m != by_id.end() && m->first < id; ++m)
        homeless.push_back(m->second);
      bool claimed = false;
      for (; m != by_id.end() && m->first == id; ++m) {
        auto& p = peers[m->second];
        if (claimed || !select_peers.equals(1, p.uuid)) {
          homeless.push_back(m->second);
          continue;
        }
        claimed = true;
        if (select_peers.equals(2, p.host) && select_peers.port(3) == p.port) {
          // Unchanged on both sides: the common case, no copy.
          auto base = synced.find(id);
          if (base != synced.end() && base->second.uuid == p.uuid &&
              base->second.addr.port == p.port &&
              base->second.addr.host == p.host)
            base->second.generation = generation;
          else
            learned.push_back(peer_row{id, p.uuid, {p.host, p.port}, true});
        } else {
          reconcile(m->second, current_row());
        }
      }
      if (!claimed)
        unclaimed.push_back(current_row());
    }
    select_peers.reset();
    if (rc != SQLITE_DONE)
      return fail("cannot read the peers", rc);
    for (; m != by_id.end(); ++m)
      homeless.push_back(m->second);
    // A peer without its row takes over an unclaimed row of its uuid (one
    // another program inserted, or its own after it was removed and added
    // again), else gets a new row.
    std::unordered_map<std::string, std::size_t> unclaimed_by_uuid;
    for (std::size_t i = 0; i < unclaimed.size(); ++i)
      if (unclaimed[i].valid)
        unclaimed_by_uuid.emplace(unclaimed[i].uuid, i);
    std::vector<bool> taken(unclaimed.size(), false);
    std::vector<std::size_t> new_rows;
    for (auto i : homeless) {
      auto j = unclaimed_by_uuid.find(peers[i].uuid);
      if (j == unclaimed_by_uuid.end() || taken[j->second]) {
        new_rows.push_back(i);
        continue;
      }
      taken[j->second] = true;
      reconcile(i, unclaimed[j->second]);
    }
    for (auto& [id, i] : updates) {
      update_peer.bind_text_or_null(1, peers[i].host);
      update_peer.bind_int_or_null(2, peers[i].port);
      update_peer.bind_int(3, id);
      if (rc = update_peer.run(); rc != SQLITE_OK)
        return fail("cannot update a peer", rc);
      ++changes.updated;
    }
    for (auto i : new_rows) {
      auto& p = peers[i];
      insert_peer.bind_blob(1, p.uuid);
      insert_peer.bind_text_or_null(2, p.host);
      insert_peer.bind_int_or_null(3, p.port);
      if (rc = insert_peer.run(); rc != SQLITE_OK)
        return fail("cannot insert a peer", rc);
      auto id = sqlite3_last_insert_rowid(db.get());
      ++changes.inserted;
      changes.assigned.push_back(stored_peer{p.uuid, p.host, p.port, id});
      learned.push_back(peer_row{id, p.uuid, {p.host, p.port}, true});
    }
    // The rows left: removed from the memory since the last sync, added by
    // another program, or not usable.
    std::unordered_set<std::string> in_memory;
    if (std::find(taken.begin(), taken.end(), false) != taken.end())
      for (auto& p : peers)
        in_memory.insert(p.uuid);
    std::unordered_set<std::string> added;
    for (std::size_t i = 0; i < unclaimed.size(); ++i) {
      if (taken[i])
        continue;
      auto& row = unclaimed[i];
      auto base = synced.find(row.id);
      if (base != synced.end() && base->second.uuid == row.uuid) {
        delete_peer.bind_int(1, row.id);
        if (rc = delete_peer.run(); rc != SQLITE_OK)
          return fail("cannot delete a peer", rc);
        ++changes.deleted;
        forgotten.push_back(row.id);
        continue;
      }
      const char* why = nullptr;
      if (!row.valid)
        why = "holds no valid uuid";
      else if (row.uuid == uuid)
        why = "holds the local peer's own uuid";
      else if (in_memory.count(row.uuid) > 0 || added.count(row.uuid) > 0)
        why = "repeats the uuid of another row";
      if (why != nullptr) {
        if (ignored.insert(row.id).second)
          log(log_level::warning, log_category::store, path, ": row ", row.id,
              " of p2p0mq_peers ", why, "; left alone");
        continue;
      }
      added.insert(row.uuid);
      changes.added.push_back(
          stored_peer{row.uuid, row.addr.host, row.addr.port, row.id});
      learned.push_back(row);
    }
    return caf::none;
  }();
  if (err) {
    rollback.run();
    return err;
  }
  if (auto rc = commit.run(); rc != SQLITE_OK) {
    rollback.run();
    return fail("cannot commit a sync", rc);
  }
  for (auto id : forgotten)
    synced.erase(id);
  for (auto& row : learned) {
    row.generation = generation;
    synced.insert_or_assign(row.id, std::move(row));
  }
  // Rows neither confirmed nor learned are gone (deleted by another
  // program): forget them.
  for (auto i = synced.begin(); i != synced.end();) {
    if (i->second.generation != generation)
      i = synced.erase(i);
    else
      ++i;
  }
  return changes;
}

// -- peer_store ---------------------------------------------------------------

peer_store::peer_store(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
}

peer_store::peer_store(peer_store&&) noexcept = default;

peer_store& peer_store::operator=(peer_store&&) noexcept = default;

peer_store::~peer_store() = default;

caf::expected<peer_store> peer_store::open(const std::string& path,
                                           const std::string& uuid,
                                           duration lock_wait) {
  if (path.empty())
    return make_error(errc::store_io, "the peer store needs a database path");
  if (!uuid.empty() && uuid.size() < min_uuid_size)
    return make_error(errc::invalid_config, "uuid: must be empty or at least " +
                                                std::to_string(min_uuid_size) +
                                                " bytes long");
  auto st = std::make_unique<impl>();
  st->path = path;
  st->lock_wait = lock_wait;
  if (auto err = st->connect())
    return err;
  if (auto err = st->setup(uuid))
    return err;
  struct {
    statement& x;
    const char* sql;
  } statements[] = {
      {st->begin, "BEGIN IMMEDIATE"},
      {st->commit, "COMMIT"},
      {st->rollback, "ROLLBACK"},
      {st->select_peers, "SELECT peer_id, uuid, host, port FROM p2p0mq_peers "
                         "ORDER BY peer_id"},
      {st->insert_peer,
       "INSERT INTO p2p0mq_peers(uuid, host, port) VALUES(?, ?, ?)"},
      {st->update_peer,
       "UPDATE p2p0mq_peers SET host = ?, port = ? WHERE peer_id = ?"},
      {st->delete_peer, "DELETE FROM p2p0mq_peers WHERE peer_id = ?"},
  };
  for (auto& x : statements)
    if (auto rc = st->prepare(x.x, x.sql); rc != SQLITE_OK)
      return st->fail("cannot prepare a statement", rc);
  log(log_level::info, log_category::store, "peer store ", path,
      " opened for the local peer ", short_uuid(st->uuid));
  return peer_store{std::move(st)};
}

const std::string& peer_store::path() const noexcept {
  return impl_->path;
}

const std::string& peer_store::uuid() const noexcept {
  return impl_->uuid;
}

double peer_store::created() const noexcept {
  return impl_->created;
}

caf::expected<store_changes>
peer_store::sync(const std::vector<stored_peer>& peers, duration lock_wait) {
  impl_->set_wait(lock_wait);
  auto result = impl_->sync(peers);
  impl_->set_wait(impl_->lock_wait);
  return result;
}

caf::expected<store_changes>
peer_store::sync(const std::vector<stored_peer>& peers) {
  return impl_->sync(peers);
}

} // namespace p2p0mq
