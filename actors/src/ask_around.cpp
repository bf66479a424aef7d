#include "p2p0mq/actors/ask_around.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// The most requests about one target kept for an answer; beyond, a request
/// is still relayed (rate permitting) but not kept.
constexpr std::size_t max_kept_per_target = 64;

/// What an `r` message carries.
using question = ask_around_body;

/// A request about a target we relayed, kept to answer it.
struct kept_request {
  message request;
  time_point at;
};

/// One target to look for.
struct search {
  std::string target;
  /// Peers not to ask.
  std::vector<std::string> exclude;
  /// The breadcrumbs of the question we pass on (empty: our own question).
  std::vector<std::string> breadcrumbs;
};

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

payload encode(const std::string& target,
               const std::vector<std::string>& breadcrumbs) {
  return make_ask_around_payload(target, breadcrumbs);
}

/// The question an `r` message asks or answers, or what is wrong with it.
caf::expected<question> decode(const message& msg) {
  return parse_ask_around_payload(msg.payload);
}

/// Whether we can answer `msg`, a question about `p`: we have it CONNECTED,
/// or ROUTED through a peer that is not on the question's way (else the
/// answer would send the asker's traffic back along that way).
bool reaches(const peer& p, const message& msg, const question& q) {
  if (p.state == peer_state::connected)
    return true;
  return p.state == peer_state::routed && !p.via.empty() &&
         p.via != msg.source && p.via != msg.previous_hop &&
         !contains(q.breadcrumbs, p.via);
}

class ask_around_concern final : public concern_base {
public:
  using concern_base::concern_base;

  const char* name() const override {
    return "p2p0mq.ask_around";
  }

protected:
  void on_start() override {
    watch_wanted_routes();
    watch_peers();
  }

  void on_routes_wanted(const std::vector<wanted_route>& routes) override {
    std::vector<search> xs;
    for (auto& x : routes)
      xs.push_back({x.target, x.exclude, {}});
    look_for(std::move(xs));
  }

  void on_peers_changed(const std::vector<peer_change>& changes) override {
    for (auto& x : changes) {
      if (x.what != change_kind::removed && x.record.legacy())
        legacy_.insert(x.record.uuid);
      else
        legacy_.erase(x.record.uuid);
    }
    // A search that found nobody to ask tries again once a peer is there.
    if (stalled_.empty())
      return;
    for (auto& x : changes)
      if (x.record.state == peer_state::connected &&
          x.was != peer_state::connected) {
        stalled_.clear();
        search_wanted();
        return;
      }
  }

  void on_tick() override {
    prune();
    search_wanted();
    arm();
  }

  answer on_request(const message& msg) override {
    auto q = checked(msg);
    if (!q)
      return no_reply;
    if (q->breadcrumbs.empty()) {
      log_dropped(log_kinds::bad_ask_around, msg,
                  make_error(errc::missing_field, "a request without "
                                                  "breadcrumbs"));
      return no_reply;
    }
    if (q->target == local_uuid()) {
      log(log_level::info, log_category::router, short_uuid(msg.source),
          " asked us about ourselves; answered as invalid");
      return answer_to(question{q->target, {}});
    }
    if (contains(q->breadcrumbs, local_uuid())) {
      log(log_level::debug, log_category::router, "the question about ",
          short_uuid(q->target), " from ", short_uuid(msg.source),
          " came round a loop; dropped");
      return no_reply;
    }
    request(context().peers, caf::infinite, get_atom::value, q->target)
        .then(
            [this, msg, q = *q](const peer& p) {
              if (reaches(p, msg, q)) {
                log(log_level::debug, log_category::router, "telling ",
                    short_uuid(msg.source), " that we reach ",
                    short_uuid(q.target));
                ++answered_;
                reply(msg, encode(q.target, q.breadcrumbs));
                return;
              }
              relay(msg, q);
            },
            [this, msg, q = *q](const caf::error&) { relay(msg, q); });
    return no_reply;
  }

  void on_reply(const message& msg) override {
    auto q = checked(msg);
    if (q)
      take_answer(msg, std::move(*q));
  }

  bool on_send_failed(const message&, const caf::error&) override {
    // No retry: the next ask comes with the next interval.
    return false;
  }

  void on_dropped(const message& msg, const caf::error& err) override {
    log(log_level::debug, log_category::router, "r ", to_string(msg.kind),
        " to ", short_uuid(msg.to), " dropped: ", render(err));
  }

  concern_counters counters() const override {
    return {{"searches", searches_},
            {"questions", questions_},
            {"answered", answered_},
            {"passed_on", passed_on_},
            {"routes_found", routes_found_}};
  }

private:
  const p2p0mq::config& cfg() const {
    return *context().settings;
  }

  /// The question of `msg`, or nothing (logged).
  std::optional<question> checked(const message& msg) {
    auto q = decode(msg);
    if (!q) {
      log_dropped(log_kinds::bad_ask_around, msg, q.error());
      return std::nullopt;
    }
    return std::move(*q);
  }

