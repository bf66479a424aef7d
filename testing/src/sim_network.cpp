#include "p2p0mq/testing/sim_network.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <string_view>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/peer_store.hpp"

namespace p2p0mq::testing {

namespace {

/// The sending side of a simulated peer: hands its frames to the wire.
class sim_transport : public transport {
public:
  sim_transport(sim_network* net, std::string local)
      : net_(net), local_(std::move(local)) {
  }

  caf::error connect(const std::string& uuid, const std::string&) override {
    net_->connected_to(local_, uuid);
    return caf::none;
  }

  void forget(const std::string& uuid) override {
    net_->disconnected(local_, uuid);
  }

  send_status send(const frames& xs, caf::error& err) override {
    return net_->deliver(local_, xs, err);
  }

private:
  sim_network* net_;
  std::string local_;
};

/// Records the replies to the test's requests (as the echo concern's
/// listener, and as the concern of any command the test sends).
caf::behavior sim_listener(caf::event_based_actor*, sim_outcomes* out) {
  return {
      [out](incoming_atom, message& msg) {
        out->replies.emplace_back(std::move(msg));
      },
      [out](incoming_atom, std::vector<message>& msgs) {
        for (auto& msg : msgs)
          out->replies.emplace_back(std::move(msg));
      },
      [](dropped_atom, const message&, const caf::error&) {
        // Only the owner's view counts: see `sim_owner`.
      },
  };
}

/// Owns the test's requests: records their outcomes.
owner_actor::behavior_type sim_owner(owner_actor::pointer, sim_outcomes* out) {
  return {
      [out](sent_atom, const std::vector<message>& msgs) {
        out->sent += msgs.size();
      },
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [out](dropped_atom, message& msg, caf::error& err) {
        out->dropped.emplace_back(std::move(msg), std::move(err));
      },
  };
}

void fnv(std::uint64_t& h, std::string_view x) {
  for (unsigned char c : x) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // A separator, so that ("ab", "c") and ("a", "bc") differ.
  h ^= 0xff;
  h *= 1099511628211ull;
}

void fnv(std::uint64_t& h, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) {
    h ^= (x >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
}

std::pair<std::string, std::string> ordered(const std::string& a,
                                            const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

} // namespace

const char* to_string(sim_fate x) noexcept {
  switch (x) {
  case sim_fate::delivered:
    return "delivered";
  case sim_fate::lost:
    return "lost";
  case sim_fate::refused:
    return "refused";
  }
  return "?";
}

std::size_t sim_transfer::bytes() const noexcept {
  std::size_t result = 0;
  for (auto& x : xs)
    result += x.size();
  return result;
}

sim_network::sim_network(sim_options options)
    : options_(std::move(options)), random_(options_.seed), started_(now()) {
  options_.defaults.encryption = false;
}

sim_network::~sim_network() {
  for (auto& [uuid, p] : peers_)
    if (p->alive)
      stop_actors(*p, caf::exit_reason::user_shutdown);
  run();
}

void sim_network::spawn_actors(sim_peer& p) {
  assembly_parts parts;
  parts.settings = p.settings;
  parts.host = "sim";
  parts.port = p.port;
  parts.wire = std::make_unique<sim_transport>(this, p.uuid);
  parts.legacy = p.legacy;
  if (options_.groups) {
    parts.groups = options_.groups;
    parts.groups->incarnation =
        1 + static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(
                    now().time_since_epoch())
                    .count());
  }
  if (!p.settings->database.empty()) {
    auto opened = peer_store::open(p.settings->database, p.uuid,
                                   p.settings->store_lock_wait);
    if (!opened)
      throw std::runtime_error{"sim peer " + p.uuid + ": " +
                               render(opened.error())};
    parts.store.store = std::make_unique<peer_store>(std::move(*opened));
    // The test coordinator runs the store actor like any other.
    parts.store.detached = false;
  }
  p.actors = assembly::spawn(sys(), std::move(parts));
  // The test's own actors of a peer cost memory in networks of thousands:
  // the owner of its requests comes with its first request (`send`).
  p.owner = owner_actor{};
  p.listener = caf::actor{};
  if (options_.echo) {
    p.listener = sys().spawn(sim_listener, &p.outcomes);
    caf::anon_send(p.actors.supervisor(), add_atom::value,
                   std::string{echo_command}, echo(p.listener));
  }
  p.alive = true;
  run();
}

void sim_network::stop_actors(sim_peer& p, caf::exit_reason reason) {
  p.alive = false;
  p.actors.kill(reason);
  caf::anon_send_exit(p.owner, reason);
  caf::anon_send_exit(p.listener, reason);
}

sim_peer& sim_network::add(const std::string& uuid,
                           const std::function<void(config&)>& tune) {
  return add_peer(uuid, tune, false);
}

sim_peer& sim_network::add_legacy(const std::string& uuid,
                                  const std::function<void(config&)>& tune) {
  return add_peer(uuid, tune, true);
}

sim_peer& sim_network::add_peer(const std::string& uuid,
                                const std::function<void(config&)>& tune,
                                bool legacy) {
  if (uuid.size() < 4)
    throw std::invalid_argument{"sim peer uuid too short: " + uuid};
  if (peers_.count(uuid) > 0)
    throw std::invalid_argument{"sim peer uuid taken: " + uuid};
  auto port = 1024 + peers_.size();
  if (port > 65535)
    throw std::invalid_argument{"too many sim peers"};
  auto p = std::make_unique<sim_peer>();
  p->uuid = uuid;
  p->port = static_cast<std::uint16_t>(port);
  p->settings = std::make_shared<config>(options_.defaults);
  p->settings->uuid = uuid;
  p->settings->host = "sim";
  p->settings->port = p->port;
  if (tune)
    tune(*p->settings);
  p->settings->encryption = false;
  p->legacy = legacy;
  auto& result = *p;
  peers_.emplace(uuid, std::move(p));
  spawn_actors(result);
  return result;
}

void sim_network::add_concern(const std::string& uuid,
                              const std::string& command,
                              concern_factory factory) {
  caf::anon_send((*this)[uuid].actors.supervisor(), add_atom::value, command,
                 std::move(factory));
  run();
}

sim_peer& sim_network::operator[](const std::string& uuid) {
  auto i = peers_.find(uuid);
  if (i == peers_.end())
    throw std::out_of_range{"no sim peer " + uuid};
  return *i->second;
}

bool sim_network::has(const std::string& uuid) const {
  return peers_.count(uuid) > 0;
}

std::vector<std::string> sim_network::uuids() const {
  std::vector<std::string> result;
  result.reserve(peers_.size());
  for (auto& kvp : peers_)
    result.push_back(kvp.first);
  return result;
}

void sim_network::kill(const std::string& uuid) {
  auto& p = (*this)[uuid];
  if (!p.alive)
    return;
  stop_actors(p, caf::exit_reason::kill);
  run();
}

sim_peer& sim_network::restart(const std::string& uuid) {
  auto& p = (*this)[uuid];
  if (p.alive)
    return p;
  p.connected.clear();
  spawn_actors(p);
  return p;
}

void sim_network::tell(const std::string& a, const std::string& b) {
  auto& x = (*this)[a];
  auto& y = (*this)[b];
  auto added = try_ask<peer>(*this, x.actors.peer_table(), add_atom::value,
                             y.uuid, std::string{"sim"}, y.port);
  if (!added || !*added)
    throw std::runtime_error{"sim peer " + a + " did not take the address of " +
                             b};
}

void sim_network::line(const std::vector<std::string>& chain) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i)
    tell(chain[i], chain[i + 1]);
}

