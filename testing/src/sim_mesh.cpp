#include "p2p0mq/testing/sim_mesh.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <unordered_map>

namespace p2p0mq::testing {

std::vector<std::size_t>
add_bootstrap_network(sim_network& net, std::size_t n, std::uint64_t seed,
                      duration spread,
                      const std::function<void(config&)>& tune) {
  std::mt19937_64 random{seed};
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && spread > duration::zero())
      net.advance(spread);
    net.add(sim_uuid(i), tune);
    if (i == 0) {
      result.push_back(0);
      continue;
    }
    std::uniform_int_distribution<std::size_t> pick{0, i - 1};
    auto j = pick(random);
    result.push_back(j);
    net.tell(sim_uuid(i), sim_uuid(j));
  }
  return result;
}

std::vector<std::size_t> sim_mesh::degrees() const {
  std::vector<std::size_t> result;
  for (auto& xs : direct)
    result.push_back(xs.size());
  return result;
}

std::vector<std::size_t> sim_mesh::histogram() const {
  std::vector<std::size_t> result;
  for (auto& xs : direct) {
    if (result.size() <= xs.size())
      result.resize(xs.size() + 1);
    ++result[xs.size()];
  }
  return result;
}

int sim_mesh::diameter() const {
  auto n = direct.size();
  std::vector<std::set<std::size_t>> links(n);
  for (std::size_t a = 0; a < n; ++a)
    for (auto b : direct[a]) {
      links[a].insert(b);
      links[b].insert(a);
    }
  int result = 0;
  std::vector<int> hops(n);
  for (std::size_t from = 0; from < n; ++from) {
    std::fill(hops.begin(), hops.end(), -1);
    hops[from] = 0;
    std::deque<std::size_t> todo{from};
    std::size_t reached = 1;
    while (!todo.empty()) {
      auto x = todo.front();
      todo.pop_front();
      for (auto y : links[x])
        if (hops[y] < 0) {
          hops[y] = hops[x] + 1;
          result = std::max(result, hops[y]);
          ++reached;
          todo.push_back(y);
        }
    }
    if (reached < n)
      return -1;
  }
  return result;
}

sim_mesh read_mesh(sim_network& net) {
  sim_mesh result;
  result.uuids = net.uuids();
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < result.uuids.size(); ++i)
    index.emplace(result.uuids[i], i);
  result.direct.resize(result.uuids.size());
  for (std::size_t i = 0; i < result.uuids.size(); ++i)
    for (auto& p : net.table(result.uuids[i]))
      if (p.state == peer_state::connected)
        if (auto j = index.find(p.uuid); j != index.end())
          result.direct[i].push_back(j->second);
  return result;
}

int route_hops(sim_network& net, const std::string& from,
               const std::string& to) {
  std::set<std::string> seen;
  auto at = from;
  int hops = 0;
  while (at != to) {
    if (hops >= 64 || !seen.insert(at).second)
      return -1;
    auto p = net.record(at, to);
    if (!p)
      return -1;
    if (p->state == peer_state::connected) {
      at = to;
    } else if (p->state == peer_state::routed && !p->via.empty()) {
      // The hop to the relay, which must reach it directly.
      auto v = net.record(at, p->via);
      if (!v || v->state != peer_state::connected)
        return -1;
      at = p->via;
    } else {
      return -1;
    }
    ++hops;
  }
  return hops;
}

} // namespace p2p0mq::testing