  /// Whether `p` answers questions: it announced ask-around in its
  /// `hello`; a peer that announced nothing (a legacy peer) or whose `hello`
  /// never came only when the settings say so.
  bool answers(const peer& p) const {
    if (p.speaks && p.speaks->announced)
      return p.speaks->has(capability::ask_around);
    return cfg().ask_around_legacy_peers;
  }

  answer answer_to(const question& q) {
    ++answered_;
    return encode(q.target, q.breadcrumbs);
  }

  /// Looks again for the destinations that still wait for a route.
  void search_wanted() {
    request(context().sender, caf::infinite, find_atom::value)
        .then([this](std::vector<wanted_route>& wanted) {
          on_routes_wanted(wanted);
        });
  }

  /// Asks for a tick when the next ask, answer or kept request expires.
  void arm() {
    auto next = time_point::max();
    for (auto* xs : {&asked_, &found_})
      for (auto& kvp : *xs)
        next = std::min(next, kvp.second + cfg().ask_around_interval);
    for (auto& kvp : kept_)
      for (auto& k : kvp.second)
        next = std::min(next, k.at + cfg().message_ttl);
    if (next != time_point::max())
      tick_after(next - clock().now());
  }

  /// Forgets the ask about `target` made at `at`: it reached nobody.
  void forget(const std::string& target, time_point at) {
    auto i = asked_.find(target);
    if (i != asked_.end() && i->second == at)
      asked_.erase(i);
  }

  /// For each search, asks the CONNECTED peers about its target, except the
  /// target itself, the peers to exclude and the peers in its breadcrumbs,
  /// unless we asked about that target within the interval. One look at the
  /// peer table serves them all.
  void look_for(std::vector<search> xs) {
    auto now = clock().now();
    auto skip = [&](const search& x) {
      if (x.target == local_uuid())
        return true;
      auto i = asked_.find(x.target);
      if (i != asked_.end() && now - i->second < cfg().ask_around_interval) {
        log(log_level::debug, log_category::router, "not asking about ",
            short_uuid(x.target), " again yet");
        return true;
      }
      return false;
    };
    xs.erase(std::remove_if(xs.begin(), xs.end(), skip), xs.end());
    if (xs.empty())
      return;
    for (auto& x : xs)
      asked_[x.target] = now;
    arm();
    request(context().peers, caf::infinite, get_atom::value)
        .then(
            [this, xs, now](const std::vector<peer>& peers) mutable {
              ask(std::move(xs), peers, now);
            },
            [this, xs, now](const caf::error&) {
              for (auto& x : xs)
                forget(x.target, now);
            });
  }

  void ask(std::vector<search> xs, const std::vector<peer>& peers,
           time_point now) {
    auto sent_at = clock().now();
    for (auto& x : xs) {
      std::vector<std::string> ask;
      for (auto& p : peers)
        if (p.state == peer_state::connected && answers(p) &&
            p.uuid != x.target && !contains(x.exclude, p.uuid) &&
            !contains(x.breadcrumbs, p.uuid))
          ask.push_back(p.uuid);
      if (ask.empty()) {
        // An ask that reaches nobody does not count against the interval.
        log(log_level::debug, log_category::router, "no peer to ask about ",
            short_uuid(x.target));
        forget(x.target, now);
        if (x.breadcrumbs.empty())
          stalled_.insert(x.target);
        continue;
      }
      ++searches_;
      questions_ += ask.size();
      x.breadcrumbs.push_back(local_uuid());
      auto body = encode(x.target, x.breadcrumbs);
      log(log_level::debug, log_category::router, "asking ", ask.size(),
          " peers about ", short_uuid(x.target));
      for (auto& dest : ask) {
        auto msg =
            context().make_request(dest, ask_around_command, body, sent_at);
        // Straight to the peer: it is CONNECTED.
        msg.next_hop = dest;
        post(std::move(msg));
      }
    }
  }

  /// Keeps a request about a target we do not reach, and looks for it.
  void relay(const message& msg, question q) {
    ++passed_on_;
    auto& kept = kept_[q.target];
    if (kept.size() < max_kept_per_target)
      kept.push_back({msg, clock().now()});
    std::vector<std::string> exclude{msg.source};
    if (msg.previous_hop != msg.source)
      exclude.push_back(msg.previous_hop);
    std::vector<search> xs;
    xs.push_back({q.target, std::move(exclude), std::move(q.breadcrumbs)});
    look_for(std::move(xs));
  }

