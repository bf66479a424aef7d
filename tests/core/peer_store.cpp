#include "p2p0mq/peer_store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p2p0mq/errc.hpp"
#include "support/settings.hpp"
#include "support/sqlite.hpp"

using namespace std::chrono_literals;
using p2p0mq::errc;
using p2p0mq::peer_store;
using p2p0mq::store_changes;
using p2p0mq::stored_peer;
using p2p0mq::testing::sql_connection;
using p2p0mq::testing::temp_dir;

namespace {

using peers = std::vector<stored_peer>;

constexpr const char* local = "local-peer-0001";

/// The error of `x` rendered, or "ok".
template <class T>
std::string explain(const caf::expected<T>& x) {
  return x ? std::string{"ok"} : p2p0mq::render(x.error());
}

/// Opens the store at `path`; fails the test on an error.
peer_store open_store(const std::string& path, const std::string& uuid = local,
                      p2p0mq::duration wait = 5s) {
  auto result = peer_store::open(path, uuid, wait);
  INFO(explain(result));
  REQUIRE(result);
  return std::move(*result);
}

/// Syncs; fails the test on an error.
store_changes sync(peer_store& store, const peers& xs) {
  auto result = store.sync(xs);
  INFO(explain(result));
  REQUIRE(result);
  return std::move(*result);
}

/// Sets the ids `changes` assigned on the peers of `xs`.
void apply_ids(peers& xs, const store_changes& changes) {
  for (auto& a : changes.assigned)
    for (auto& x : xs)
      if (x.uuid == a.uuid)
        x.db_id = a.db_id;
}

/// The rows of the peers table as (uuid, host, port), sorted by uuid.
struct row {
  std::string uuid;
  std::string host;
  std::int64_t port;
  bool operator==(const row& y) const {
    return uuid == y.uuid && host == y.host && port == y.port;
  }
};

std::vector<row> rows_of(const std::string& path) {
  sql_connection db{path};
  std::vector<row> result;
  for (auto& r : db.query("SELECT uuid, host, port FROM p2p0mq_peers "
                          "ORDER BY uuid"))
    result.push_back({r[0].bytes, r[1].bytes, r[2].integer});
  return result;
}

/// Whether `err` is `code` and its context starts with `path`.
void check_error(const caf::error& err, errc code, const std::string& path) {
  INFO(p2p0mq::render(err));
  REQUIRE(err);
  CHECK(err == code);
  CHECK_THAT(p2p0mq::context_of(err), Catch::Matchers::StartsWith(path));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
}

} // namespace

// -- opening ------------------------------------------------------------------

TEST_CASE("a new peer store writes the Python schema and metadata types",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto before = std::chrono::duration<double>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  {
    auto store = open_store(path);
    CHECK(store.uuid() == local);
    CHECK(store.path() == path);
    CHECK(store.created() >= before - 1);
    CHECK(store.created() <= before + 60);
  }
  sql_connection db{path};
  auto uuid = db.query("SELECT typeof(value), value FROM p2p0mq_meta "
                       "WHERE key = 'uuid'");
  REQUIRE(uuid.size() == 1);
  CHECK(uuid[0][0].bytes == "blob");
  CHECK(uuid[0][1].bytes == local);
  auto created = db.query("SELECT typeof(value), value FROM p2p0mq_meta "
                          "WHERE key = 'db_created'");
  REQUIRE(created.size() == 1);
  CHECK(created[0][0].bytes == "text");
  // Seconds since the epoch as decimal text, like '1795817946.97398'.
  CHECK(created[0][1].bytes.find('.') != std::string::npos);
  CHECK(std::stod(created[0][1].bytes) >= before - 1);
  CHECK(db.value("PRAGMA journal_mode").bytes == "wal");
  // The columns of the Python p2p0mq, in its order.
  std::vector<std::string> columns;
  for (auto& r : db.query("PRAGMA table_info(p2p0mq_peers)"))
    columns.push_back(r[1].bytes);
  CHECK(columns == std::vector<std::string>{"peer_id", "uuid", "host", "port"});
  columns.clear();
  for (auto& r : db.query("PRAGMA table_info(p2p0mq_meta)"))
    columns.push_back(r[1].bytes);
  CHECK(columns ==
        std::vector<std::string>{"id", "key", "value", "description"});
}