void sim_network::set_link(const std::string& a, const std::string& b,
                           sim_link x, bool one_way) {
  links_[{a, b}] = x;
  if (!one_way)
    links_[{b, a}] = x;
}

sim_link sim_network::link(const std::string& a, const std::string& b) const {
  auto i = links_.find({a, b});
  return i != links_.end() ? i->second : options_.link;
}

void sim_network::cut(const std::string& a, const std::string& b,
                      bool one_way) {
  auto x = link(a, b);
  x.up = false;
  links_[{a, b}] = x;
  if (!one_way) {
    auto y = link(b, a);
    y.up = false;
    links_[{b, a}] = y;
  }
}

void sim_network::partition(
    const std::vector<std::vector<std::string>>& groups) {
  groups_.clear();
  for (std::size_t i = 0; i < groups.size(); ++i)
    for (auto& uuid : groups[i])
      groups_[uuid] = i;
}

void sim_network::heal() {
  groups_.clear();
  for (auto& kvp : links_)
    kvp.second.up = true;
}

std::optional<std::size_t>
sim_network::group_of(const std::string& uuid) const {
  auto i = groups_.find(uuid);
  if (i == groups_.end())
    return std::nullopt;
  return i->second;
}

void sim_network::watch(const std::string& a, const std::string& b) {
  watched_.insert(ordered(a, b));
}

