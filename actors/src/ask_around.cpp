#include "p2p0mq/actors/ask_around.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

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

struct ask_around_state {
  static inline const char* name = "p2p0mq.ask_around";
  concern_context ctx;
  /// When we last asked about each target (asks that reached a peer, or are
  /// on their way).
  std::unordered_map<std::string, time_point> asked;
  /// Requests we relayed, by target, oldest first.
  std::unordered_map<std::string, std::vector<kept_request>> kept;
  /// When the first answer about each target came (within the interval):
  /// later answers came a longer way round and are not taken.
  std::unordered_map<std::string, time_point> found;
  ask_around_stats stats;
};

using ask_around_ptr = ask_around_actor::stateful_pointer<ask_around_state>;

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

void send(ask_around_ptr self, message msg) {
  self->send(self->state.ctx.sender, outgoing_atom::value, std::move(msg),
             priority::fast, concern_actor{self});
}

/// One target to look for.
struct search {
  std::string target;
  /// Peers not to ask.
  std::vector<std::string> exclude;
  /// The breadcrumbs of the question we pass on (empty: our own question).
  std::vector<std::string> breadcrumbs;
};

/// Forgets the ask about `target` made at `at`: it reached nobody.
void forget(ask_around_ptr self, const std::string& target, time_point at) {
  auto& asked = self->state.asked;
  auto i = asked.find(target);
  if (i != asked.end() && i->second == at)
    asked.erase(i);
}

/// For each search, asks the CONNECTED peers about its target, except the
/// target itself, the peers to exclude and the peers in its breadcrumbs,
/// unless we asked about that target within the interval. One look at the
/// peer table serves them all.
void look_for(ask_around_ptr self, std::vector<search> xs) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto skip = [&](const search& x) {
    if (x.target == st.ctx.local_uuid)
      return true;
    auto i = st.asked.find(x.target);
    if (i != st.asked.end() &&
        now - i->second < st.ctx.settings->ask_around_interval) {
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
    st.asked[x.target] = now;
  self->request(st.ctx.peers, caf::infinite, get_atom::value)
      .then(
          [self, xs, now](const std::vector<peer>& peers) mutable {
            auto& ctx = self->state.ctx;
            auto sent_at = self->clock().now();
            for (auto& x : xs) {
              std::vector<std::string> ask;
              for (auto& p : peers)
                if (p.state == peer_state::connected && p.uuid != x.target &&
                    !contains(x.exclude, p.uuid) &&
                    !contains(x.breadcrumbs, p.uuid))
                  ask.push_back(p.uuid);
              if (ask.empty()) {
                // An ask that reaches nobody does not count against the
                // interval.
                log(log_level::debug, log_category::router,
                    "no peer to ask about ", short_uuid(x.target));
                forget(self, x.target, now);
                continue;
              }
              ++self->state.stats.searches;
              self->state.stats.questions += ask.size();
              x.breadcrumbs.push_back(ctx.local_uuid);
              auto body = encode(x.target, x.breadcrumbs);
              log(log_level::debug, log_category::router, "asking ", ask.size(),
                  " peers about ", short_uuid(x.target));
              for (auto& dest : ask) {
                auto msg =
                    ctx.make_request(dest, ask_around_command, body, sent_at);
                // Straight to the peer: it is CONNECTED.
                msg.next_hop = dest;
                send(self, std::move(msg));
              }
            }
          },
          [self, xs, now](const caf::error&) {
            for (auto& x : xs)
              forget(self, x.target, now);
          });
}

void answer(ask_around_ptr self, const message& request, const question& q) {
  auto& ctx = self->state.ctx;
  ++self->state.stats.answered;
  send(self, ctx.make_reply(request, encode(q.target, q.breadcrumbs),
                            self->clock().now()));
}

/// Keeps a request about a target we do not reach, and looks for it.
void relay(ask_around_ptr self, message msg, question q) {
  auto& st = self->state;
  ++st.stats.passed_on;
  auto& kept = st.kept[q.target];
  if (kept.size() < max_kept_per_target)
    kept.push_back({msg, self->clock().now()});
  std::vector<std::string> exclude{msg.source};
  if (msg.previous_hop != msg.source)
    exclude.push_back(msg.previous_hop);
  std::vector<search> xs;
  xs.push_back({q.target, std::move(exclude), std::move(q.breadcrumbs)});
  look_for(self, std::move(xs));
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

void on_request(ask_around_ptr self, message msg, question q) {
  auto& st = self->state;
  if (q.breadcrumbs.empty()) {
    log(log_level::warning, log_category::router,
        "dropped an r request without breadcrumbs from ",
        short_uuid(msg.source));
    return;
  }
  if (q.target == st.ctx.local_uuid) {
    log(log_level::info, log_category::router, short_uuid(msg.source),
        " asked us about ourselves; answered as invalid");
    answer(self, msg, question{q.target, {}});
    return;
  }
  if (contains(q.breadcrumbs, st.ctx.local_uuid)) {
    log(log_level::debug, log_category::router, "the question about ",
        short_uuid(q.target), " from ", short_uuid(msg.source),
        " came round a loop; dropped");
    return;
  }
  self->request(st.ctx.peers, caf::infinite, get_atom::value, q.target)
      .then(
          [self, msg, q](const peer& p) {
            if (reaches(p, msg, q)) {
              log(log_level::debug, log_category::router, "telling ",
                  short_uuid(msg.source), " that we reach ",
                  short_uuid(q.target));
              answer(self, msg, q);
              return;
            }
            relay(self, msg, q);
          },
          [self, msg, q](const caf::error&) { relay(self, msg, q); });
}

void on_reply(ask_around_ptr self, const message& msg, question q) {
  auto& st = self->state;
  auto& ctx = st.ctx;
  if (q.breadcrumbs.empty()) {
    log(log_level::info, log_category::router, short_uuid(msg.source),
        " answered that the question about ", short_uuid(q.target),
        " was invalid");
    return;
  }
  if (q.breadcrumbs.back() != ctx.local_uuid) {
    log(log_level::warning, log_category::router, "dropped an r reply from ",
        short_uuid(msg.source), ": its last breadcrumb is ",
        short_uuid(q.breadcrumbs.back()), ", not us");
    return;
  }
  if (q.target == ctx.local_uuid) {
    log(log_level::warning, log_category::router, "dropped an r reply from ",
        short_uuid(msg.source), " about ourselves");
    return;
  }
  q.breadcrumbs.pop_back();
  auto now = self->clock().now();
  // A question floods the network: answers come from every way round. The
  // first came the quickest way; a later one would replace that route with
  // a longer one (and, passed on, replace the routes of the peers the
  // question came through, which can make a loop).
  if (auto [i, first] = st.found.try_emplace(q.target, now); !first) {
    if (now - i->second < ctx.settings->ask_around_interval) {
      log(log_level::debug, log_category::router, "a later answer about ",
          short_uuid(q.target), " from ", short_uuid(msg.previous_hop),
          ": the first one stands");
      return;
    }
    i->second = now;
  }
  auto& via = msg.previous_hop;
  if (via != q.target) {
    log(log_level::debug, log_category::router, short_uuid(q.target),
        " can be reached via ", short_uuid(via));
    ++st.stats.routes_found;
    caf::anon_send(ctx.peers, via_atom::value, q.target, via);
  }
  // Answer the requests about the target we kept, whether we asked first
  // or passed a question on.
  bool requester_answered = q.breadcrumbs.empty(); // We asked first.
  auto i = st.kept.find(q.target);
  if (i != st.kept.end()) {
    for (auto& k : i->second) {
      if (auto kq = decode(k.request))
        answer(self, k.request, *kq);
      if (!q.breadcrumbs.empty() && k.request.source == q.breadcrumbs.back())
        requester_answered = true;
    }
    st.kept.erase(i);
  }
  if (requester_answered)
    return;
  // Its request was not kept (it expired): pass the answer on to whoever
  // asked us.
  auto requester = q.breadcrumbs.back();
  message out;
  out.source = ctx.local_uuid;
  out.to = requester;
  out.command = ask_around_command;
  out.kind = message_kind::reply;
  out.id = msg.id;
  out.payload = encode(q.target, q.breadcrumbs);
  out.deadline = now + ctx.settings->message_ttl;
  ++st.stats.answered;
  send(self, std::move(out));
}

/// Forgets asks older than the interval and kept requests older than a
/// time-to-live.
void prune(ask_around_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto& cfg = *st.ctx.settings;
  for (auto* xs : {&st.asked, &st.found})
    for (auto i = xs->begin(); i != xs->end();) {
      if (now - i->second >= cfg.ask_around_interval)
        i = xs->erase(i);
      else
        ++i;
    }
  for (auto i = st.kept.begin(); i != st.kept.end();) {
    auto& xs = i->second;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const kept_request& x) {
                              return now - x.at >= cfg.message_ttl;
                            }),
             xs.end());
    if (xs.empty())
      i = st.kept.erase(i);
    else
      ++i;
  }
}

