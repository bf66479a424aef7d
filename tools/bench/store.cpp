// The peer store on its own: how long syncs take with a large table.
#include "bench/store.hpp"
#include "bench/stats.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/peer_store.hpp"

namespace p2p0mq::bench {

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
      .count();
}

peer_store open_or_throw(const std::string& path) {
  auto store =
      peer_store::open(path, "bench-store-local", std::chrono::seconds{5});
  if (!store)
    throw std::runtime_error(render(store.error()));
  return std::move(*store);
}

store_changes sync_or_throw(peer_store& store,
                            const std::vector<stored_peer>& xs) {
  auto changes = store.sync(xs);
  if (!changes)
    throw std::runtime_error(render(changes.error()));
  return std::move(*changes);
}

} // namespace

sync_times time_syncs(const std::string& dir, std::size_t peers,
                      std::size_t repetitions) {
  sync_times result;
  auto path = dir + "/sync-times.db";
  std::vector<stored_peer> xs;
  xs.reserve(peers);
  for (std::size_t i = 0; i < peers; ++i)
    xs.push_back(stored_peer{"bench-store-peer-" + std::to_string(i),
                             "10.0.0." + std::to_string(i % 250),
                             5000,
                             {}});
  {
    auto store = open_or_throw(path);
    auto t0 = clock_type::now();
    auto changes = sync_or_throw(store, xs);
    result.first = ms_since(t0);
    std::unordered_map<std::string, std::int64_t> ids;
    for (auto& x : changes.assigned)
      ids.emplace(x.uuid, *x.db_id);
    for (auto& x : xs)
      x.db_id = ids.at(x.uuid);
    std::vector<double> unchanged;
    std::vector<double> changed;
    for (std::size_t r = 0; r < repetitions; ++r) {
      t0 = clock_type::now();
      sync_or_throw(store, xs);
      unchanged.push_back(ms_since(t0));
      for (std::size_t i = r % 10; i < xs.size(); i += 10)
        ++xs[i].port;
      t0 = clock_type::now();
      sync_or_throw(store, xs);
      changed.push_back(ms_since(t0));
    }
    result.unchanged = median(std::move(unchanged));
    result.changed = median(std::move(changed));
  }
  auto t0 = clock_type::now();
  auto store = open_or_throw(path);
  auto loaded = sync_or_throw(store, {});
  result.reopen = ms_since(t0);
  if (loaded.added.size() != peers)
    throw std::runtime_error("the reopened store did not hold every peer");
  return result;
}

std::string make_temp_dir() {
  auto pattern =
      (std::filesystem::temp_directory_path() / "p2p0mq-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

void remove_dir(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

} // namespace p2p0mq::bench