TEST_CASE("a new peer store without a configured uuid generates one",
          "[peer_store]") {
  temp_dir dir;
  auto store = open_store(dir / "peers.db", "");
  CHECK(store.uuid().size() == 32);
  CHECK(store.uuid().find_first_not_of("0123456789abcdef") ==
        std::string::npos);
}

TEST_CASE("a reopened peer store keeps its uuid and its creation time",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  std::string uuid;
  double created = 0;
  {
    auto store = open_store(path, "");
    uuid = store.uuid();
    created = store.created();
  }
  // The database's uuid wins over none, and agrees with the same one.
  auto again = open_store(path, "");
  CHECK(again.uuid() == uuid);
  CHECK(again.created() == Approx(created).margin(1e-4));
  auto same = open_store(path, uuid);
  CHECK(same.uuid() == uuid);
}

TEST_CASE("a configured uuid that differs from the database's is an error "
          "naming the file and both uuids",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  open_store(path, "first-uuid-0001");
  auto other = peer_store::open(path, "second-uuid-0002", 5s);
  REQUIRE(!other);
  check_error(other.error(), errc::store_uuid_mismatch, path);
  auto text = p2p0mq::context_of(other.error());
  CHECK(text.find("first-uuid-0001") != std::string::npos);
  CHECK(text.find("second-uuid-0002") != std::string::npos);
}

TEST_CASE("a database written by the Python p2p0mq opens with its uuid and "
          "peers",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "python.db";
  {
    // What the Python peer executes (sqlite3 module, default journal): BLOB
    // uuids from `bytes`, `time()` into the TEXT column, None for an unknown
    // address.
    sql_connection db{path};
    db.exec("CREATE TABLE p2p0mq_meta (    id INTEGER PRIMARY KEY,    key "
            "TEXT UNIQUE,    value TEXT,    description TEXT)");
    db.exec("INSERT INTO p2p0mq_meta(key,value,description)     VALUES("
            "'uuid', X'39636231626166643130656634363435383734363865313364"
            "61346531643430', "
            "'the unique identification of this instance')");
    db.exec("INSERT INTO p2p0mq_meta(key,value,description)     VALUES("
            "'db_created', 1795817946.97398, "
            "'the time when the metadata was inserted')");
    db.exec("CREATE TABLE p2p0mq_peers (    peer_id INTEGER PRIMARY KEY,    "
            "uuid TEXT,    host TEXT,    port INTEGER)");
    db.exec("INSERT INTO p2p0mq_peers(uuid,host,port)     VALUES("
            "X'616c6963652d30303031', '127.0.0.1', 8401)");
    db.exec("INSERT INTO p2p0mq_peers(uuid,host,port)     VALUES("
            "X'626f622d30303032', NULL, NULL)");
    REQUIRE(db.value("SELECT typeof(value) FROM p2p0mq_meta WHERE key = "
                     "'db_created'")
                .bytes == "text");
  }
  auto store = open_store(path, "");
  CHECK(store.uuid() == "9cb1bafd10ef464587468e13da4e1d40");
  CHECK(store.created() == Approx(1795817946.97398).margin(1e-3));
  auto changes = sync(store, {});
  REQUIRE(changes.added.size() == 2);
  CHECK(changes.added[0].uuid == "alice-0001");
  CHECK(changes.added[0].host == "127.0.0.1");
  CHECK(changes.added[0].port == 8401);
  CHECK(changes.added[0].db_id == 1);
  CHECK(changes.added[1].uuid == "bob-0002");
  CHECK(changes.added[1].host.empty());
  CHECK(changes.added[1].port == 0);
  CHECK(changes.inserted == 0);
  CHECK(changes.updated == 0);
  CHECK(changes.deleted == 0);
}

