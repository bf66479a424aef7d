#include "p2p0mq/actors/sender.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "batches.hpp"
#include "p2p0mq/actors/heart_beat.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"
#include "traffic.hpp"

namespace p2p0mq {

namespace {

// -- internal messages --------------------------------------------------------

/// Internal: the sender's own. Run one round of the send queues.
using round_atom = caf::atom_constant<caf::atom("round")>;

/// The sender's own interface: the public one plus its self-messages, so
/// that fakes of `sender_actor` elsewhere need not know about them.
/// `(round_atom)` runs a round; `(timeout_atom)` is its one timer, set to the
/// earliest route deadline or retry time while any message waits for one;
/// `(flush_log_atom)` is its log's.
using sender_impl_actor = sender_actor::extend<caf::reacts_to<round_atom>,
                                               caf::reacts_to<timeout_atom>,
                                               caf::reacts_to<flush_log_atom>>;

// -- state --------------------------------------------------------------------

/// Where a message the sender holds is now.
enum class place : std::uint8_t {
  /// In the send queues.
  queued,
  /// Waiting for a route to its destination.
  waiting,
  /// Waiting for its owner's answer to `send_failed`.
  asking,
  /// Waiting for its retry time (the owner asked for another try).
  delayed,
  /// Waiting in line for its next hop, whose pipe was full.
  blocked,
};

/// A message handed to the sender, from hand-over to its final outcome.
struct entry {
  owner_actor owner;
  priority prio = priority::fast;
  /// Whether the sender picks the next hop from the route table (the message
  /// came without one); it does so again each time the message is queued.
  bool routed_here = false;
  place where = place::waiting;
  /// The message, except while queued: the queues hold it then.
  message msg;
};

/// What the sender knows of the way to a peer.
struct route {
  peer_state state = peer_state::initial;
  std::string via;
  /// Whether the peer may be a hop for others (see `peer::relays`).
  bool relays = true;
};

/// The way a message from a peer came to us last, as a relay: the peer can
/// be reached back that way (its reverse path). Taken before a ROUTED
/// peer's via, never before a direct link (see `rule_hop`).
struct reverse_path {
  std::string via;
  /// When a message from the peer last came that way.
  time_point at;
  /// The id of the newest request from the peer that came that way: the
  /// peer numbers its requests, so a higher id took a newer path; 0 when
  /// only replies came (they carry the ids of others).
  std::uint64_t newest = 0;
};

/// The most reverse paths a sender keeps (they expire after the
/// unresponsive threshold; one for each peer whose messages we forward).
constexpr std::size_t max_reverse_paths = 1 << 14;

/// Each message gets a ticket, a number unique within the sender; it rides
/// through the send queues as the message's tag.
using ticket = std::uint64_t;

/// A next hop whose pipe was full (ZeroMQ's high-water mark): its messages
/// wait in line, and only the first is tried again, at `retry_at`.
struct blocked_hop {
  /// The tickets of the messages for the hop, in the order they go.
  std::deque<ticket> line;
  time_point retry_at;
};

struct sender_state {
  static inline const char* name = "p2p0mq.sender";

