#pragma once

// A second connection to a peer store's database, as another program (the
// `sqlite3` tool, a Python peer) would open it: plain SQL, no p2p0mq code.

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <sqlite3.h>

namespace p2p0mq::testing {

/// One value read back, with SQLite's storage class.
struct sql_value {
  /// `SQLITE_INTEGER`, `SQLITE_FLOAT`, `SQLITE_TEXT`, `SQLITE_BLOB` or
  /// `SQLITE_NULL`.
  int type = SQLITE_NULL;
  /// The bytes of a TEXT or BLOB (or a number as text).
  std::string bytes;
  std::int64_t integer = 0;
  double real = 0;
};

using sql_row = std::vector<sql_value>;

/// A connection of its own to the database at a path.
class sql_connection {
public:
  explicit sql_connection(const std::string& path) {
    auto rc = sqlite3_open(path.c_str(), &db_);
    INFO(path << ": " << sqlite3_errstr(rc));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
  }

  ~sql_connection() {
    sqlite3_close_v2(db_);
  }

  sql_connection(const sql_connection&) = delete;
  sql_connection& operator=(const sql_connection&) = delete;

  /// Runs `sql` and fails the test on an error.
  void exec(const std::string& sql) {
    auto rc = try_exec(sql);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
  }

  /// Runs `sql`; returns SQLite's result code.
  int try_exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  /// Runs a query and returns every row.
  std::vector<sql_row> query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    auto rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
    std::vector<sql_row> result;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      sql_row row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        sql_value x;
        x.type = sqlite3_column_type(stmt, i);
        x.integer = sqlite3_column_int64(stmt, i);
        x.real = sqlite3_column_double(stmt, i);
        auto* data = sqlite3_column_blob(stmt, i);
        auto size = sqlite3_column_bytes(stmt, i);
        if (data != nullptr)
          x.bytes.assign(static_cast<const char*>(data),
                         static_cast<std::size_t>(size));
        row.emplace_back(std::move(x));
      }
      result.emplace_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    REQUIRE(rc == SQLITE_DONE);
    return result;
  }

  /// The first column of the only row of `sql`.
  sql_value value(const std::string& sql) {
    auto rows = query(sql);
    INFO(sql);
    REQUIRE(rows.size() == 1);
    REQUIRE(!rows[0].empty());
    return rows[0][0];
  }

private:
  sqlite3* db_ = nullptr;
};

} // namespace p2p0mq::testing