TEST_CASE("a Python database whose peers table is not created yet opens",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "python.db";
  {
    sql_connection db{path};
    db.exec("CREATE TABLE p2p0mq_meta (id INTEGER PRIMARY KEY, key TEXT "
            "UNIQUE, value TEXT, description TEXT)");
    db.exec("INSERT INTO p2p0mq_meta(key, value, description) VALUES('uuid', "
            "X'707974686f6e2d31', 'x'), ('db_created', 1700000000.5, 'y')");
  }
  auto store = open_store(path, "python-1");
  auto changes = sync(store, {{"peer-0001", "10.0.0.1", 5001, {}}});
  CHECK(changes.inserted == 1);
  CHECK(rows_of(path) == std::vector<row>{{"peer-0001", "10.0.0.1", 5001}});
}

TEST_CASE("a uuid stored as TEXT by another program reads like a BLOB",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "text.db";
  {
    sql_connection db{path};
    db.exec("CREATE TABLE p2p0mq_meta (id INTEGER PRIMARY KEY, key TEXT "
            "UNIQUE, value TEXT, description TEXT)");
    db.exec("INSERT INTO p2p0mq_meta(key, value) VALUES('uuid', "
            "'typed-by-hand')");
  }
  auto store = open_store(path, "typed-by-hand");
  CHECK(store.uuid() == "typed-by-hand");
  // The missing db_created is added.
  CHECK(store.created() > 0);
  sql_connection db{path};
  CHECK(db.value("SELECT count(*) FROM p2p0mq_meta WHERE key = 'db_created'")
            .integer == 1);
}

// -- bad files ----------------------------------------------------------------

TEST_CASE("a file that is not a SQLite database is store_corrupt, naming the "
          "file",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "notes.txt";
  write_file(path, std::string(8192, 'x') + "this is not a database\n");
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_corrupt, path);
  CHECK_THAT(p2p0mq::context_of(store.error()),
             Catch::Matchers::Contains("not a database"));
}

TEST_CASE("a damaged database is store_corrupt rather than an empty store",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  {
    auto store = open_store(path);
    peers xs;
    for (int i = 0; i < 2000; ++i)
      xs.push_back({"peer-" + std::to_string(i), "10.0.0.1", 5000, {}});
    sync(store, xs);
  }
  {
    // Overwrite a page in the middle of the peers table.
    std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
    REQUIRE(f);
    f.seekp(4 * 4096);
    std::string junk(4096, '\xa5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_corrupt, path);
}

TEST_CASE("a database in a missing directory is store_io, naming the file",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "no/such/dir/peers.db";
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_io, path);
}

TEST_CASE("a peers table without the port column is store_schema",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  {
    sql_connection db{path};
    db.exec("CREATE TABLE p2p0mq_peers (peer_id INTEGER PRIMARY KEY, uuid "
            "TEXT, host TEXT)");
  }
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_schema, path);
  CHECK_THAT(p2p0mq::context_of(store.error()),
             Catch::Matchers::Contains("p2p0mq_peers has no column port"));
  // Nothing was created by the failed open.
  sql_connection db{path};
  CHECK(db.value("SELECT count(*) FROM sqlite_master WHERE name = "
                 "'p2p0mq_meta'")
            .integer == 0);
}

TEST_CASE("metadata holding a NULL uuid is store_schema", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  {
    sql_connection db{path};
    db.exec("CREATE TABLE p2p0mq_meta (id INTEGER PRIMARY KEY, key TEXT "
            "UNIQUE, value TEXT, description TEXT)");
    db.exec("INSERT INTO p2p0mq_meta(key, value) VALUES('uuid', NULL)");
  }
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_schema, path);
}

TEST_CASE("a p2p0mq table that is a view is store_schema", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  {
    sql_connection db{path};
    db.exec("CREATE VIEW p2p0mq_peers AS SELECT 1 AS peer_id");
  }
  auto store = peer_store::open(path, local, 5s);
  REQUIRE(!store);
  check_error(store.error(), errc::store_schema, path);
}