  /// Null once stopped: the socket is closed.
  std::unique_ptr<transport> wire;
  std::string local_uuid;
  std::shared_ptr<const config> settings;
  /// Unbounded: the sender bounds what it holds (`entries`) itself.
  send_queues queues;
  /// Reused by every round.
  send_queues::round scratch;
  /// Every message held, by ticket, wherever it is.
  std::unordered_map<ticket, entry> entries;
  ticket next_ticket = 1;
  std::unordered_map<std::string, route> routes;
  /// Reverse paths of the peers whose messages we forward, by their uuid.
  std::unordered_map<std::string, reverse_path> reverse;
  /// When expired reverse paths were last swept out.
  time_point reverse_swept;
  /// Why the last connect to a peer failed, by uuid, until one succeeds: a
  /// send to that peer that finds no connection fails with this reason.
  std::unordered_map<std::string, caf::error> connect_errors;
  /// Tickets of waiting messages, by destination, in hand-over order.
  std::unordered_map<std::string, std::set<ticket>> waiting_for;
  /// Deadlines of waiting messages that have one.
  std::set<std::pair<time_point, ticket>> waiting_deadlines;
  /// Delayed messages by retry time (equal times keep hand-over order).
  std::multimap<time_point, ticket> delayed;
  /// Next hops whose pipe was full, by uuid.
  std::unordered_map<std::string, blocked_hop> blocked;
  /// When the pending timer fires, if one is pending.
  std::optional<time_point> timer_at;
  bool round_pending = false;
  /// While a batch is handed over: its messages are queued first, and one
  /// round (or a request for one) follows the whole batch.
  bool taking_batch = false;
  /// Whether a fast message of the batch being handed over was queued.
  bool batch_has_fast = false;
  /// The messages a round sent, by owner: each owner hears of them in one
  /// `sent` at the end of the round. Reused by every round.
  detail::shares<owner_actor> sent_now;
  /// Who hears of each destination that starts to wait for a route: the
  /// ask-around concern.
  std::vector<route_watcher_actor> watchers;
  sender_stats stats;
  /// Connects that failed, by peer: addresses come from other peers.
  log_limiter limiter;
  /// Whether a `flush_log_atom` is on its way.
  bool flush_armed = false;
};

using sender_ptr = sender_impl_actor::stateful_pointer<sender_state>;

// -- outcomes -----------------------------------------------------------------

/// Applies `f` to the counters of `msg`'s peer (its next hop, else its
/// destination) and of its command.
template <class F>
void count(sender_state& st, const message& msg, F f) {
  f(detail::tally(st.stats.peers,
                  msg.next_hop.empty() ? msg.to : msg.next_hop));
  f(detail::tally(st.stats.commands, msg.command));
}

void count_dropped(sender_state& st, const message& msg) {
  ++st.stats.dropped;
  count(st, msg, [](outgoing_traffic& x) { ++x.dropped; });
}

/// Erases the entry of `i` and hands its message to its owner as dropped.
void drop(sender_ptr self, std::unordered_map<ticket, entry>::iterator i,
          message msg, caf::error reason) {
  auto& st = self->state;
  auto owner = std::move(i->second.owner);
  st.entries.erase(i);
  count_dropped(st, msg);
  log(log_level::debug, log_category::sender, "dropped message ", msg.id, " '",
      msg.command, "' to ", short_uuid(msg.to), ": ", render(reason));
  self->send(owner, dropped_atom::value, std::move(msg), std::move(reason));
}

/// Drops a message held outside the queues.
void drop(sender_ptr self, std::unordered_map<ticket, entry>::iterator i,
          caf::error reason) {
  auto msg = std::move(i->second.msg);
  drop(self, i, std::move(msg), std::move(reason));
}

// -- timer and rounds ---------------------------------------------------------

/// Makes sure a round follows soon (one at a time).
void request_round(sender_ptr self) {
  auto& st = self->state;
  if (st.round_pending)
    return;
  st.round_pending = true;
  self->send(self, round_atom::value);
}

/// Sets the timer to the earliest route deadline or retry time, unless it
/// fires by then already; sets none when nothing waits for a time.
void arm_timer(sender_ptr self) {
  auto& st = self->state;
  auto next = time_point::max();
  if (!st.waiting_deadlines.empty())
    next = st.waiting_deadlines.begin()->first;
  if (!st.delayed.empty())
    next = std::min(next, st.delayed.begin()->first);
  for (auto& kvp : st.blocked)
    next = std::min(next, kvp.second.retry_at);
  if (next == time_point::max())
    return;
  if (st.timer_at && *st.timer_at <= next)
    return;
  st.timer_at = next;
  self->scheduled_send(self, next, timeout_atom::value);
}

// -- placing messages ---------------------------------------------------------

/// Whether a reverse path seen at `at` still counts at `now`: a peer silent
/// on it for the unresponsive threshold may have gone another way.
bool fresh(const sender_state& st, time_point at, time_point now) {
  return now - at <= st.settings->unresponsive_threshold;
}

/// The reverse path to `dest` when it is fresh, else null.
const std::string* reverse_hop(const sender_state& st, const std::string& dest,
                               time_point now) {
  auto i = st.reverse.find(dest);
  if (i == st.reverse.end() || !fresh(st, i->second.at, now))
    return nullptr;
  // A hop that passed a message on relays; but one known not to (a legacy
  // peer) is never taken as one.
  auto j = st.routes.find(i->second.via);
  if (j != st.routes.end() && !j->second.relays)
    return nullptr;
  return &i->second.via;
}

/// The next hop the routing rules (see `sender_actor`) pick for `msg`, or
/// null when it has to wait for a route.
const std::string* rule_hop(const sender_state& st, const message& msg,
                            time_point now) {
  // The way back, skipped where it leads where the message came from; looked
  // up only for a destination without a direct link.
  auto way_back = [&]() -> const std::string* {
    auto hop = reverse_hop(st, msg.to, now);
    return hop != nullptr && *hop != msg.previous_hop ? hop : nullptr;
  };
  auto i = st.routes.find(msg.to);
  if (i != st.routes.end()) {
    auto& r = i->second;
    switch (r.state) {
    case peer_state::connected:
      return &msg.to;
    case peer_state::routed:
      if (auto back = way_back())
        return back;
      return r.via.empty() ? nullptr : &r.via;
    case peer_state::unreachable:
      if (msg.command != heart_beat_command)
        return nullptr;
      return r.via.empty() ? &msg.to : &r.via;
    case peer_state::initial:
    case peer_state::connecting:
    case peer_state::no_connection:
      break;
    }
  }
  if (auto back = way_back())
    return back;
  auto& fallback = st.settings->default_route;
  if (fallback.empty())
    return nullptr;
  auto j = st.routes.find(fallback);
  if (j == st.routes.end() || j->second.state != peer_state::connected ||
      !j->second.relays)
    return nullptr;
  return &fallback;
}

/// Picks the next hop of `msg` by the routing rules. Returns false when the
/// message has to wait for a better route; a message never goes back to the
/// peer it came from.
bool pick_next_hop(const sender_state& st, message& msg, time_point now) {
  auto hop = rule_hop(st, msg, now);
  if (hop == nullptr || *hop == msg.previous_hop)
    return false;
  msg.next_hop = *hop;
  return true;
}

/// Forgets the reverse paths not fresh at `now`, at most once per threshold
/// (while the table is full of fresh ones, new sources are not learnt).
void sweep_reverse_paths(sender_state& st, time_point now) {
  if (now - st.reverse_swept < st.settings->unresponsive_threshold)
    return;
  st.reverse_swept = now;
  for (auto i = st.reverse.begin(); i != st.reverse.end();)
    i = fresh(st, i->second.at, now) ? std::next(i) : st.reverse.erase(i);
}

/// Notes the way `msg`, which we forward, came: its source can be reached
/// back through its previous hop. A newer request of the source, or any
/// message once the path it replaces is no longer fresh, moves the path;
/// an older request, or a reply, on another way only counts when nothing
/// fresh is known. Returns whether the path to the source changed.
bool learn_reverse_path(sender_state& st, const message& msg, time_point now) {
  if (msg.previous_hop.empty() || msg.source.empty() ||
      msg.source == msg.previous_hop || msg.source == st.local_uuid)
    return false;
  sweep_reverse_paths(st, now);
  auto newest = msg.is_request() ? msg.id : 0;
  auto i = st.reverse.find(msg.source);
  if (i == st.reverse.end()) {
    if (st.reverse.size() >= max_reverse_paths)
      return false;
    st.reverse.emplace(msg.source, reverse_path{msg.previous_hop, now, newest});
    return true;
  }
  auto& r = i->second;
  if (r.via == msg.previous_hop) {
    r.at = now;
    r.newest = std::max(r.newest, newest);
    return false;
  }
  if (fresh(st, r.at, now) && newest <= r.newest)
    return false;
  r = reverse_path{msg.previous_hop, now, newest};
  return true;
}

void run_round(sender_ptr self);

/// Runs a round at once when `urgent` (fast messages were just queued) and
/// nothing else waits: no round is pending and the mailbox is empty. A round
/// now sends them first, as a round later would. Otherwise asks for a round,
/// which comes after what waits in the mailbox: under load rounds so take
/// many messages at a time, and each owner hears of them in one `sent`.
void round_soon(sender_ptr self, bool urgent) {
  if (urgent && !self->state.round_pending && self->mailbox().empty())
    run_round(self);
  else
    request_round(self);
}

void enqueue(sender_ptr self, ticket t, entry& e) {
  auto& st = self->state;
  e.where = place::queued;
  // Never full: the queues are unbounded and the hand-over is bounded.
  st.queues.push(std::move(e.msg), e.prio, t);
  e.msg = message{};
  if (st.taking_batch) {
    st.batch_has_fast = st.batch_has_fast || e.prio == priority::fast;
    return;
  }
  // A lone fast message may go at once. (A lone medium or slow one waits for
  // the round, which fast messages behind it in the mailbox may still join
  // ahead of it.)
  round_soon(self, e.prio == priority::fast && st.queues.size() == 1);
}

/// Runs `f`, which may queue messages, then one round for all it queued (at
/// once when one is fast and nothing else waits, as for a lone fast
/// message).
template <class F>
void queue_together(sender_ptr self, F f) {
  auto& st = self->state;
  st.taking_batch = true;
  st.batch_has_fast = false;
  f();
  st.taking_batch = false;
  if (st.queues.empty())
    return;
  round_soon(self, st.batch_has_fast);
}

/// Whether the ask-around should look for `dest`, for which messages wait:
/// it has no route (an UNREACHABLE peer has one; the heart-beat rules decide
/// its fate), and it is not the local peer.
bool wanted(const sender_state& st, const std::string& dest) {
  if (dest == st.local_uuid)
    return false;
  auto r = st.routes.find(dest);
  return r == st.routes.end() || r->second.state != peer_state::unreachable;
}

/// What the ask-around concern needs to know of the messages waiting for
/// `dest`: the source and previous hop of the oldest one are not to be asked.
wanted_route describe_wanted(const sender_state& st, const std::string& dest,
                             const message& oldest) {
  wanted_route x;
  x.target = dest;
  for (auto* uuid : {&oldest.source, &oldest.previous_hop})
    if (!uuid->empty() && *uuid != st.local_uuid &&
        std::find(x.exclude.begin(), x.exclude.end(), *uuid) == x.exclude.end())
      x.exclude.push_back(*uuid);
  return x;
}

void wait_for_route(sender_ptr self, ticket t, entry& e) {
  auto& st = self->state;
  e.where = place::waiting;
  auto& tickets = st.waiting_for[e.msg.to];
  if (tickets.empty() && !st.watchers.empty() && wanted(st, e.msg.to)) {
    // A new destination to look for.
    std::vector<wanted_route> xs{describe_wanted(st, e.msg.to, e.msg)};
    for (auto& w : st.watchers)
      self->send(w, wanted_atom::value, xs);
  }
  tickets.insert(t);
  if (e.msg.deadline != time_point::max()) {
    st.waiting_deadlines.emplace(e.msg.deadline, t);
    arm_timer(self);
  }
}

/// Queues the held message of `i`, or has it wait for a route, or drops it
/// when its deadline has passed.
void admit(sender_ptr self, std::unordered_map<ticket, entry>::iterator i,
           time_point now) {
  auto& e = i->second;
  if (e.msg.expired(now)) {
    drop(self, i,
         make_error(errc::message_expired, "before it could be queued"));
    return;
  }
  if (e.routed_here) {
    e.msg.next_hop.clear();
    if (!pick_next_hop(self->state, e.msg, now)) {
      wait_for_route(self, i->first, e);
      return;
    }
  }
  enqueue(self, i->first, e);
}

/// Holds the message of `i` for `wait`.
void delay(sender_ptr self, std::unordered_map<ticket, entry>::iterator i,
           message msg, time_point now, duration wait) {
  auto& st = self->state;
  i->second.where = place::delayed;
  i->second.msg = std::move(msg);
  st.delayed.emplace(now + wait, i->first);
  arm_timer(self);
}

// -- handlers -----------------------------------------------------------------

void release_waiting(
    sender_ptr self,
    std::unordered_map<std::string, std::set<ticket>>::iterator w);

void hand_over(sender_ptr self, message& msg, priority prio,
               owner_actor& owner) {
  auto& st = self->state;
  auto limit = st.settings->send_queue_limit;
  if (limit != 0 && st.entries.size() >= limit) {
    count_dropped(st, msg);
    log(log_level::debug, log_category::sender, "dropped message ", msg.id,
        " '", msg.command, "': the sender holds ", limit, " messages");
    self->send(
        owner, dropped_atom::value, std::move(msg),
        make_error(errc::send_queue_full,
                   "the sender holds " + std::to_string(limit) + " messages"));
    return;
  }
  auto now = self->clock().now();
  auto routed_here = msg.next_hop.empty();
  if (routed_here && learn_reverse_path(st, msg, now)) {
    // Messages for its source that wait may go back the way it came.
    auto w = st.waiting_for.find(msg.source);
    if (w != st.waiting_for.end()) {
      log(log_level::debug, log_category::sender, "a way back to ",
          short_uuid(msg.source), " through ", short_uuid(msg.previous_hop));
      release_waiting(self, w);
    }
  }
  auto t = st.next_ticket++;
  entry e;
  e.owner = std::move(owner);
  e.prio = prio;
  e.routed_here = routed_here;
  e.msg = std::move(msg);
  admit(self, st.entries.emplace(t, std::move(e)).first, now);
}

/// Hands over the messages of a batch, then runs one round for all of them
/// (a fast one among them goes at once, as a lone one would).
void hand_over(sender_ptr self, std::vector<message>& msgs, priority prio,
               owner_actor& owner) {
  queue_together(self, [&] {
    for (auto& msg : msgs) {
      auto who = owner;
      hand_over(self, msg, prio, who);
    }
  });
}

/// The owner of a message whose send failed has answered (or failed to).
void on_answer(sender_ptr self, ticket t, bool again, caf::error reason) {
  auto& st = self->state;
  auto i = st.entries.find(t);
  if (i == st.entries.end() || i->second.where != place::asking)
    return;
  auto now = self->clock().now();
  if (!again) {
    drop(self, i, std::move(reason));
  } else if (i->second.msg.expired(now)) {
    drop(self, i, make_error(errc::message_expired, "before its retry"));
  } else {
    auto msg = std::move(i->second.msg);
    delay(self, i, std::move(msg), now, st.settings->send_retry_delay);
  }
}

/// Reports a failed send to the owner, who decides whether it goes again.
void report_failure(sender_ptr self,
                    std::unordered_map<ticket, entry>::iterator i, message msg,
                    caf::error reason) {
  auto& st = self->state;
  ++st.stats.send_failed;
  count(st, msg, [](outgoing_traffic& x) { ++x.send_failed; });
  log(log_level::debug, log_category::sender, "sending message ", msg.id, " '",
      msg.command, "' to ", short_uuid(msg.next_hop),
      " failed: ", render(reason));
  auto t = i->first;
  auto& e = i->second;
  e.where = place::asking;
  e.msg = msg;
  self->request(e.owner, caf::infinite, send_failed_atom::value, std::move(msg),
                reason)
      .then(
          [self, t, reason](bool again) { on_answer(self, t, again, reason); },
          [self, t, reason](caf::error& err) {
            log(log_level::debug, log_category::sender,
                "the owner of a failed message did not answer: ", render(err));
            on_answer(self, t, false, reason);
          });
}

/// Tells each owner of the messages sent since the last call, in one `sent`.
void tell_sent(sender_ptr self) {
  auto& st = self->state;
  for (auto& [owner, msgs] : st.sent_now)
    self->send(owner, sent_atom::value, std::move(msgs));
  st.sent_now.clear();
}

/// Hands `msg`, the message of `i`, to the wire. Sent or failed, it is
/// settled (its outcome is told, or its owner asked about a retry) and the
/// function returns true; when its next hop's pipe is full, `msg` is left
/// as it was and the function returns false.
bool try_send(sender_ptr self, std::unordered_map<ticket, entry>::iterator i,
              message& msg) {
  auto& st = self->state;
  caf::error err;
  switch (st.wire->send_message(msg, st.local_uuid, err)) {
  case send_status::sent:
    ++st.stats.sent;
    count(
        st, msg,
        [bytes = detail::sent_bytes(msg, st.local_uuid)](outgoing_traffic& x) {
          ++x.messages;
          x.bytes += bytes;
        });
    detail::share_of(st.sent_now, i->second.owner).emplace_back(std::move(msg));
    st.entries.erase(i);
    return true;
  case send_status::would_block:
    return false;
  case send_status::unreachable:
    if (auto c = st.connect_errors.find(msg.next_hop);
        c != st.connect_errors.end())
      err = c->second;
    report_failure(self, i, std::move(msg), std::move(err));
    return true;
  case send_status::failed:
    report_failure(self, i, std::move(msg), std::move(err));
    return true;
  }
  return true;
}

/// Puts the message of `i` at the end of the line of its blocked next hop.
void park(blocked_hop& b, std::unordered_map<ticket, entry>::iterator i,
          message msg) {
  i->second.where = place::blocked;
  i->second.msg = std::move(msg);
  b.line.push_back(i->first);
}

void run_round(sender_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto& out = st.scratch;
  st.queues.next_round(now, out);
  for (auto& [msg, t] : out.to_send) {
    auto i = st.entries.find(t);
    // Behind the messages that wait for the same full pipe: no ZeroMQ call
    // until the first of them goes.
    if (auto b = st.blocked.find(msg.next_hop); b != st.blocked.end()) {
      park(b->second, i, std::move(msg));
      continue;
    }
    if (!try_send(self, i, msg)) {
      // Not now: the next hop's pipe is full. Its messages wait in line, and
      // only the first is tried again after a short delay (trying at once
      // would only spin).
      auto& b = st.blocked[msg.next_hop];
      b.retry_at = now + st.settings->send_blocked_delay;
      park(b, i, std::move(msg));
      arm_timer(self);
    }
  }
  tell_sent(self);
  for (auto& [msg, t] : out.expired) {
    auto i = st.entries.find(t);
    drop(self, i, std::move(msg),
         make_error(errc::message_expired, "while queued"));
  }
  out.clear();
  if (!st.queues.empty())
    request_round(self);
}

/// Tries the line of the blocked next hop `hop` again, first message first,
/// until its pipe is full again or the line is empty. A message that
/// expired meanwhile is dropped; one whose next hop the routing rules now
/// pick differently leaves the line.
void retry_blocked(sender_ptr self, const std::string& hop, time_point now) {
  auto& st = self->state;
  auto& b = st.blocked[hop];
  while (!b.line.empty()) {
    auto i = st.entries.find(b.line.front());
    auto& e = i->second;
    if (e.msg.expired(now)) {
      b.line.pop_front();
      drop(self, i,
           make_error(errc::message_expired, "while its next hop was full"));
      continue;
    }
    if (e.routed_here) {
      e.msg.next_hop.clear();
      if (!pick_next_hop(st, e.msg, now)) {
        b.line.pop_front();
        wait_for_route(self, i->first, e);
        continue;
      }
      if (e.msg.next_hop != hop) {
        b.line.pop_front();
        enqueue(self, i->first, e);
        continue;
      }
    }
    auto msg = std::move(e.msg);
    if (!try_send(self, i, msg)) {
      e.msg = std::move(msg);
      b.retry_at = now + st.settings->send_blocked_delay;
      return;
    }
    b.line.pop_front();
  }
  st.blocked.erase(hop);
}

void on_timeout(sender_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.timer_at && *st.timer_at <= now)
    st.timer_at.reset();
  queue_together(self, [&] {
    while (!st.waiting_deadlines.empty() &&
           st.waiting_deadlines.begin()->first <= now) {
      auto t = st.waiting_deadlines.begin()->second;
      st.waiting_deadlines.erase(st.waiting_deadlines.begin());
      auto i = st.entries.find(t);
      auto w = st.waiting_for.find(i->second.msg.to);
      w->second.erase(t);
      if (w->second.empty())
        st.waiting_for.erase(w);
      drop(self, i,
           make_error(errc::message_expired, "while waiting for a route"));
    }
    while (!st.delayed.empty() && st.delayed.begin()->first <= now) {
      auto t = st.delayed.begin()->second;
      st.delayed.erase(st.delayed.begin());
      admit(self, st.entries.find(t), now);
    }
    std::vector<std::string> due;
    for (auto& [hop, b] : st.blocked)
      if (b.retry_at <= now)
        due.push_back(hop);
    for (auto& hop : due)
      retry_blocked(self, hop, now);
    tell_sent(self);
  });
  arm_timer(self);
}

/// Queues the messages waiting for `w->first` that have a route now.
void release_waiting(
    sender_ptr self,
    std::unordered_map<std::string, std::set<ticket>>::iterator w) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto& tickets = w->second;
  for (auto k = tickets.begin(); k != tickets.end();) {
    auto i = st.entries.find(*k);
    auto& e = i->second;
    if (!pick_next_hop(st, e.msg, now)) {
      ++k;
      continue;
    }
    if (e.msg.deadline != time_point::max())
      st.waiting_deadlines.erase({e.msg.deadline, *k});
    k = tickets.erase(k);
    enqueue(self, i->first, e);
  }
  if (tickets.empty())
    st.waiting_for.erase(w);
}

