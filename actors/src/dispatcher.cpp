#include "p2p0mq/actors/dispatcher.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "batches.hpp"
#include "p2p0mq/actors/receiver.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"
#include "traffic.hpp"

namespace p2p0mq {

namespace {

/// A reply a requester waits for, by (peer, message id).
struct expectation {
  /// Who gets it; empty once it came (later ones are duplicates).
  inbox_actor who;
  time_point until;
};

using expectation_key = std::pair<std::string, std::uint64_t>;

/// Messages held for a command whose concern went down.
struct held_messages {
  time_point until;
  std::vector<message> messages;
  std::uint64_t dropped = 0;
};

/// The last route hint given for one source.
struct hint {
  std::string relay;
  time_point at;
};

/// Beyond this many remembered hints, the old ones are forgotten.
constexpr std::size_t max_hints = 4096;

/// A registered concern, and the count of what waits in its mailbox (null:
/// not bounded).
struct registered {
  concern_actor handle;
  std::shared_ptr<concern_backlog> backlog;
};

struct dispatcher_state {
  static inline const char* name = "p2p0mq.dispatcher";
  std::shared_ptr<const config> settings;
  peer_table_actor peers;
  router_actor router;
  sender_actor sender;
  std::unordered_map<std::string, registered> concerns;
  /// Messages for unknown commands, by previous hop.
  log_limiter log;
  /// Whether a `flush_log_atom` is on its way.
  bool flush_armed = false;
  /// Replies requesters wait for, and those that came, until they expire.
  std::map<expectation_key, expectation> expected;
  /// The same keys by expiry.
  std::multimap<time_point, expectation_key> expiries;
  /// Messages held during the grace period of a command, by command.
  std::unordered_map<std::string, held_messages> held;
  /// Route hints given recently, by source.
  std::unordered_map<std::string, hint> hints;
  /// When the pending timer fires, if one is pending.
  std::optional<time_point> timer_at;
  dispatcher_stats stats;
  std::shared_ptr<receive_credit> credit;
};

/// The dispatcher's own interface: the public one plus its timer.
using dispatcher_impl_actor =
    dispatcher_actor::extend<caf::reacts_to<timeout_atom>,
                             caf::reacts_to<flush_log_atom>>;

using dispatcher_ptr =
    dispatcher_impl_actor::stateful_pointer<dispatcher_state>;

// -- time ---------------------------------------------------------------------

/// Sets the timer to the earliest expiry or end of a grace period, unless
/// it fires by then already.
void arm_timer(dispatcher_ptr self) {
  auto& st = self->state;
  auto next = time_point::max();
  if (!st.expiries.empty())
    next = st.expiries.begin()->first;
  for (auto& kvp : st.held)
    next = std::min(next, kvp.second.until);
  if (next == time_point::max() || (st.timer_at && *st.timer_at <= next))
    return;
  st.timer_at = next;
  self->scheduled_send(self, next, timeout_atom::value);
}

/// Makes sure the log's summaries are written when due.
void arm_log_flush(dispatcher_ptr self) {
  auto& st = self->state;
  auto due = st.log.next_due();
  if (st.flush_armed || due == time_point::max())
    return;
  st.flush_armed = true;
  self->scheduled_send(self, due, flush_log_atom::value);
}

/// Forgets the expectations that expired by `now`.
void expire_expectations(dispatcher_state& st, time_point now) {
  while (!st.expiries.empty() && st.expiries.begin()->first <= now) {
    auto i = st.expected.find(st.expiries.begin()->second);
    if (i != st.expected.end() && i->second.until <= now)
      st.expected.erase(i);
    st.expiries.erase(st.expiries.begin());
  }
}

/// Drops what was held for commands whose grace period ended.
void end_grace_periods(dispatcher_state& st, time_point now) {
  for (auto i = st.held.begin(); i != st.held.end();) {
    if (i->second.until > now) {
      ++i;
      continue;
    }
    auto count = i->second.messages.size() + i->second.dropped;
    if (count > 0)
      log(log_level::warning, log_category::concerns, count, " messages for '",
          i->first,
          "' dropped: no concern registered for it within its grace period");
    i = st.held.erase(i);
  }
}

// -- the steps of dispatching -------------------------------------------------

/// Tells the peer table that the source of `msg`, which came through a
/// relay, can be reached through that relay, unless it was told so lately.
void learn_reverse_path(dispatcher_ptr self, const message& msg,
                        time_point now) {
  auto& st = self->state;
  if (msg.previous_hop.empty() || msg.source == msg.previous_hop ||
      msg.source == st.settings->uuid)
    return;
  auto interval = st.settings->heart_beat_interval;
  if (st.hints.size() >= max_hints)
    for (auto i = st.hints.begin(); i != st.hints.end();)
      i = now - i->second.at >= interval ? st.hints.erase(i) : std::next(i);
  auto [i, added] = st.hints.try_emplace(msg.source);
  auto& h = i->second;
  if (!added && h.relay == msg.previous_hop && now - h.at < interval)
    return;
  h.relay = msg.previous_hop;
  h.at = now;
  self->send(st.peers, heard_atom::value, msg.source, msg.previous_hop);
}

/// Hands a reply a requester waits for to it, or drops a duplicate of one
/// that came already. Returns whether `msg` was taken.
bool take_expected_reply(dispatcher_ptr self, message& msg, time_point now) {
  auto& st = self->state;
  if (!msg.is_reply() || st.expected.empty())
    return false;
  auto i = st.expected.find(expectation_key{msg.source, msg.id});
  if (i == st.expected.end() || i->second.until <= now)
    return false;
  if (!i->second.who) {
    log(log_level::info, log_category::concerns, "duplicate reply ", msg.id,
        " '", msg.command, "' from ", short_uuid(msg.source), "; dropped");
    return true;
  }
  self->send(i->second.who, incoming_atom::value, std::move(msg));
  i->second.who = inbox_actor{};
  return true;
}

/// Holds `msg` for its command if the command is in its grace period.
/// Returns whether it was taken.
bool hold(dispatcher_state& st, message& msg, time_point now) {
  auto i = st.held.find(msg.command);
  if (i == st.held.end() || i->second.until <= now)
    return false;
  auto& h = i->second;
  if (h.messages.size() < st.settings->concern_grace_limit)
    h.messages.emplace_back(std::move(msg));
  else
    ++h.dropped;
  return true;
}

/// Answers a request that no concern takes with a rejection of kind `code`,
/// if its source announced that it understands one.
void reject(dispatcher_ptr self, message msg, std::string why,
            const char* code) {
  auto& st = self->state;
  self->request(st.peers, caf::infinite, get_atom::value, msg.source)
      .then(
          [self, msg, why, code](const peer& p) {
            if (!p.speaks || !p.speaks->has(capability::reject))
              return;
            auto& own = self->state;
            auto now = self->clock().now();
            auto reply = msg.make_reply(make_rejection_payload(why, code),
                                        now + own.settings->message_ttl);
            self->send(own.sender, outgoing_atom::value, std::move(reply),
                       priority::fast, owner_actor{self});
          },
          [](const caf::error&) {
            // Not a peer we know: it gets nothing.
          });
}

/// Messages for concerns, gathered while a batch is dispatched: each concern
/// gets those of one batch in one actor message, in the order they came.
using deliveries = detail::shares<registered*>;

/// Hands the gathered messages to their concerns.
void hand_out(dispatcher_ptr self, deliveries& out) {
  for (auto& [to, msgs] : out)
    self->send(to->handle, incoming_atom::value, std::move(msgs));
  out.clear();
}

/// Adds `msg` to what goes to its concern, or drops it when the concern has
/// no room.
void deliver(dispatcher_ptr self, registered& to, message msg, time_point now,
             deliveries& out) {
  auto& st = self->state;
  if (auto& b = to.backlog) {
    auto limit = st.settings->concern_queue_limit;
    if (limit > 0 && b->counted.load(std::memory_order_relaxed) &&
        b->waiting.load(std::memory_order_relaxed) >= limit) {
      ++st.stats.concern_busy;
      st.log.report(now, log_source(msg), log_kinds::concern_busy, msg.command,
                    [&] {
                      return "concern '" + msg.command + "' holds " +
                             std::to_string(limit) +
                             " messages not yet handled (concern-queue-"
                             "limit): a " +
                             std::string{to_string(msg.kind)} + " from " +
                             quote_bytes(msg.source) + " dropped";
                    });
      arm_log_flush(self);
      if (msg.is_request() && st.sender) {
        auto why = "concern '" + msg.command + "' is busy";
        reject(self, std::move(msg), std::move(why), concern_busy_code);
      }
      return;
    }
    b->waiting.fetch_add(1, std::memory_order_relaxed);
  }
  detail::share_of(out, &to).emplace_back(std::move(msg));
}

void dispatch(dispatcher_ptr self, std::vector<message>& batch) {
  auto& st = self->state;
  auto now = self->clock().now();
  std::vector<message> transit;
  deliveries out;
  for (auto& msg : batch) {
    auto bytes = detail::traffic_bytes(msg, st.settings->uuid);
    for (auto* x : {&detail::tally(st.stats.commands, msg.command),
                    &detail::tally(st.stats.peers, msg.previous_hop)}) {
      ++x->messages;
      x->bytes += bytes;
    }
    learn_reverse_path(self, msg, now);
    if (msg.to != st.settings->uuid) {
      if (st.router) {
        transit.emplace_back(std::move(msg));
        continue;
      }
      log(log_level::warning, log_category::router, "message '", msg.command,
          "' from ", short_uuid(msg.source), " for ", short_uuid(msg.to),
          " dropped: routing is not available");
      continue;
    }
    if (take_expected_reply(self, msg, now))
      continue;
    auto i = st.concerns.find(msg.command);
    if (i != st.concerns.end()) {
      deliver(self, i->second, std::move(msg), now, out);
      continue;
    }
    if (hold(st, msg, now))
      continue;
    ++st.stats.unknown_command;
    st.log.report(now, log_source(msg), log_kinds::unknown_command,
                  to_string(msg.kind), [&] {
                    return "unknown command '" + msg.command + "' in a " +
                           std::string{to_string(msg.kind)} + " from " +
                           quote_bytes(msg.source) + "; dropped";
                  });
    arm_log_flush(self);
    if (msg.is_request() && st.sender) {
      auto why = "no concern serves '" + msg.command + "'";
      reject(self, std::move(msg), std::move(why), unknown_command_code);
    }
  }
  hand_out(self, out);
  if (!transit.empty())
    self->send(st.router, incoming_atom::value, std::move(transit));
}

dispatcher_impl_actor::behavior_type
dispatcher(dispatcher_ptr self, std::shared_ptr<const config> settings,
           peer_table_actor peers, router_actor router,
           std::shared_ptr<receive_credit> credit, sender_actor sender) {
  self->state.sender = std::move(sender);
  self->state.log = log_limiter{log_limits_of(*settings)};
  self->state.settings = std::move(settings);
  self->state.peers = std::move(peers);
  self->state.router = std::move(router);
  self->state.credit = std::move(credit);
  return {
      [self](incoming_atom, std::vector<message>& batch) {
        dispatch(self, batch);
        if (self->state.credit)
          self->state.credit->give();
      },
      [self](add_atom, std::string& command, concern_actor& handle,
             std::shared_ptr<concern_backlog>& backlog) {
        auto& st = self->state;
        auto& to = st.concerns[command];
        to = registered{handle, std::move(backlog)};
        auto i = st.held.find(command);
        if (i == st.held.end())
          return;
        auto h = std::move(i->second);
        st.held.erase(i);
        log(log_level::info, log_category::concerns, "concern '", command,
            "' registered within its grace period: ", h.messages.size(),
            " held messages delivered, ", h.dropped, " dropped");
        auto now = self->clock().now();
        deliveries out;
        for (auto& msg : h.messages)
          deliver(self, to, std::move(msg), now, out);
        hand_out(self, out);
      },
      [self](remove_atom, const std::string& command, bool keep) {
        auto& st = self->state;
        st.concerns.erase(command);
        auto period = st.settings->concern_grace_period;
        if (!keep || period <= duration::zero())
          return;
        st.held[command].until = self->clock().now() + period;
        log(log_level::info, log_category::concerns, "messages for '", command,
            "' are held for ",
            std::chrono::duration_cast<std::chrono::milliseconds>(period)
                .count(),
            " ms, waiting for a concern to register for it");
        arm_timer(self);
      },
      [self](expect_atom, std::string& peer, std::uint64_t id,
             caf::timespan timeout, inbox_actor& who) {
        auto& st = self->state;
        auto until = self->clock().now() + timeout;
        expectation_key key{std::move(peer), id};
        st.expiries.emplace(until, key);
        st.expected[std::move(key)] = expectation{std::move(who), until};
        arm_timer(self);
      },
      [](sent_atom, const std::vector<message>&) {
        // Rejections went.
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // Not tried again: the asker's timeout tells it.
        return false;
      },
      [](dropped_atom, const message& msg, const caf::error& err) {
        log(log_level::debug, log_category::concerns, "rejection ", msg.id,
            " to ", short_uuid(msg.to), " dropped: ", render(err));
      },
      [self](stats_atom) {
        auto result = self->state.stats;
        for (auto& kvp : self->state.concerns)
          result.commands.try_emplace(kvp.first);
        return result;
      },
      [self](flush_log_atom) {
        self->state.flush_armed = false;
        self->state.log.flush(self->clock().now());
        arm_log_flush(self);
      },
      [self](timeout_atom) {
        auto& st = self->state;
        auto now = self->clock().now();
        if (st.timer_at && *st.timer_at <= now)
          st.timer_at.reset();
        expire_expectations(st, now);
        end_grace_periods(st, now);
        arm_timer(self);
      },
  };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  peer_table_actor peers, router_actor router,
                                  std::shared_ptr<receive_credit> credit,
                                  sender_actor sender) {
  return sys.spawn(dispatcher, std::move(settings), std::move(peers),
                   std::move(router), std::move(credit), std::move(sender));
}

} // namespace p2p0mq