bool sim_network::kept(const std::string& a, const std::string& b) const {
  return options_.trace ||
         (!watched_.empty() && watched_.count(ordered(a, b)) > 0);
}

void sim_network::connected_to(const std::string& from, const std::string& to) {
  (*this)[from].connected.insert(to);
}

void sim_network::disconnected(const std::string& from, const std::string& to) {
  (*this)[from].connected.erase(to);
}

send_status sim_network::deliver(const std::string& from, const frames& xs,
                                 caf::error& err) {
  auto& src = (*this)[from];
  auto& to = xs[0];
  auto& out = src.traffic[xs[4]];
  ++count_;
  std::size_t bytes = 0;
  for (auto& frame : xs)
    bytes += frame.size();
  ++out.sent;
  out.bytes_sent += bytes;
  auto fate = sim_fate::delivered;
  duration latency{};
  auto i = peers_.find(to);
  if (src.connected.count(to) == 0 || i == peers_.end() || !i->second->alive) {
    fate = sim_fate::refused;
    ++out.refused;
  } else {
    auto l = link(from, to);
    // Draw for every part sent over a lossy link, up or not, so that the
    // draws do not depend on which links are up.
    auto unlucky = l.loss > 0 && std::uniform_real_distribution<double>{0, 1}(
                                     random_) < l.loss;
    if (!l.up || group_of(from) != group_of(to) || unlucky) {
      fate = sim_fate::lost;
      ++out.lost;
    } else {
      latency = l.latency;
    }
  }
  auto at = now();
  fnv(digest_, static_cast<std::uint64_t>((at - started_).count()));
  fnv(digest_, static_cast<std::uint64_t>(fate));
  fnv(digest_, from);
  for (auto& frame : xs)
    fnv(digest_, frame);
  if (kept(from, to))
    transfers_.push_back(sim_transfer{from, xs, at, at + latency, fate});
  if (fate == sim_fate::refused) {
    err = make_error(errc::peer_unreachable, "no connection to " + to);
    return send_status::unreachable;
  }
  if (fate == sim_fate::lost)
    return send_status::sent;
  auto& dest = *i->second;
  // As the receiving socket reads it: frame 0 is the previous hop.
  std::vector<std::string_view> in(xs.begin(), xs.end());
  in[0] = from;
  auto msg = decode(in, to);
  if (!msg) {
    // The codec refused what the sender encoded: a bug to see at once.
    throw std::logic_error{"sim wire: " + from + " sent frames " + to +
                           " cannot decode: " + render(msg.error())};
  }
  auto& in_traffic = dest.traffic[xs[4]];
  ++in_traffic.received;
  in_traffic.bytes_received += bytes;
  if (latency == duration::zero())
    caf::anon_send(dest.actors.dispatcher(), incoming_atom::value,
                   std::vector<message>{std::move(*msg)});
  else
    in_flight_.emplace(at + latency,
                       in_flight{dest.actors.dispatcher(), std::move(*msg)});
  return send_status::sent;
}

std::optional<time_point> sim_network::next_event() const {
  if (in_flight_.empty())
    return std::nullopt;
  return in_flight_.begin()->first;
}