void on_route(sender_ptr self, const std::string& uuid, peer_state state,
              std::string& via, bool relays) {
  auto& st = self->state;
  auto& r = st.routes[uuid];
  r.state = state;
  r.via = std::move(via);
  r.relays = relays;
  if (uuid == st.settings->default_route) {
    // Every waiting message may go through the default route now.
    for (auto w = st.waiting_for.begin(); w != st.waiting_for.end();)
      release_waiting(self, w++);
    return;
  }
  auto w = st.waiting_for.find(uuid);
  if (w != st.waiting_for.end())
    release_waiting(self, w);
}

/// The destinations messages wait for that have no route, for the
/// ask-around concern.
std::vector<wanted_route> wanted_routes(const sender_state& st) {
  std::vector<wanted_route> result;
  for (auto& [dest, tickets] : st.waiting_for)
    if (wanted(st, dest))
      result.push_back(
          describe_wanted(st, dest, st.entries.at(*tickets.begin()).msg));
  return result;
}

/// Stop sequence: everything held is dropped and its owner told, then the
/// transport closes the socket. Returns how many messages were dropped.
std::uint64_t stop(sender_ptr self) {
  auto& st = self->state;
  auto stopped = [] {
    return make_error(errc::local_peer_stopped, "the sender stopped");
  };
  std::uint64_t count = st.entries.size();
  std::vector<queued_message> rest;
  st.queues.take_expired(time_point::max(), rest);
  for (auto& [msg, t] : rest)
    drop(self, st.entries.find(t), std::move(msg), stopped());
  while (!st.entries.empty())
    drop(self, st.entries.begin(), stopped());
  st.waiting_for.clear();
  st.waiting_deadlines.clear();
  st.delayed.clear();
  st.blocked.clear();
  st.wire.reset();
  log(log_level::info, log_category::sender, "sender of ",
      short_uuid(st.local_uuid), " stopped; dropped the ", count,
      " messages it held");
  return count;
}

