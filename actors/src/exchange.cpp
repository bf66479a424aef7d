#include "p2p0mq/actors/exchange.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/discovery.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// At most this many leaves are asked for in one round.
constexpr std::size_t max_leaves_per_round = 4;

/// The most dials remembered (beyond, nothing more is dialled until old ones
/// are forgotten): a bound on memory whatever the samples say.
constexpr std::size_t max_remembered_dials = 4096;

bool pinned(const peer& p) {
  return p.origin == peer_origin::flag || p.origin == peer_origin::store;
}

bool exchanges(const peer& p) {
  return p.state == peer_state::connected && p.speaks &&
         p.speaks->has(capability::exchange);
}

class exchange_concern final : public concern_base {
public:
  exchange_concern(caf::actor_config& cfg, concern_context ctx)
      : concern_base(cfg, std::move(ctx)),
        random_(std::hash<std::string>{}(context().local_uuid)) {
  }

  const char* name() const override {
    return "p2p0mq.exchange";
  }

protected:
  void on_start() override {
    watch_peers();
    tick_after(cfg().tick_interval);
  }

  void on_peers_changed(const std::vector<peer_change>& changes) override {
    for (auto& x : changes) {
      if (x.what == change_kind::removed) {
        peers_.erase(x.record.uuid);
        degrees_.erase(x.record.uuid);
        // Kept in `known_`: a peer let go may be named again, and a peer
        // lost may come back.
        leaving_.erase(x.record.uuid);
        continue;
      }
      if (x.record.state != peer_state::connected)
        degrees_.erase(x.record.uuid);
      peers_[x.record.uuid] = x.record;
    }
    // Links lost, or too many: act soon.
    auto d = degree();
    if (d < target() || d > max_degree())
      tick_after(cfg().tick_interval);
  }

  void on_tick() override {
    auto now = clock().now();
    forget_old(now);
    auto d = degree();
    std::size_t asked = 0;
    if (d > max_degree())
      asked = let_go(d - max_degree());
    if (auto to = pick_neighbour()) {
      ++rounds_;
      auto body = sample_for(*to);
      // At the target, a round only asks: the answer's sample is what we
      // may need later, and the heart-beats' traffic does not grow with it.
      if (d >= target())
        body.peers.clear();
      send_request(*to, make_exchange_payload(body));
    }
    // Too many links and nobody left to ask: wait for news (a neighbour
    // that refused asks again after an exchange interval).
    auto busy = d < target() || (d > max_degree() && asked > 0);
    tick_after(busy ? cfg().tick_interval : discovery().exchange_interval);
  }

  answer on_request(const message& msg) override {
    auto body = parse(msg);
    if (!body)
      return no_reply;
    switch (body->what) {
    case exchange_body::kind::sample:
      take_sample(msg.source, *body);
      return make_exchange_payload(sample_for(msg.source));
    case exchange_body::kind::leave:
      return make_exchange_payload(leave_answer(msg.source, *body));
    case exchange_body::kind::answer:
      break;
    }
    log_dropped(log_kinds::bad_exchange, msg,
                make_error(errc::wrong_field_type, "an answer as a request"));
    return no_reply;
  }

  void on_reply(const message& msg) override {
    auto body = parse(msg);
    if (!body)
      return;
    switch (body->what) {
    case exchange_body::kind::sample:
      take_sample(msg.source, *body);
      return;
    case exchange_body::kind::answer:
      if (leaving_.erase(msg.source) == 0)
        return;
      degrees_[msg.source] = body->degree;
      if (body->accepted) {
        ++leaves_accepted_;
        drop_link(msg.source);
      } else {
        refused_[msg.source] = clock().now();
      }
      return;
    case exchange_body::kind::leave:
      break;
    }
    log_dropped(log_kinds::bad_exchange, msg,
                make_error(errc::wrong_field_type, "a leave as a reply"));
  }

  void on_sent(const message& msg) override {
    if (!msg.is_request() && letting_go_.erase(msg.to) > 0)
      drop_link(msg.to);
  }