  void take_answer(const message& msg, question q) {
    if (q.breadcrumbs.empty()) {
      log(log_level::info, log_category::router, short_uuid(msg.source),
          " answered that the question about ", short_uuid(q.target),
          " was invalid");
      return;
    }
    if (q.breadcrumbs.back() != local_uuid()) {
      log_dropped(log_kinds::bad_ask_around, msg,
                  make_error(errc::wrong_field_type,
                             "its last breadcrumb is " +
                                 quote_bytes(q.breadcrumbs.back()) +
                                 ", not us"));
      return;
    }
    if (q.target == local_uuid()) {
      log_dropped(log_kinds::bad_ask_around, msg,
                  make_error(errc::wrong_field_type, "an answer about us"));
      return;
    }
    if (legacy_.count(msg.previous_hop) > 0) {
      // A legacy peer cannot forward: its answer is no route (nor is it the
      // first answer, which would keep a later one out).
      log(log_level::debug, log_category::router, "an answer about ",
          short_uuid(q.target), " through ", short_uuid(msg.previous_hop),
          ", which does not relay: not taken");
      return;
    }
    q.breadcrumbs.pop_back();
    auto now = clock().now();
    // A question floods the network: answers come from every way round. The
    // first came the quickest way; a later one would replace that route with
    // a longer one (and, passed on, replace the routes of the peers the
    // question came through, which can make a loop).
    if (auto [i, first] = found_.try_emplace(q.target, now); !first) {
      if (now - i->second < cfg().ask_around_interval) {
        log(log_level::debug, log_category::router, "a later answer about ",
            short_uuid(q.target), " from ", short_uuid(msg.previous_hop),
            ": the first one stands");
        return;
      }
      i->second = now;
    }
    arm();
    auto& via = msg.previous_hop;
    if (via != q.target) {
      log(log_level::debug, log_category::router, short_uuid(q.target),
          " can be reached via ", short_uuid(via));
      ++routes_found_;
      caf::anon_send(context().peers, via_atom::value, q.target, via);
    }
    // Answer the requests about the target we kept, whether we asked first
    // or passed a question on.
    bool requester_answered = q.breadcrumbs.empty(); // We asked first.
    auto i = kept_.find(q.target);
    if (i != kept_.end()) {
      for (auto& k : i->second) {
        if (auto kq = decode(k.request)) {
          ++answered_;
          reply(k.request, encode(kq->target, kq->breadcrumbs));
        }
        if (!q.breadcrumbs.empty() && k.request.source == q.breadcrumbs.back())
          requester_answered = true;
      }
      kept_.erase(i);
    }
    if (requester_answered)
      return;
    // Its request was not kept (it expired): pass the answer on to whoever
    // asked us.
    auto asker = q.breadcrumbs.back();
    message out;
    out.source = local_uuid();
    out.to = asker;
    out.command = ask_around_command;
    out.kind = message_kind::reply;
    out.id = msg.id;
    out.payload = encode(q.target, q.breadcrumbs);
    out.deadline = now + cfg().message_ttl;
    ++answered_;
    post(std::move(out));
  }

  /// Forgets asks and answers older than the interval and kept requests
  /// older than a time-to-live.
  void prune() {
    auto now = clock().now();
    for (auto* xs : {&asked_, &found_})
      for (auto i = xs->begin(); i != xs->end();) {
        if (now - i->second >= cfg().ask_around_interval)
          i = xs->erase(i);
        else
          ++i;
      }
    for (auto i = kept_.begin(); i != kept_.end();) {
      auto& xs = i->second;
      xs.erase(std::remove_if(xs.begin(), xs.end(),
                              [&](const kept_request& x) {
                                return now - x.at >= cfg().message_ttl;
                              }),
               xs.end());
      if (xs.empty())
        i = kept_.erase(i);
      else
        ++i;
    }
  }

  /// When we last asked about each target (asks that reached a peer, or are
  /// on their way).
  std::unordered_map<std::string, time_point> asked_;
  /// Requests we relayed, by target, oldest first.
  std::unordered_map<std::string, std::vector<kept_request>> kept_;
  /// When the first answer about each target came (within the interval):
  /// later answers came a longer way round and are not taken.
  std::unordered_map<std::string, time_point> found_;
  /// Our own targets whose last search found nobody to ask.
  std::unordered_set<std::string> stalled_;
  /// The legacy peers of the table: they relay nothing.
  std::unordered_set<std::string> legacy_;
  std::uint64_t searches_ = 0;
  std::uint64_t questions_ = 0;
  std::uint64_t answered_ = 0;
  std::uint64_t passed_on_ = 0;
  std::uint64_t routes_found_ = 0;
};

} // namespace

ask_around_stats ask_around_stats_of(const concern_counters& xs) {
  auto get = [&](const char* key) -> std::uint64_t {
    auto i = xs.find(key);
    return i == xs.end() ? 0 : i->second;
  };
  ask_around_stats result;
  result.searches = get("searches");
  result.questions = get("questions");
  result.answered = get("answered");
  result.passed_on = get("passed_on");
  result.routes_found = get("routes_found");
  return result;
}

concern_factory ask_around() {
  return concern_class<ask_around_concern>();
}

} // namespace p2p0mq