TEST_CASE("a database locked by another connection is store_locked after a "
          "bounded wait",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto wait = 200ms;
  SECTION("a new file held in an exclusive transaction") {
    sql_connection other{path};
    other.exec("BEGIN EXCLUSIVE");
    other.exec("CREATE TABLE unrelated (x)");
    auto t0 = std::chrono::steady_clock::now();
    auto store = peer_store::open(path, local, wait);
    auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(!store);
    check_error(store.error(), errc::store_locked, path);
    CHECK_THAT(p2p0mq::context_of(store.error()),
               Catch::Matchers::Contains("waited 200 ms"));
    CHECK(waited >= wait);
    CHECK(waited < wait + 5s);
    other.exec("ROLLBACK");
  }
  SECTION("an existing store whose write lock another connection holds") {
    open_store(path);
    sql_connection other{path};
    other.exec("BEGIN IMMEDIATE");
    auto t0 = std::chrono::steady_clock::now();
    auto store = peer_store::open(path, local, wait);
    auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(!store);
    check_error(store.error(), errc::store_locked, path);
    CHECK(waited >= wait);
    CHECK(waited < wait + 5s);
    other.exec("ROLLBACK");
    CHECK(peer_store::open(path, local, wait));
  }
}

// -- syncing ------------------------------------------------------------------

TEST_CASE("a sync inserts the peers only in memory and assigns their ids",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}},
           {"peer-0002", "", 0, {}},
           {"peer-0003", "10.0.0.3", 5003, {}}};
  auto changes = sync(store, xs);
  CHECK(changes.inserted == 3);
  CHECK(changes.added.empty());
  CHECK(changes.moved.empty());
  REQUIRE(changes.assigned.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(changes.assigned[i].uuid == xs[i].uuid);
    REQUIRE(changes.assigned[i].db_id);
  }
  sql_connection db{path};
  auto rows = db.query("SELECT peer_id, typeof(uuid), uuid, host, port, "
                       "typeof(host), typeof(port) FROM p2p0mq_peers "
                       "ORDER BY peer_id");
  REQUIRE(rows.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(rows[i][0].integer == *changes.assigned[i].db_id);
    CHECK(rows[i][1].bytes == "blob");
    CHECK(rows[i][2].bytes == xs[i].uuid);
  }
  CHECK(rows[0][3].bytes == "10.0.0.1");
  CHECK(rows[0][4].integer == 5001);
  // An unknown address is NULL, as the Python peer writes None.
  CHECK(rows[1][5].bytes == "null");
  CHECK(rows[1][6].bytes == "null");
}

TEST_CASE("a sync with nothing changed writes nothing", "[peer_store]") {
  temp_dir dir;
  auto store = open_store(dir / "peers.db");
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  auto changes = sync(store, xs);
  CHECK(changes.inserted == 0);
  CHECK(changes.updated == 0);
  CHECK(changes.deleted == 0);
  CHECK(changes.assigned.empty());
  CHECK(changes.added.empty());
  CHECK(changes.moved.empty());
}

TEST_CASE("a sync writes address changes made in memory", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}},
           {"peer-0002", "10.0.0.2", 5002, {}}};
  apply_ids(xs, sync(store, xs));
  xs[0].host = "10.9.9.9";
  xs[0].port = 6001;
  auto changes = sync(store, xs);
  CHECK(changes.updated == 1);
  CHECK(changes.moved.empty());
  CHECK(rows_of(path) == std::vector<row>{{"peer-0001", "10.9.9.9", 6001},
                                          {"peer-0002", "10.0.0.2", 5002}});
}

TEST_CASE("a sync adopts an address another program changed", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  sql_connection{path}.exec(
      "UPDATE p2p0mq_peers SET host = '10.7.7.7', port = 7001");
  auto changes = sync(store, xs);
  CHECK(changes.updated == 0);
  REQUIRE(changes.moved.size() == 1);
  CHECK(changes.moved[0].uuid == "peer-0001");
  CHECK(changes.moved[0].host == "10.7.7.7");
  CHECK(changes.moved[0].port == 7001);
  xs[0].host = "10.7.7.7";
  xs[0].port = 7001;
  CHECK(sync(store, xs).moved.empty());
}

TEST_CASE("when both changed an address, the memory's wins", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  sql_connection{path}.exec("UPDATE p2p0mq_peers SET port = 7001");
  xs[0].port = 6001;
  auto changes = sync(store, xs);
  CHECK(changes.updated == 1);
  CHECK(changes.moved.empty());
  CHECK(rows_of(path) == std::vector<row>{{"peer-0001", "10.0.0.1", 6001}});
}