  bool on_send_failed(const message&, const caf::error&) override {
    // The next round asks again.
    return false;
  }

  void on_dropped(const message& msg, const caf::error& err) override {
    if (msg.is_request())
      leaving_.erase(msg.to);
    else
      letting_go_.erase(msg.to);
    log(log_level::debug, log_category::connector, "pex ", to_string(msg.kind),
        " to ", short_uuid(msg.to), " dropped: ", render(err));
  }

  concern_counters counters() const override {
    return {
        {"rounds", rounds_},
        {"samples_received", samples_received_},
        {"dials", dials_},
        {"leaves_asked", leaves_asked_},
        {"leaves_accepted", leaves_accepted_},
        {"links_let_go", links_let_go_},
        {"dropped", dropped_},
    };
  }

private:
  const p2p0mq::config& cfg() const {
    return *context().settings;
  }

  const discovery_settings& discovery() const {
    return cfg().discovery;
  }

  std::size_t target() const {
    return discovery().target_degree;
  }

  std::size_t max_degree() const {
    return 2 * target();
  }

  /// Direct links now.
  std::size_t degree() const {
    std::size_t result = 0;
    for (auto& kvp : peers_)
      if (kvp.second.state == peer_state::connected)
        ++result;
    return result;
  }

  /// Dials not yet answered: peers dialled within the unresponsive
  /// threshold that are not CONNECTED.
  std::size_t pending_dials(time_point now) const {
    std::size_t result = 0;
    for (auto& [uuid, at] : dialled_uuids_) {
      if (now - at >= cfg().unresponsive_threshold)
        continue;
      if (let_go_.count(uuid) > 0)
        continue;
      auto i = peers_.find(uuid);
      if (i == peers_.end() || i->second.state == peer_state::initial ||
          i->second.state == peer_state::connecting)
        ++result;
    }
    return result;
  }

  std::optional<exchange_body> parse(const message& msg) {
    auto body = parse_exchange_payload(msg.payload);
    if (!body) {
      ++dropped_;
      log_dropped(log_kinds::bad_exchange, msg, body.error());
      return std::nullopt;
    }
    // Only a direct neighbour that speaks the exchange is listened to.
    auto i = peers_.find(msg.source);
    if (msg.source != msg.previous_hop || i == peers_.end() ||
        !exchanges(i->second)) {
      ++dropped_;
      log(log_level::debug, log_category::connector, "ignored a pex from ",
          short_uuid(msg.source), ": not a direct peer that exchanges");
      return std::nullopt;
    }
    return std::move(*body);
  }

  /// A random neighbour to exchange with, if any.
  std::optional<std::string> pick_neighbour() {
    std::vector<std::string> xs;
    for (auto& [uuid, p] : peers_)
      if (exchanges(p))
        xs.emplace_back(uuid);
    if (xs.empty())
      return std::nullopt;
    std::uniform_int_distribution<std::size_t> pick{0, xs.size() - 1};
    return xs[pick(random_)];
  }

  /// Our sample for `to`: half of it our direct peers (those with room for
  /// more links), the rest addresses others named to us, so that addresses
  /// travel further than two hops and the mesh grows random rather than
  /// clustered.
  exchange_body sample_for(const std::string& to) {
    exchange_body result;
    result.degree = degree();
    auto limit = discovery().exchange_sample;
    std::vector<exchanged_peer> direct;
    for (auto& [uuid, p] : peers_) {
      if (uuid == to || !exchanges(p) || p.host.empty() || p.port == 0)
        continue;
      // Not a crowded one: it would only have to let the new link go again.
      if (auto d = degrees_.find(uuid);
          d != degrees_.end() && d->second >= max_degree())
        continue;
      direct.push_back(exchanged_peer{uuid, p.host, p.port});
    }
    std::vector<exchanged_peer> heard;
    for (auto& [uuid, x] : known_)
      if (uuid != to && peers_.count(uuid) == 0)
        heard.push_back(x.address);
    std::shuffle(direct.begin(), direct.end(), random_);
    std::shuffle(heard.begin(), heard.end(), random_);
    auto from_direct =
        std::min(direct.size(),
                 std::max(limit / 2, limit - std::min(limit, heard.size())));
    direct.resize(from_direct);
    result.peers = std::move(direct);
    for (auto& x : heard) {
      if (result.peers.size() >= limit)
        break;
      result.peers.push_back(std::move(x));
    }
    return result;
  }