ask_around_actor::behavior_type ask_around_impl(ask_around_ptr self,
                                                concern_context context) {
  self->state.ctx = std::move(context);
  return {
      [self](incoming_atom, message& msg) {
        auto q = decode(msg);
        if (!q) {
          log(log_level::warning, log_category::router, "dropped an r ",
              to_string(msg.kind), " from ", short_uuid(msg.source), ": ",
              render(q.error()));
          return;
        }
        if (msg.is_reply())
          on_reply(self, msg, std::move(*q));
        else
          on_request(self, std::move(msg), std::move(*q));
      },
      [self](tick_atom) {
        prune(self);
        self->request(self->state.ctx.sender, caf::infinite, find_atom::value)
            .then([self](std::vector<wanted_route>& wanted) {
              std::vector<search> xs;
              for (auto& x : wanted)
                xs.push_back({std::move(x.target), std::move(x.exclude), {}});
              look_for(self, std::move(xs));
            });
      },
      [](sent_atom, const message&) {
        // An answer, if any, comes as a reply.
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // No retry: the next ask comes with the next interval.
        return false;
      },
      [](dropped_atom, const message& msg, const caf::error& err) {
        log(log_level::debug, log_category::router, "r ", to_string(msg.kind),
            " to ", short_uuid(msg.to), " dropped: ", render(err));
      },
      [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace

concern_factory ask_around() {
  return [](caf::local_actor* parent, concern_context ctx) {
    return caf::actor_cast<concern_actor>(
        parent->spawn(ask_around_impl, std::move(ctx)));
  };
}

} // namespace p2p0mq