void sim_network::fire_events(time_point now) {
  while (!in_flight_.empty() && in_flight_.begin()->first <= now) {
    auto x = std::move(in_flight_.begin()->second);
    in_flight_.erase(in_flight_.begin());
    caf::anon_send(x.to, incoming_atom::value,
                   std::vector<message>{std::move(x.msg)});
  }
}

std::uint64_t sim_network::ping(const std::string& from, const std::string& to,
                                std::int64_t seq) {
  return send(from, to, echo_command,
              payload_builder{}.add_integer("seq", seq).build());
}

std::uint64_t sim_network::send(const std::string& from, const std::string& to,
                                const std::string& command, payload body,
                                priority prio) {
  auto& p = (*this)[from];
  auto msg =
      p.actors.context().make_request(to, command, std::move(body), now());
  auto id = msg.id;
  if (!p.owner)
    p.owner = sys().spawn(sim_owner, &p.outcomes);
  caf::anon_send(p.actors.sender(), outgoing_atom::value, std::move(msg), prio,
                 p.owner);
  run();
  return id;
}

bool sim_network::answered(const std::string& from, std::uint64_t id) {
  for (auto& r : (*this)[from].outcomes.replies)
    if (r.id == id)
      return true;
  return false;
}

caf::expected<message> sim_network::request(const std::string& from,
                                            const std::string& to,
                                            const std::string& command,
                                            payload body, duration timeout) {
  auto& p = (*this)[from];
  auto result = std::make_shared<std::optional<caf::expected<message>>>();
  sys().spawn(detail::asker<message, requester_actor, request_atom, std::string,
                            std::string, payload, caf::timespan, priority>,
              result, p.actors.requester(), request_atom::value, to, command,
              std::move(body), caf::timespan{timeout}, priority::fast);
  run_until([&] { return result->has_value(); },
            timeout + std::chrono::seconds{1});
  if (!result->has_value())
    return make_error(errc::request_timeout, "no answer from the requester");
  return std::move(**result);
}

caf::expected<peer> sim_network::record(const std::string& a,
                                        const std::string& b) {
  auto x =
      try_ask<peer>(*this, (*this)[a].actors.peer_table(), get_atom::value, b);
  if (!x)
    return make_error(errc::unknown_peer, a + " is not running");
  return std::move(*x);
}

std::vector<peer> sim_network::table(const std::string& uuid) {
  auto x = try_ask<std::vector<peer>>(*this, (*this)[uuid].actors.peer_table(),
                                      get_atom::value);
  if (!x || !*x)
    return {};
  return std::move(**x);
}

bool sim_network::sees(const std::string& a, const std::string& b,
                       peer_state state, const std::string& via) {
  auto p = record(a, b);
  return p && p->state == state && (via.empty() || p->via == via);
}

bool sim_network::connected(const std::vector<std::string>& chain) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i)
    if (!sees(chain[i], chain[i + 1], peer_state::connected) ||
        !sees(chain[i + 1], chain[i], peer_state::connected))
      return false;
  return true;
}

sender_stats sim_network::sender_counters(const std::string& uuid) {
  auto x = try_ask<sender_stats>(*this, (*this)[uuid].actors.sender(),
                                 stats_atom::value);
  return x && *x ? **x : sender_stats{};
}

router_stats sim_network::router_counters(const std::string& uuid) {
  auto x = try_ask<router_stats>(*this, (*this)[uuid].actors.router(),
                                 stats_atom::value);
  return x && *x ? **x : router_stats{};
}

const std::map<std::string, sim_traffic>&
sim_network::traffic(const std::string& uuid) {
  return (*this)[uuid].traffic;
}

std::map<std::string, sim_traffic> sim_network::total_traffic() const {
  std::map<std::string, sim_traffic> result;
  for (auto& [uuid, p] : peers_)
    for (auto& [command, x] : p->traffic) {
      auto& y = result[command];
      y.sent += x.sent;
      y.refused += x.refused;
      y.lost += x.lost;
      y.bytes_sent += x.bytes_sent;
      y.received += x.received;
      y.bytes_received += x.bytes_received;
    }
  return result;
}