/// After `stop`: every message is dropped at once, and its owner told.
sender_impl_actor::behavior_type stopped(sender_ptr self) {
  return {
      [](connect_atom, const std::string&, const std::string&) {},
      [self](outgoing_atom, message& msg, priority, owner_actor& owner) {
        count_dropped(self->state, msg);
        self->send(owner, dropped_atom::value, std::move(msg),
                   make_error(errc::local_peer_stopped, "the sender stopped"));
      },
      [self](outgoing_atom, std::vector<message>& msgs, priority,
             owner_actor& owner) {
        for (auto& msg : msgs) {
          count_dropped(self->state, msg);
          self->send(
              owner, dropped_atom::value, std::move(msg),
              make_error(errc::local_peer_stopped, "the sender stopped"));
        }
      },
      [](route_atom, const std::string&, peer_state, const std::string&, bool) {
      },
      [](lost_atom, const std::string&) {},
      [](remove_atom, const std::string&) {},
      [](find_atom) { return std::vector<wanted_route>{}; },
      [](subscribe_atom, const route_watcher_actor&) {},
      [self](stats_atom) { return self->state.stats; },
      [](stop_atom) { return std::uint64_t{0}; },
      [](round_atom) {},
      [](timeout_atom) {},
      [self](flush_log_atom) {
        self->state.flush_armed = false;
        self->state.limiter.flush(self->clock().now());
      },
  };
}