TEST_CASE("a sync loads rows another program inserted as new peers",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  // As a user would type it into the sqlite3 tool: a TEXT uuid.
  sql_connection{path}.exec("INSERT INTO p2p0mq_peers(uuid, host, port) "
                            "VALUES('typed-0002', '10.0.0.2', 5002)");
  auto changes = sync(store, xs);
  REQUIRE(changes.added.size() == 1);
  CHECK(changes.added[0].uuid == "typed-0002");
  CHECK(changes.added[0].host == "10.0.0.2");
  CHECK(changes.added[0].port == 5002);
  REQUIRE(changes.added[0].db_id);
  CHECK(changes.inserted == 0);
  // Once in memory with its id, it is an ordinary peer.
  xs.push_back(changes.added[0]);
  auto next = sync(store, xs);
  CHECK(next.added.empty());
  CHECK(next.assigned.empty());
  CHECK(next.inserted + next.updated + next.deleted == 0);
}

TEST_CASE("a peer added in memory takes over a row of its uuid instead of "
          "duplicating it",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  sync(store, {});
  sql_connection{path}.exec("INSERT INTO p2p0mq_peers(uuid, host, port) "
                            "VALUES(X'706565722d30303031', '10.0.0.1', 5001)");
  auto changes = sync(store, {{"peer-0001", "10.0.0.1", 6001, {}}});
  CHECK(changes.inserted == 0);
  CHECK(changes.added.empty());
  REQUIRE(changes.assigned.size() == 1);
  CHECK(changes.assigned[0].db_id == 1);
  CHECK(changes.updated == 1);
  CHECK(rows_of(path) == std::vector<row>{{"peer-0001", "10.0.0.1", 6001}});
}

TEST_CASE("a sync deletes the rows of peers removed from memory",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}},
           {"peer-0002", "10.0.0.2", 5002, {}}};
  apply_ids(xs, sync(store, xs));
  xs.erase(xs.begin());
  auto changes = sync(store, xs);
  CHECK(changes.deleted == 1);
  CHECK(changes.added.empty());
  CHECK(rows_of(path) == std::vector<row>{{"peer-0002", "10.0.0.2", 5002}});
}

TEST_CASE("a sync writes again a row another program deleted", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  sql_connection{path}.exec("DELETE FROM p2p0mq_peers");
  auto changes = sync(store, xs);
  CHECK(changes.inserted == 1);
  REQUIRE(changes.assigned.size() == 1);
  CHECK(rows_of(path) == std::vector<row>{{"peer-0001", "10.0.0.1", 5001}});
}

TEST_CASE("a sync leaves alone rows without a usable uuid or repeating one",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  apply_ids(xs, sync(store, xs));
  sql_connection{path}.exec(
      "INSERT INTO p2p0mq_peers(uuid, host, port) VALUES"
      "(NULL, 'h', 1), ('abc', 'h', 2), ('local-peer-0001', 'h', 3), "
      "('peer-0001', 'h', 4), ('twice-0001', 'h', 5), ('twice-0001', 'h', 6)");
  for (int round = 0; round < 2; ++round) {
    auto changes = sync(store, xs);
    INFO("round " << round);
    // Only the first of the repeated uuid is new (the second round has it
    // already as added, not yet in memory: it is the same row again).
    if (round == 0) {
      REQUIRE(changes.added.size() == 1);
      CHECK(changes.added[0].uuid == "twice-0001");
      CHECK(changes.added[0].port == 5);
      xs.push_back(changes.added[0]);
    } else {
      CHECK(changes.added.empty());
    }
    CHECK(changes.deleted == 0);
    CHECK(changes.updated == 0);
  }
  sql_connection db{path};
  CHECK(db.value("SELECT count(*) FROM p2p0mq_peers").integer == 7);
}

TEST_CASE("a sync that finds the database locked changes nothing and the "
          "next one succeeds",
          "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  auto store = open_store(path);
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}}};
  sql_connection other{path};
  other.exec("BEGIN IMMEDIATE");
  auto locked = store.sync(xs, 50ms);
  REQUIRE(!locked);
  check_error(locked.error(), errc::store_locked, path);
  other.exec("COMMIT");
  CHECK(rows_of(path).empty());
  auto changes = sync(store, xs);
  CHECK(changes.inserted == 1);
  CHECK(changes.assigned.size() == 1);
}