std::vector<sim_transfer>
sim_network::transfers_of(const std::string& command, bool requests,
                          const std::string& from) const {
  std::vector<sim_transfer> result;
  for (auto& x : transfers_)
    if (x.command() == command && x.is_request() == requests &&
        (from.empty() || x.from == from))
      result.push_back(x);
  return result;
}

std::vector<sim_transfer>
sim_network::transfers_between(const std::string& a,
                               const std::string& b) const {
  std::vector<sim_transfer> result;
  for (auto& x : transfers_)
    if ((x.from == a && x.to() == b) || (x.from == b && x.to() == a))
      result.push_back(x);
  return result;
}

void sim_network::clear_transfers() {
  transfers_.clear();
}

void sim_network::write_trace(std::ostream& out) const {
  static constexpr char hex[] = "0123456789abcdef";
  for (auto& x : transfers_) {
    out << (x.at - started_).count() << ' ' << to_string(x.fate) << ' '
        << x.from;
    for (auto& frame : x.xs) {
      out << ' ';
      for (unsigned char c : frame)
        out << hex[c >> 4] << hex[c & 0xf];
      if (frame.empty())
        out << '-';
    }
    out << '\n';
  }
}

std::string sim_uuid(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "sim-%06zu", i);
  return buf;
}

std::vector<std::pair<std::size_t, std::size_t>>
random_graph(std::size_t n, std::size_t degree, std::uint64_t seed) {
  std::vector<std::pair<std::size_t, std::size_t>> result;
  if (n < 2)
    return result;
  std::set<std::pair<std::size_t, std::size_t>> edges;
  auto add = [&](std::size_t a, std::size_t b) {
    if (a == b)
      return false;
    return edges.insert({std::min(a, b), std::max(a, b)}).second;
  };
  for (std::size_t i = 0; i < n; ++i)
    add(i, (i + 1) % n);
  // The ring gives every peer 2 neighbours; chords add the rest.
  std::mt19937_64 random{seed};
  std::uniform_int_distribution<std::size_t> pick{0, n - 1};
  auto wanted = degree > 2 ? n * (degree - 2) / 2 : 0;
  auto max_edges = n * (n - 1) / 2;
  for (std::size_t added = 0; added < wanted && edges.size() < max_edges;)
    if (add(pick(random), pick(random)))
      ++added;
  result.assign(edges.begin(), edges.end());
  return result;
}

std::vector<int> sim_graph::hops_from(std::size_t from) const {
  std::vector<int> result(size(), -1);
  if (from >= size())
    return result;
  std::vector<std::size_t> todo{from};
  result[from] = 0;
  for (std::size_t i = 0; i < todo.size(); ++i)
    for (auto y : neighbours[todo[i]])
      if (result[y] < 0) {
        result[y] = result[todo[i]] + 1;
        todo.push_back(y);
      }
  return result;
}

std::size_t sim_graph::broken_links(sim_network& net) const {
  std::size_t broken = 0;
  std::set<std::string> up;
  for (std::size_t i = 0; i < size(); ++i) {
    up.clear();
    for (auto& p : net.table(sim_uuid(i)))
      if (p.state == peer_state::connected)
        up.insert(p.uuid);
    for (auto j : neighbours[i])
      broken += up.count(sim_uuid(j)) == 0 ? 1 : 0;
  }
  return broken;
}

sim_graph add_random_network(sim_network& net, std::size_t n,
                             std::size_t degree, std::uint64_t seed,
                             duration spread,
                             const std::function<void(config&)>& tune) {
  sim_graph result;
  result.links = random_graph(n, degree, seed);
  result.neighbours.resize(n);
  for (auto [a, b] : result.links) {
    result.neighbours[a].push_back(b);
    result.neighbours[b].push_back(a);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && spread > duration::zero())
      net.advance(spread);
    net.add(sim_uuid(i), tune);
    // Told its higher-numbered neighbours now: it greets them on its first
    // tick, when they run.
    for (auto j : result.neighbours[i])
      if (j < i)
        net.tell(sim_uuid(j), sim_uuid(i));
  }
  return result;
}

} // namespace p2p0mq::testing
