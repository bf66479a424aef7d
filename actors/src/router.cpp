#include "p2p0mq/actors/router.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/fifo.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// How long the router remembers a message it forwarded, to recognise it
/// when it comes back round a loop. A loop of stale routes brings a message
/// back within milliseconds; a peer that restarts and numbers its messages
/// from 1 again must not be mistaken for one.
constexpr auto loop_window = std::chrono::seconds{1};

/// The most messages the router remembers; beyond, it forgets the oldest
/// first (only at rates where a loop shows within far less than a second).
constexpr std::size_t max_remembered = 1 << 16;

/// The router's own interface: the public one and its log's timer.
using router_impl_actor = router_actor::extend<caf::reacts_to<flush_log_atom>>;

struct router_state {
  static inline const char* name = "p2p0mq.router";
  std::string local_uuid;
  std::shared_ptr<const config> settings;
  sender_actor sender;
  peer_table_actor peers;
  router_stats stats;
  /// Fingerprints of the messages forwarded within the loop window, and
  /// when, oldest first.
  fifo<std::pair<time_point, std::uint64_t>> recent;
  std::unordered_set<std::uint64_t> remembered;
  /// The drops, by previous hop.
  log_limiter limiter;
  /// Whether a `flush_log_atom` is on its way.
  bool flush_armed = false;
};

using router_ptr = router_impl_actor::stateful_pointer<router_state>;

/// A bijection of 64-bit values that spreads every input bit over the
/// output (the finaliser of SplitMix64).
std::uint64_t scramble(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/// A hash of what identifies one message end to end (not its hops). Each
/// step is a bijection, so two messages that differ in one field only (e.g.
/// their ids) never share a fingerprint.
std::uint64_t fingerprint(const message& msg) {
  std::uint64_t result = 0;
  auto mix = [&result](std::uint64_t x) { result = scramble(result ^ x); };
  std::hash<std::string_view> h;
  mix(h(msg.source));
  mix(h(msg.to));
  mix(static_cast<std::uint64_t>(msg.kind));
  mix(msg.id);
  mix(h(msg.command));
  mix(h(msg.payload.bytes()));
  return result;
}

/// Makes sure the log's summaries are written when due.
void arm_flush(router_ptr self) {
  auto& st = self->state;
  auto due = st.limiter.next_due();
  if (st.flush_armed || due == time_point::max())
    return;
  st.flush_armed = true;
  self->delayed_send(self, std::max(due - self->clock().now(), duration{}),
                     flush_log_atom::value);
}

/// Counts and logs a message dropped for `reason`: the log keyed by the
/// peer that handed it to us, `why` its counter.
void drop(router_ptr self, const message& msg, const caf::error& reason,
          std::string_view why) {
  auto& st = self->state;
  ++st.stats.dropped;
  log_dropped(st.limiter, self->clock().now(), log_kinds::dropped_in_transit,
              msg, reason, why);
  arm_flush(self);
}

void drop(router_ptr self, const message& msg, const caf::error& reason) {
  drop(self, msg, reason, log_reason(reason));
}

void drop_looped(router_ptr self, const message& msg, const char* why) {
  auto& st = self->state;
  ++st.stats.looped;
  // The way to its destination goes round: let the peer table forget it.
  if (st.peers)
    self->send(st.peers, lost_atom::value, msg.to);
  drop(self, msg, make_error(errc::peer_unreachable, why), "loop");
}

/// Whether `msg` was forwarded within the loop window; remembers it if not.
bool seen_before(router_state& st, const message& msg, time_point now) {
  while (!st.recent.empty() && (now - st.recent.front().first >= loop_window ||
                                st.recent.size() >= max_remembered)) {
    st.remembered.erase(st.recent.front().second);
    st.recent.pop_front();
  }
  auto key = fingerprint(msg);
  if (!st.remembered.insert(key).second)
    return true;
  st.recent.emplace_back(now, key);
  return false;
}

/// Readies `msg` to be forwarded; returns false when it is dropped instead.
bool admit(router_ptr self, message& msg, time_point now) {
  auto& st = self->state;
  ++st.stats.received;
  if (msg.to == st.local_uuid) {
    drop(self, msg,
         make_error(errc::peer_unreachable, "it is for the local peer"),
         "for the local peer");
    return false;
  }
  if (msg.source == st.local_uuid) {
    drop_looped(self, msg, "our own message came back");
    return false;
  }
  if (seen_before(st, msg, now)) {
    drop_looped(self, msg, "it came back round a loop");
    return false;
  }
  log(log_level::trace, log_category::router, "forwarding ",
      to_string(msg.kind), " ", msg.id, " '", msg.command, "' from ",
      short_uuid(msg.source), " to ", short_uuid(msg.to));
  msg.next_hop.clear();
  msg.deadline = now + st.settings->message_ttl;
  return true;
}

router_impl_actor::behavior_type router(router_ptr self, std::string local_uuid,
                                        std::shared_ptr<const config> settings,
                                        sender_actor sender,
                                        peer_table_actor peers) {
  auto& st = self->state;
  st.peers = std::move(peers);
  st.local_uuid = std::move(local_uuid);
  st.limiter = log_limiter{log_limits_of(*settings)};
  st.settings = std::move(settings);
  st.sender = std::move(sender);
  return {
      [self](incoming_atom, std::vector<message>& batch) {
        // What goes on goes to the sender in one batch, in the same order.
        auto now = self->clock().now();
        auto kept = batch.begin();
        for (auto& msg : batch)
          if (admit(self, msg, now)) {
            if (&*kept != &msg)
              *kept = std::move(msg);
            ++kept;
          }
        batch.erase(kept, batch.end());
        if (!batch.empty())
          self->send(self->state.sender, outgoing_atom::value, std::move(batch),
                     priority::fast, owner_actor{self});
      },
      [self](incoming_atom, message& msg) {
        if (admit(self, msg, self->clock().now()))
          self->send(self->state.sender, outgoing_atom::value, std::move(msg),
                     priority::fast, owner_actor{self});
      },
      [self](sent_atom, const std::vector<message>& msgs) {
        self->state.stats.sent += msgs.size();
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // The sender picks the next hop afresh and gives up at the deadline.
        return true;
      },
      [self](dropped_atom, const message& msg, const caf::error& err) {
        drop(self, msg, err);
      },
      [self](stats_atom) { return self->state.stats; },
      [self](flush_log_atom) {
        self->state.flush_armed = false;
        self->state.limiter.flush(self->clock().now());
        arm_flush(self);
      },
  };
}

} // namespace

router_actor spawn_router(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          sender_actor sender, peer_table_actor peers) {
  return caf::actor_cast<router_actor>(
      sys.spawn(router, std::move(local_uuid), std::move(settings),
                std::move(sender), std::move(peers)));
}

} // namespace p2p0mq