/// Makes sure the log's summaries are written when due.
void arm_log_flush(sender_ptr self) {
  auto& st = self->state;
  auto due = st.limiter.next_due();
  if (st.flush_armed || due == time_point::max())
    return;
  st.flush_armed = true;
  self->delayed_send(self, std::max(due - self->clock().now(), duration{}),
                     flush_log_atom::value);
}

sender_impl_actor::behavior_type
sender_fun(sender_ptr self, std::string local_uuid,
           std::shared_ptr<const config> settings,
           std::unique_ptr<transport> wire) {
  auto& st = self->state;
  st.wire = std::move(wire);
  st.local_uuid = std::move(local_uuid);
  st.settings = std::move(settings);
  st.limiter = log_limiter{log_limits_of(*st.settings)};
  log(log_level::info, log_category::sender, "sender of ",
      short_uuid(st.local_uuid), " started");
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.watchers;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const route_watcher_actor& x) {
                              return x.address() == msg.source;
                            }),
             xs.end());
  });
  return {
      [self](connect_atom, const std::string& uuid,
             const std::string& endpoint) {
        auto& state = self->state;
        if (auto err = state.wire->connect(uuid, endpoint)) {
          // Unreachable for now (an endpoint closed a moment ago) is no news.
          // Other failures come from addresses other peers announced: one
          // line in full per peer and interval, then a summary.
          if (err == errc::peer_unreachable) {
            log(log_level::debug, log_category::sender, "cannot connect to ",
                quote_bytes(uuid), " at ", quote_bytes(endpoint), ": ",
                render(err));
          } else {
            state.limiter.report(
                self->clock().now(), uuid, log_kinds::failed_connect,
                log_reason(err), [&] {
                  return "cannot connect to " + quote_bytes(uuid) + " at " +
                         quote_bytes(endpoint) + ": " + render(err);
                });
            arm_log_flush(self);
          }
          state.connect_errors[uuid] = std::move(err);
        } else {
          state.connect_errors.erase(uuid);
        }
      },
      [self](outgoing_atom, message& msg, priority prio, owner_actor& owner) {
        hand_over(self, msg, prio, owner);
      },
      [self](outgoing_atom, std::vector<message>& msgs, priority prio,
             owner_actor& owner) { hand_over(self, msgs, prio, owner); },
      [self](route_atom, const std::string& uuid, peer_state state,
             std::string& via,
             bool relays) { on_route(self, uuid, state, via, relays); },
      [self](lost_atom, const std::string& endpoint) {
        log(log_level::debug, log_category::sender, "the connection to ",
            endpoint, " ended after a failed handshake");
        self->state.wire->lost(endpoint);
      },
      [self](remove_atom, const std::string& uuid) {
        auto& state = self->state;
        state.routes.erase(uuid);
        state.connect_errors.erase(uuid);
        state.wire->forget(uuid);
        log(log_level::debug, log_category::sender, "forgot ",
            short_uuid(uuid));
      },
      [self](find_atom) { return wanted_routes(self->state); },
      [self](subscribe_atom, route_watcher_actor& who) {
        self->monitor(who);
        self->state.watchers.push_back(std::move(who));
      },
      [self](stats_atom) {
        auto& state = self->state;
        auto result = state.stats;
        result.queued = state.queues.size();
        result.held = state.entries.size() - state.queues.size();
        return result;
      },
      [self](stop_atom) {
        auto count = stop(self);
        self->become(stopped(self));
        return count;
      },
      [self](round_atom) {
        self->state.round_pending = false;
        run_round(self);
      },
      [self](timeout_atom) { on_timeout(self); },
      [self](flush_log_atom) {
        self->state.flush_armed = false;
        self->state.limiter.flush(self->clock().now());
        arm_log_flush(self);
      },
  };
}

} // namespace

sender_actor spawn_sender(caf::actor_system& sys, std::string local_uuid,
                          std::shared_ptr<const config> settings,
                          std::unique_ptr<transport> wire) {
  return sys.spawn(sender_fun, std::move(local_uuid), std::move(settings),
                   std::move(wire));
}

} // namespace p2p0mq