  /// Remembers the addresses of a sample (the oldest forgotten beyond
  /// `max_known`).
  void remember(const std::string& from, const exchange_body& body,
                time_point now) {
    for (auto& x : body.peers) {
      if (x.uuid == context().local_uuid || x.uuid == from)
        continue;
      auto i = known_.find(x.uuid);
      if (i != known_.end())
        continue; // A known uuid keeps its first address.
      if (known_.size() >= max_known) {
        auto oldest = std::min_element(
            known_.begin(), known_.end(),
            [](auto& a, auto& b) { return a.second.since < b.second.since; });
        known_.erase(oldest);
      }
      known_.emplace(x.uuid, known_address{x, now});
    }
  }

  /// Learns `from`'s degree and the addresses of its sample, and dials
  /// peers we know of while we have fewer links than the target.
  void take_sample(const std::string& from, const exchange_body& body) {
    ++samples_received_;
    degrees_[from] = body.degree;
    auto now = clock().now();
    remember(from, body, now);
    if (now - window_start_ >= cfg().tick_interval) {
      window_start_ = now;
      window_dials_ = 0;
    }
    auto have = degree() + pending_dials(now);
    if (have >= target())
      return;
    auto want =
        std::min(target() - have, discovery().exchange_dials - window_dials_);
    std::vector<exchanged_peer> candidates;
    for (auto& [uuid, x] : known_)
      candidates.push_back(x.address);
    std::shuffle(candidates.begin(), candidates.end(), random_);
    for (auto& x : candidates) {
      if (want == 0 || dialled_uuids_.size() >= max_remembered_dials)
        return;
      if (auto i = peers_.find(x.uuid); i != peers_.end()) {
        auto st = i->second.state;
        if (st == peer_state::connected || st == peer_state::connecting)
          continue;
      }
      auto address = x.host + ":" + std::to_string(x.port);
      if (let_go_.count(x.uuid) > 0 || dialled_uuids_.count(x.uuid) > 0 ||
          dialled_addresses_.count(address) > 0)
        continue;
      dialled_uuids_[x.uuid] = now;
      dialled_addresses_[address] = now;
      ++dials_;
      ++window_dials_;
      --want;
      log(log_level::debug, log_category::connector, "dialling ",
          short_uuid(x.uuid), " at ", address);
      request(context().peers, caf::infinite, learn_atom::value, x.uuid, x.host,
              x.port, peer_origin::exchange)
          .then([](const peer&) {},
                [uuid = x.uuid](const caf::error& err) {
                  log(log_level::debug, log_category::connector,
                      "could not dial ", short_uuid(uuid), ": ", render(err));
                });
    }
  }

  /// Our answer to `from`'s request to end our link.
  exchange_body leave_answer(const std::string& from,
                             const exchange_body& body) {
    degrees_[from] = body.degree;
    exchange_body result;
    result.what = exchange_body::kind::answer;
    result.degree = degree();
    auto i = peers_.find(from);
    result.accepted = i != peers_.end() && !pinned(i->second) &&
                      result.degree >= target() && leaving_.count(from) == 0;
    if (result.accepted) {
      // Both ends let go once our answer is on its way.
      letting_go_.insert(from);
      result.degree -= 1;
    }
    return result;
  }