TEST_CASE("a peer store and its peers survive a restart", "[peer_store]") {
  temp_dir dir;
  auto path = dir / "peers.db";
  peers xs{{"peer-0001", "10.0.0.1", 5001, {}},
           {"peer-0002", "10.0.0.2", 5002, {}}};
  {
    auto store = open_store(path);
    apply_ids(xs, sync(store, xs));
  }
  auto store = open_store(path, "");
  CHECK(store.uuid() == local);
  auto changes = sync(store, {});
  REQUIRE(changes.added.size() == 2);
  CHECK(changes.added[0].uuid == "peer-0001");
  CHECK(changes.added[0].db_id == xs[0].db_id);
  CHECK(changes.added[1].uuid == "peer-0002");
  CHECK(changes.added[1].port == 5002);
  CHECK(changes.deleted == 0);
}

// -- crashes ------------------------------------------------------------------

namespace {

constexpr int churn_step = 40;
constexpr int churn_window = 400;

/// The peers after sync `k` of the churn: each sync adds `churn_step` peers,
/// drops the oldest beyond `churn_window`, and moves every peer to port
/// 1000 + k.
std::map<std::string, std::int64_t> churn_state(int k) {
  std::map<std::string, std::int64_t> result;
  for (int i = std::max(0, churn_step * k - churn_window); i < churn_step * k;
       ++i)
    result.emplace("churn-peer-" + std::to_string(i), 1000 + k);
  return result;
}

/// The child: syncs the churn forever, writing the number of each completed
/// sync to `fd`. Touches nothing but the store and the pipe.
[[noreturn]] void churn(const std::string& path, int fd) {
  auto store = peer_store::open(path, local, 5s);
  if (!store)
    _exit(3);
  std::map<std::string, std::int64_t> ids;
  for (int k = 1; k < 1000000; ++k) {
    peers xs;
    for (auto& [uuid, port] : churn_state(k)) {
      stored_peer p{uuid, "10.0.0.1", static_cast<std::uint16_t>(port), {}};
      if (auto i = ids.find(uuid); i != ids.end())
        p.db_id = i->second;
      xs.emplace_back(std::move(p));
    }
    auto changes = store->sync(xs);
    if (!changes)
      _exit(4);
    for (auto& a : changes->assigned)
      ids[a.uuid] = *a.db_id;
    if (write(fd, &k, sizeof(k)) != sizeof(k))
      _exit(5);
  }
  _exit(0);
}

/// Reads one report of the child; nullopt at its end or after 60 s.
std::optional<int> next_report(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 60000) != 1)
    return std::nullopt;
  int k = 0;
  if (read(fd, &k, sizeof(k)) != sizeof(k))
    return std::nullopt;
  return k;
}

} // namespace

TEST_CASE("a peer store killed during heavy churn reopens intact with the "
          "peers of its last completed sync",
          "[peer_store][crash]") {
  temp_dir dir;
  for (int kill_after : {1, 4, 9, 15}) {
    INFO("killed after sync " << kill_after);
    auto path = dir / ("churn-" + std::to_string(kill_after) + ".db");
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    auto child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      churn(path, fds[1]);
    }
    close(fds[1]);
    int last = 0;
    while (last < kill_after) {
      auto k = next_report(fds[0]);
      REQUIRE(k);
      last = *k;
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    // Reports written before the kill.
    while (auto k = next_report(fds[0]))
      last = *k;
    close(fds[0]);
    sql_connection db{path};
    CHECK(db.value("PRAGMA integrity_check").bytes == "ok");
    std::map<std::string, std::int64_t> found;
    for (auto& r : db.query("SELECT uuid, port FROM p2p0mq_peers"))
      found.emplace(r[0].bytes, r[1].integer);
    // The last reported sync, or the one after it if it committed before
    // the kill: never anything in between.
    INFO("last reported sync " << last << ", " << found.size() << " rows");
    CHECK((found == churn_state(last) || found == churn_state(last + 1)));
    auto store = peer_store::open(path, "", 5s);
    INFO(explain(store));
    REQUIRE(store);
    CHECK(store->uuid() == local);
  }
}