  /// Asks up to `excess` neighbours with links to spare to end our link;
  /// returns how many it asked.
  std::size_t let_go(std::size_t excess) {
    std::vector<std::pair<std::size_t, std::string>> xs;
    for (auto& [uuid, p] : peers_) {
      if (!exchanges(p) || pinned(p) || leaving_.count(uuid) > 0 ||
          letting_go_.count(uuid) > 0 || refused_.count(uuid) > 0)
        continue;
      // Those known to have links to spare first, then those whose degree
      // we do not know (they decide themselves).
      auto d = degrees_.find(uuid);
      if (d == degrees_.end())
        xs.emplace_back(target(), uuid);
      else if (d->second >= target())
        xs.emplace_back(d->second, uuid);
    }
    std::sort(xs.begin(), xs.end(), std::greater<>{});
    auto n = std::min({excess, xs.size(), max_leaves_per_round});
    log(log_level::debug, log_category::connector, short_uuid(local_uuid()),
        " has ", degree(), " direct links: asking ", n, " of ", xs.size(),
        " to leave (", leaving_.size(), " asked already)");
    for (std::size_t i = 0; i < n; ++i) {
      exchange_body body;
      body.what = exchange_body::kind::leave;
      body.degree = degree();
      leaving_.insert(xs[i].second);
      ++leaves_asked_;
      send_request(xs[i].second, make_exchange_payload(body));
    }
    return n;
  }

  /// Ends the direct link with `uuid`: forgets it, and dials it no more for
  /// the reconnect wait.
  void drop_link(const std::string& uuid) {
    ++links_let_go_;
    let_go_[uuid] = clock().now();
    log(log_level::info, log_category::connector, "let go of ",
        short_uuid(uuid), " (", degree(), " direct links, target ", target(),
        ")");
    request(context().peers, caf::infinite, remove_atom::value, uuid)
        .then([](bool) {}, [](const caf::error&) {});
  }

  /// Forgets dials and links let go longer ago than the reconnect wait.
  void forget_old(time_point now) {
    auto wait = cfg().reconnect_wait;
    auto prune = [&](std::map<std::string, time_point>& xs) {
      for (auto i = xs.begin(); i != xs.end();)
        i = now - i->second >= wait ? xs.erase(i) : std::next(i);
    };
    prune(dialled_uuids_);
    prune(dialled_addresses_);
    prune(let_go_);
    for (auto i = refused_.begin(); i != refused_.end();)
      i = now - i->second >= discovery().exchange_interval ? refused_.erase(i)
                                                           : std::next(i);
  }

  /// An address others named to us, and since when we know it.
  struct known_address {
    exchanged_peer address;
    time_point since;
  };

  /// The most addresses heard of that are kept.
  static constexpr std::size_t max_known = 128;

  std::mt19937_64 random_;
  /// Addresses heard of in samples (at most `max_known`).
  std::map<std::string, known_address> known_;
  /// The records of the peer table, as its news tell them.
  std::map<std::string, peer> peers_;
  /// The degree each neighbour reported last.
  std::map<std::string, std::size_t> degrees_;
  /// When each uuid and each address was dialled.
  std::map<std::string, time_point> dialled_uuids_;
  std::map<std::string, time_point> dialled_addresses_;
  /// Dials in the current window of one tick interval.
  time_point window_start_{};
  std::size_t window_dials_ = 0;
  /// Links let go, and when.
  std::map<std::string, time_point> let_go_;
  /// Neighbours that refused to leave, and when.
  std::map<std::string, time_point> refused_;
  /// Neighbours asked to leave, whose answer has not come.
  std::set<std::string> leaving_;
  /// Neighbours whose leave we accepted, until our answer is sent.
  std::set<std::string> letting_go_;
  std::uint64_t rounds_ = 0;
  std::uint64_t samples_received_ = 0;
  std::uint64_t dials_ = 0;
  std::uint64_t leaves_asked_ = 0;
  std::uint64_t leaves_accepted_ = 0;
  std::uint64_t links_let_go_ = 0;
  std::uint64_t dropped_ = 0;
};

} // namespace

concern_factory exchange() {
  return concern_class<exchange_concern>();
}

} // namespace p2p0mq
