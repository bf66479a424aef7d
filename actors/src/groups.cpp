#include "p2p0mq/actors/groups.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

const char* to_string(group_event_kind x) noexcept {
  switch (x) {
  case group_event_kind::join:
    return "join";
  case group_event_kind::leave:
    return "leave";
  case group_event_kind::evasive:
    return "evasive";
  case group_event_kind::exit:
    return "exit";
  }
  return "?";
}

namespace {

/// Group messages from the network that a peer cannot use.
inline constexpr log_kind bad_group_message{
    "bad group message", log_category::app,    log_level::warning,
    "dropped",           "bad group messages", "from"};

/// How long acknowledgements wait to leave together, and how many ids one
/// carries at most.
constexpr auto ack_delay = std::chrono::milliseconds{5};
constexpr std::size_t ack_batch_size = 64;

/// The most (publisher, group) flows a member keeps for ordering.
constexpr std::size_t max_flows = 16384;

/// How long records wait to be flooded, so that those arriving together
/// leave together.
constexpr auto batch_delay = std::chrono::milliseconds{10};

/// One peer's membership as this peer knows it.
struct record_entry {
  std::uint64_t version = 0;
  /// Sorted.
  std::vector<std::string> groups;
  /// The neighbour its latest version came from first, or through which it
  /// came the fewest hops: the next hop towards the origin. Empty for our
  /// own record.
  std::string parent;
  /// Hops from the origin to us.
  std::uint32_t hops = 0;
  time_point expires = time_point::max();
  /// Whether its members were reported evasive for this version.
  bool evasive = false;
};

/// What one member delivered of one publisher's publications to one group.
struct inbound_flow {
  std::uint64_t incarnation = 0;
  /// The last number delivered (or passed over).
  std::uint64_t last = 0;
  struct held_publication {
    std::uint64_t previous = 0;
    std::string body;
    time_point since;
  };
  /// Publications that came before the one their publisher sent us earlier,
  /// by number.
  std::map<std::uint64_t, held_publication> held;
};

/// A `g` request of ours that waits for its acknowledgement.
struct pending_hop {
  message msg;
  /// For a publication: what it carries, to be routed again when its hop is
  /// no neighbour any more.
  std::optional<group_publication> pub;
  std::uint32_t tries = 0;
  duration wait{};
  /// When it was last handed to the sender.
  time_point sent;
  /// Its entry in `group_state::due`, while it has one (only the oldest
  /// copy to a hop waits on a timer).
  std::optional<std::multimap<time_point, std::uint64_t>::iterator> slot;
};

/// What a peer knows of the acknowledgements of one next hop.
struct hop_timing {
  /// When its last acknowledgement came.
  time_point last_ack{};
  /// Its unacknowledged copies, by id (the order they were sent in).
  std::set<std::uint64_t> outstanding;
  /// Smoothed round trip and its variation, from copies sent once.
  duration srtt{};
  duration rttvar{};
  bool sampled = false;
};

struct group_state {
  static inline const char* name = "p2p0mq.groups";

  concern_context ctx;
  group_settings cfg;
  std::uint64_t incarnation = 0;

  // -- membership ---------------------------------------------------------
  std::set<std::string> mine;
  std::uint64_t my_version = 0;
  time_point next_refresh = time_point::max();
  std::map<std::string, record_entry> records;
  std::map<std::string, std::set<std::string>> members;
  std::set<std::string> neighbours;
  /// Peers that said in their `hello` they speak none of our capabilities:
  /// never a target, never a member.
  std::set<std::string> legacy;
  /// Records to flood, by neighbour, by origin; and when they leave.
  std::map<std::string, std::map<std::string, membership_record>> outbox;
  std::optional<time_point> flush_at;
  time_point next_expiry_check = time_point::max();

  // -- publishing and forwarding ------------------------------------------
  std::map<std::string, std::uint64_t> last_seq;
  std::map<std::string, std::map<std::string, std::uint64_t>> last_sent;
  std::unordered_map<std::string, std::set<std::string>> seen;
  std::deque<std::string> seen_order;
  std::map<std::uint64_t, pending_hop> pending;
  /// When each pending copy is due to go again.
  std::multimap<time_point, std::uint64_t> due;
  std::map<std::string, hop_timing> timing;
  /// Acknowledgements waiting to leave, by the peer they go to: its last
  /// request (without payload) and the ids it sent.
  struct ack_batch {
    message last;
    std::vector<std::uint64_t> ids;
    bool publications = false;
  };
  std::map<std::string, ack_batch> acks;
  std::optional<time_point> acks_at;

  // -- delivering ---------------------------------------------------------
  std::map<std::pair<std::string, std::string>, inbound_flow> flows;
  std::vector<group_listener_actor> listeners;

  concern_counters counters;
  log_limiter log;
  std::optional<time_point> armed;
};

using group_pointer = group_actor::stateful_pointer<group_state>;

time_point now_of(group_pointer self) {
  return self->clock().now();
}

void count(group_pointer self, const char* key, std::uint64_t n = 1) {
  self->state.counters[key] += n;
}

group_view view_of(const group_state& st) {
  group_view result;
  for (auto& [g, xs] : st.members)
    if (!xs.empty())
      result.emplace(g, std::vector<std::string>(xs.begin(), xs.end()));
  return result;
}

void notify(group_pointer self, const group_event& ev) {
  for (auto& x : self->state.listeners)
    self->send(x, ev);
}

void arm(group_pointer self, time_point at);

/// How long to wait for `hop`'s acknowledgement: its smoothed round trip
/// plus four times its variation, at least `group_settings::retry`, at most
/// 10 s.
duration retry_time(const group_state& st, const std::string& hop) {
  duration least = st.cfg.retry;
  auto i = st.timing.find(hop);
  if (i == st.timing.end() || !i->second.sampled)
    return least;
  auto x = i->second.srtt + 4 * i->second.rttvar;
  return std::clamp<duration>(x, least, std::chrono::seconds{10});
}

/// Records a round-trip sample of `hop`.
void sample_round_trip(hop_timing& t, duration sample) {
  if (!t.sampled) {
    t.srtt = sample;
    t.rttvar = sample / 2;
    t.sampled = true;
  } else {
    auto diff = t.srtt > sample ? t.srtt - sample : sample - t.srtt;
    t.rttvar = (3 * t.rttvar + diff) / 4;
    t.srtt = (7 * t.srtt + sample) / 8;
  }
}

/// Puts the oldest unacknowledged copy to `hop` on a timer, unless it is on
/// one.
void time_head(group_pointer self, const std::string& hop, time_point at);

void abandon_hop(group_pointer self, const std::string& hop, bool reroute);

/// Hands a `g` request to the sender; with acknowledgements on, keeps it
/// until its hop acknowledges it.
void send_g(group_pointer self, const std::string& to, payload body,
            std::optional<group_publication> pub = std::nullopt) {
  auto& st = self->state;
  auto now = now_of(self);
  auto msg = st.ctx.make_request(to, group_command, std::move(body), now);
  if (pub)
    count(self, "publication_transfers");
  if (st.cfg.retry > caf::timespan::zero()) {
    auto wait = retry_time(st, to);
    pending_hop entry{msg, std::move(pub), 0, wait, now, std::nullopt};
    st.timing[to].outstanding.insert(msg.id);
    st.pending.emplace(msg.id, std::move(entry));
    time_head(self, to, now + wait);
  }
  count(self, "transfers");
  self->send(st.ctx.sender, outgoing_atom::value, std::move(msg),
             priority::fast, caf::actor_cast<owner_actor>(self));
}

/// Queues `r` for every neighbour but `except`.
void flood(group_pointer self, const membership_record& r,
           const std::string& except) {
  auto& st = self->state;
  for (auto& n : st.neighbours)
    if (n != except && n != r.origin)
      st.outbox[n][r.origin] = r;
  if (!st.flush_at) {
    st.flush_at = now_of(self) + batch_delay;
    arm(self, *st.flush_at);
  }
}

void flush_outbox(group_pointer self) {
  auto& st = self->state;
  st.flush_at.reset();
  auto out = std::move(st.outbox);
  st.outbox.clear();
  for (auto& [n, rs] : out) {
    if (st.neighbours.count(n) == 0)
      continue;
    std::vector<membership_record> batch;
    for (auto& kv : rs) {
      batch.push_back(std::move(kv.second));
      if (batch.size() == max_records_per_message) {
        send_g(self, n, encode_membership(batch));
        batch.clear();
      }
    }
    if (!batch.empty())
      send_g(self, n, encode_membership(batch));
  }
}

/// Sets the groups of `origin` to `groups`, telling the listeners what
/// changed.
void apply_groups(group_pointer self, const std::string& origin,
                  const std::vector<std::string>& before,
                  const std::vector<std::string>& after,
                  group_event_kind gone = group_event_kind::leave) {
  auto& st = self->state;
  for (auto& g : after)
    if (!std::binary_search(before.begin(), before.end(), g)) {
      auto& xs = st.members[g];
      if (xs.size() >= max_group_members && xs.count(origin) == 0) {
        count(self, "members_refused");
        continue;
      }
      xs.insert(origin);
      notify(self, group_event{group_event_kind::join, g, origin});
    }
  for (auto& g : before)
    if (!std::binary_search(after.begin(), after.end(), g)) {
      auto i = st.members.find(g);
      if (i == st.members.end() || i->second.erase(origin) == 0)
        continue;
      if (i->second.empty())
        st.members.erase(i);
      notify(self, group_event{gone, g, origin});
    }
}

/// Our own record, as it floods.
membership_record own_record(const group_state& st) {
  return membership_record{
      st.ctx.local_uuid, st.my_version, 0,
      std::vector<std::string>(st.mine.begin(), st.mine.end())};
}

/// Makes a new version of our record and floods it.
void announce(group_pointer self) {
  auto& st = self->state;
  auto now = now_of(self);
  ++st.my_version;
  auto& e = st.records[st.ctx.local_uuid];
  auto before = e.groups;
  e.version = st.my_version;
  e.groups.assign(st.mine.begin(), st.mine.end());
  e.hops = 0;
  apply_groups(self, st.ctx.local_uuid, before, e.groups);
  flood(self, own_record(st), {});
  count(self, "announced");
  st.next_refresh = st.mine.empty() ? time_point::max() : now + st.cfg.refresh;
  arm(self, st.next_refresh);
}

void handle_records(group_pointer self, const std::string& from,
                    std::vector<membership_record>& rs) {
  auto& st = self->state;
  auto now = now_of(self);
  for (auto& r : rs) {
    count(self, "records");
    if (r.origin == st.ctx.local_uuid || r.hops >= max_group_hops)
      continue;
    if (st.legacy.count(r.origin) > 0) {
      count(self, "legacy_records");
      continue;
    }
    auto i = st.records.find(r.origin);
    if (i == st.records.end()) {
      if (st.records.size() >= max_group_records) {
        count(self, "records_refused");
        continue;
      }
      i = st.records.emplace(r.origin, record_entry{}).first;
    } else if (r.version < i->second.version) {
      continue;
    } else if (r.version == i->second.version) {
      // The same news by another way: a shorter one is the better route.
      if (r.hops + 1 < i->second.hops) {
        i->second.hops = r.hops + 1;
        i->second.parent = from;
      }
      continue;
    }
    auto& e = i->second;
    auto before = std::move(e.groups);
    e.version = r.version;
    e.groups = r.groups;
    e.parent = from;
    e.hops = r.hops + 1;
    e.expires = now + st.cfg.expiry;
    e.evasive = false;
    apply_groups(self, r.origin, before, e.groups);
    if (st.next_expiry_check == time_point::max()) {
      st.next_expiry_check = now + st.cfg.expiry / 8;
      arm(self, st.next_expiry_check);
    }
    auto fwd = r;
    fwd.hops = e.hops;
    flood(self, fwd, from);
  }
}

/// Sends every record we know to a new neighbour.
void sync(group_pointer self, const std::string& n) {
  auto& st = self->state;
  auto& box = st.outbox[n];
  for (auto& [origin, e] : st.records)
    if (e.version > 0 && origin != n)
      box[origin] = membership_record{origin, e.version, e.hops, e.groups};
  count(self, "syncs");
  if (!st.flush_at) {
    st.flush_at = now_of(self) + batch_delay;
    arm(self, *st.flush_at);
  }
}

void deliver_one(group_pointer self, const std::string& group,
                 const std::string& publisher, std::uint64_t seq,
                 const std::string& body) {
  auto& st = self->state;
  if (st.mine.count(group) == 0) {
    count(self, "not_member");
    return;
  }
  auto parsed = payload::parse(body);
  if (!parsed) // Checked on arrival: cannot happen.
    return;
  count(self, "delivered");
  for (auto& x : st.listeners)
    self->send(x, group_message{group, publisher, seq, *parsed});
}

/// Delivers what `flow` holds in order, from the publication that follows
/// its last one.
void drain(group_pointer self, const std::string& group,
           const std::string& publisher, inbound_flow& flow) {
  for (auto i = flow.held.begin();
       i != flow.held.end() && i->second.previous <= flow.last;) {
    if (i->first > flow.last) {
      flow.last = i->first;
      deliver_one(self, group, publisher, i->first, i->second.body);
    }
    i = flow.held.erase(i);
  }
}

void deliver(group_pointer self, const group_publication& pub,
             std::uint64_t previous) {
  auto& st = self->state;
  auto key = std::make_pair(pub.publisher, pub.group);
  if (st.flows.size() >= max_flows && st.flows.count(key) == 0) {
    // Bounded whatever publishers claim to exist: forget a flow that holds
    // nothing (its next publication starts it afresh).
    auto i = std::find_if(st.flows.begin(), st.flows.end(),
                          [](auto& kv) { return kv.second.held.empty(); });
    if (i == st.flows.end()) {
      count(self, "flows_refused");
      return;
    }
    st.flows.erase(i);
  }
  auto& flow = st.flows[key];
  if (pub.incarnation < flow.incarnation) {
    count(self, "stale");
    return;
  }
  if (pub.incarnation > flow.incarnation) {
    flow = inbound_flow{};
    flow.incarnation = pub.incarnation;
  }
  if (pub.seq <= flow.last || flow.held.count(pub.seq) > 0) {
    count(self, "duplicates");
    return;
  }
  if (flow.held.size() >= 4096) {
    // A publisher far ahead of what came: give up on the gap.
    count(self, "gaps");
    flow.last = flow.held.begin()->second.previous;
  }
  flow.held.emplace(pub.seq, inbound_flow::held_publication{previous, pub.body,
                                                            now_of(self)});
  drain(self, pub.group, pub.publisher, flow);
  if (!flow.held.empty())
    arm(self, flow.held.begin()->second.since + st.cfg.gap_wait);
}

/// Whether the forwarding cache already had `target` for `key`; remembers
/// it.
bool seen_before(group_state& st, const std::string& key,
                 const std::string& target) {
  auto i = st.seen.find(key);
  if (i == st.seen.end()) {
    if (st.seen_order.size() >= st.cfg.dedupe_entries) {
      st.seen.erase(st.seen_order.front());
      st.seen_order.pop_front();
    }
    i = st.seen.emplace(key, std::set<std::string>{}).first;
    st.seen_order.push_back(key);
  }
  return !i->second.insert(target).second;
}

/// Delivers `pub` here if it is for us, and sends it on towards each of its
/// other targets, one copy per next hop.
void route(group_pointer self, group_publication pub) {
  auto& st = self->state;
  auto key = pub.publisher + '\0' + pub.group + '\0' +
             std::to_string(pub.incarnation) + '\0' + std::to_string(pub.seq);
  std::map<std::string,
           std::pair<std::vector<std::string>, std::vector<std::uint64_t>>>
      hops;
  for (std::size_t k = 0; k < pub.targets.size(); ++k) {
    auto& t = pub.targets[k];
    if (seen_before(st, key, t)) {
      count(self, "duplicates");
      continue;
    }
    if (t == st.ctx.local_uuid) {
      deliver(self, pub, pub.previous[k]);
      continue;
    }
    // Only to peers this peer knows as members: a publication cannot make
    // it send copies to peers made up by whoever sent it.
    auto member = st.members.find(pub.group);
    if (member == st.members.end() || member->second.count(t) == 0) {
      count(self, "unknown_targets");
      continue;
    }
    std::string next;
    if (st.neighbours.count(t) > 0) {
      next = t;
    } else if (auto i = st.records.find(t);
               i != st.records.end() && st.neighbours.count(i->second.parent)) {
      next = i->second.parent;
    } else if (st.legacy.count(t) > 0) {
      // A peer that cannot speak groups is no member, whatever a record
      // said.
      count(self, "legacy_targets");
      continue;
    } else {
      // No neighbour leads there: the ordinary route, through relays (which
      // never include a legacy peer).
      count(self, "unicast");
      next = t;
    }
    auto& [ts, ps] = hops[next];
    ts.push_back(t);
    ps.push_back(pub.previous[k]);
  }
  if (hops.empty())
    return;
  if (pub.hops_left == 0) {
    count(self, "hop_limit");
    return;
  }
  for (auto& [next, tp] : hops) {
    group_publication out;
    out.group = pub.group;
    out.publisher = pub.publisher;
    out.incarnation = pub.incarnation;
    out.seq = pub.seq;
    out.hops_left = pub.hops_left - 1;
    out.targets = std::move(tp.first);
    out.previous = std::move(tp.second);
    out.body = pub.body;
    count(self, "forwarded");
    auto body = encode_publication(out);
    send_g(self, next, std::move(body), std::move(out));
  }
}

/// Sends the acknowledgements waiting for `to` (all, when empty).
void flush_acks(group_pointer self, const std::string& to = {}) {
  auto& st = self->state;
  auto now = now_of(self);
  for (auto i = st.acks.begin(); i != st.acks.end();) {
    if (!to.empty() && i->first != to) {
      ++i;
      continue;
    }
    auto& batch = i->second;
    count(self, batch.publications ? "publication_acks" : "membership_acks");
    self->send(
        st.ctx.sender, outgoing_atom::value,
        st.ctx.make_reply(batch.last, encode_acknowledgement(batch.ids), now),
        priority::fast, caf::actor_cast<owner_actor>(self));
    i = st.acks.erase(i);
  }
  if (st.acks.empty())
    st.acks_at.reset();
}

void handle_request(group_pointer self, const message& msg) {
  auto& st = self->state;
  auto now = now_of(self);
  auto drop = [&](const caf::error& why) {
    count(self, "malformed");
    log_dropped(st.log, now, bad_group_message, msg, why);
    if (auto next = st.log.next_due(); next != time_point::max())
      arm(self, next);
  };
  auto op = group_op_of(msg.payload);
  if (!op) {
    drop(op.error());
    return;
  }
  // Acknowledged once read, also when it carries nothing new.
  auto acknowledge = [&] {
    if (st.cfg.retry == caf::timespan::zero())
      return;
    auto& batch = st.acks[msg.source];
    batch.last = msg;
    batch.last.payload = payload{};
    batch.ids.push_back(msg.id);
    batch.publications |= *op == group_op::publication;
    if (batch.ids.size() >= ack_batch_size) {
      flush_acks(self, msg.source);
    } else if (!st.acks_at) {
      st.acks_at = now + ack_delay;
      arm(self, *st.acks_at);
    }
  };
  if (*op == group_op::membership) {
    if (msg.source != msg.previous_hop) {
      drop(make_error(errc::invalid_request,
                      "membership records come from neighbours only"));
      return;
    }
    auto rs = decode_membership(msg.payload);
    if (!rs) {
      drop(rs.error());
      return;
    }
    acknowledge();
    handle_records(self, msg.source, *rs);
    return;
  }
  auto pub = decode_publication(msg.payload);
  if (!pub) {
    drop(pub.error());
    return;
  }
  acknowledge();
  route(self, std::move(*pub));
}

void handle_peers(group_pointer self, const std::vector<peer_change>& xs) {
  auto& st = self->state;
  for (auto& x : xs) {
    auto& p = x.record;
    if (x.what != change_kind::removed && p.legacy())
      st.legacy.insert(p.uuid);
    else
      st.legacy.erase(p.uuid);
    auto is_neighbour = x.what != change_kind::removed &&
                        p.state == peer_state::connected && p.speaks &&
                        p.speaks->has(capability::groups);
    if (is_neighbour && st.neighbours.insert(p.uuid).second) {
      sync(self, p.uuid);
    } else if (!is_neighbour && st.neighbours.erase(p.uuid) > 0) {
      auto gone = x.what == change_kind::removed ||
                  p.state == peer_state::unreachable ||
                  p.state == peer_state::no_connection;
      if (gone) // What it still owes us goes another way now.
        abandon_hop(self, p.uuid, true);
    }
  }
}

/// Sends `x` again (one more try), without a timer of its own.
void resend(group_pointer self, pending_hop& x, time_point now) {
  auto& st = self->state;
  ++x.tries;
  x.wait *= 2;
  x.sent = now;
  x.msg.deadline = now + st.ctx.settings->message_ttl;
  count(self, "retransmitted");
  count(self, "transfers");
  if (x.pub)
    count(self, "publication_transfers");
  self->send(st.ctx.sender, outgoing_atom::value, x.msg, priority::fast,
             caf::actor_cast<owner_actor>(self));
}

/// Forgets the copy `id` (acknowledged, given up or routed anew).
void forget(group_state& st, std::uint64_t id) {
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  if (i->second.slot)
    st.due.erase(*i->second.slot);
  st.timing[i->second.msg.to].outstanding.erase(id);
  st.pending.erase(i);
}

void time_head(group_pointer self, const std::string& hop, time_point at) {
  auto& st = self->state;
  auto& t = st.timing[hop];
  if (t.outstanding.empty())
    return;
  auto& x = st.pending.at(*t.outstanding.begin());
  if (x.slot)
    return;
  x.slot = st.due.emplace(at, x.msg.id);
  arm(self, at);
}

/// Gives up on every copy to `hop`, routing the publications among them
/// anew (their hop is gone or silent).
void abandon_hop(group_pointer self, const std::string& hop, bool reroute) {
  auto& st = self->state;
  auto ids = st.timing[hop].outstanding;
  for (auto id : ids) {
    auto i = st.pending.find(id);
    if (i == st.pending.end())
      continue;
    auto pub = std::move(i->second.pub);
    forget(st, id);
    if (!reroute || !pub) {
      count(self, "gave_up");
      continue;
    }
    // Each target once more: forget that it was sent.
    count(self, "rerouted");
    auto key = pub->publisher + '\0' + pub->group + '\0' +
               std::to_string(pub->incarnation) + '\0' +
               std::to_string(pub->seq);
    if (auto j = st.seen.find(key); j != st.seen.end())
      for (auto& target : pub->targets)
        j->second.erase(target);
    ++pub->hops_left;
    route(self, std::move(*pub));
  }
}

/// Takes the acknowledgement of copy `id` from `hop`: a copy to the same hop
/// sent once before it and still unacknowledged was lost (each link keeps
/// order), and goes again at once.
void take_ack(group_pointer self, const std::string& hop, std::uint64_t id) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end() || i->second.msg.to != hop)
    return;
  auto now = now_of(self);
  auto& t = st.timing[hop];
  t.last_ack = now;
  auto first_try = i->second.tries == 0;
  if (first_try)
    sample_round_trip(t, now - i->second.sent);
  forget(st, id);
  count(self, "acknowledged");
  if (first_try)
    for (auto older : t.outstanding) {
      if (older >= id)
        break;
      auto& x = st.pending.at(older);
      if (x.tries == 0)
        resend(self, x, now);
    }
  time_head(self, hop, now + retry_time(st, hop));
}

void retransmit(group_pointer self, time_point now) {
  auto& st = self->state;
  while (!st.due.empty() && st.due.begin()->first <= now) {
    auto id = st.due.begin()->second;
    st.due.erase(st.due.begin());
    auto i = st.pending.find(id);
    if (i == st.pending.end())
      continue;
    auto& x = i->second;
    x.slot.reset();
    auto hop = x.msg.to;
    if (x.pub && st.neighbours.count(hop) == 0) {
      abandon_hop(self, hop, true);
      continue;
    }
    if (x.tries >= st.cfg.retries) {
      // Silent through every try: the hop is gone for now.
      abandon_hop(self, hop, false);
      continue;
    }
    resend(self, x, now);
    x.slot = st.due.emplace(now + x.wait, id);
  }
}

void expire(group_pointer self, time_point now) {
  auto& st = self->state;
  st.next_expiry_check = time_point::max();
  for (auto i = st.records.begin(); i != st.records.end();) {
    if (i->first != st.ctx.local_uuid && i->second.expires <= now) {
      auto before = std::move(i->second.groups);
      auto origin = i->first;
      i = st.records.erase(i);
      apply_groups(self, origin, before, {}, group_event_kind::exit);
      count(self, "expired");
    } else {
      auto& e = i->second;
      // Silent for one and a half refreshes: still a member, but overdue.
      auto renewed = e.expires - st.cfg.expiry;
      if (i->first != st.ctx.local_uuid && !e.evasive && !e.groups.empty() &&
          renewed + st.cfg.refresh * 3 / 2 <= now) {
        e.evasive = true;
        count(self, "evasive");
        for (auto& g : e.groups)
          notify(self, group_event{group_event_kind::evasive, g, i->first});
      }
      ++i;
    }
  }
  if (st.records.size() > st.records.count(st.ctx.local_uuid))
    st.next_expiry_check = now + st.cfg.expiry / 8;
}

void skip_gaps(group_pointer self, time_point now) {
  auto& st = self->state;
  for (auto& [key, flow] : st.flows) {
    while (!flow.held.empty() &&
           flow.held.begin()->second.since + st.cfg.gap_wait <= now) {
      count(self, "gaps");
      flow.last = flow.held.begin()->second.previous;
      drain(self, key.second, key.first, flow);
    }
  }
}

/// The earliest time any work is due.
time_point next_due(group_state& st) {
  auto result = std::min(st.next_refresh, st.next_expiry_check);
  if (st.flush_at)
    result = std::min(result, *st.flush_at);
  if (st.acks_at)
    result = std::min(result, *st.acks_at);
  if (!st.due.empty())
    result = std::min(result, st.due.begin()->first);
  for (auto& kv : st.flows)
    if (!kv.second.held.empty())
      result = std::min(result,
                        kv.second.held.begin()->second.since + st.cfg.gap_wait);
  return std::min(result, st.log.next_due());
}

void arm(group_pointer self, time_point at) {
  auto& st = self->state;
  if (at == time_point::max() || (st.armed && *st.armed <= at))
    return;
  st.armed = at;
  auto now = now_of(self);
  self->delayed_send(self, std::max(at - now, duration::zero()),
                     tick_atom::value);
}

void on_tick(group_pointer self) {
  auto& st = self->state;
  auto now = now_of(self);
  if (st.armed && *st.armed <= now)
    st.armed.reset();
  if (st.flush_at && *st.flush_at <= now)
    flush_outbox(self);
  if (st.acks_at && *st.acks_at <= now)
    flush_acks(self);
  retransmit(self, now);
  skip_gaps(self, now);
  if (st.next_expiry_check <= now)
    expire(self, now);
  if (st.next_refresh <= now)
    announce(self);
  if (st.log.next_due() <= now)
    st.log.flush(now);
  arm(self, next_due(st));
}

void init(group_pointer self, concern_context ctx, group_settings cfg) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.cfg = cfg;
  st.log = log_limiter{log_limits_of(*st.ctx.settings)};
  st.incarnation = cfg.incarnation;
  if (st.incarnation == 0)
    st.incarnation = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
  // Versions grow across restarts: the incarnation's milliseconds, then a
  // count of changes.
  st.my_version = st.incarnation << 20;
}

group_actor::behavior_type groups_impl(group_pointer self, concern_context ctx,
                                       group_settings cfg) {
  init(self, std::move(ctx), cfg);
  // A message it does not take is logged and dropped: the concern stays.
  self->set_default_handler(caf::print_and_drop);
  self->set_down_handler([self](caf::down_msg& x) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const group_listener_actor& l) {
                              return l.address() == x.source;
                            }),
             xs.end());
  });
  self->request(self->state.ctx.peers, caf::infinite, subscribe_atom::value,
                caf::actor_cast<peer_watcher_actor>(self))
      .then([self](std::vector<peer>& ps) {
        std::vector<peer_change> xs;
        for (auto& p : ps) {
          auto was = p.state;
          xs.push_back(peer_change{change_kind::added, std::move(p), was});
        }
        handle_peers(self, xs);
      });
  return {
      // -- the application's face --------------------------------------------
      [self](join_atom, const std::string& g) -> caf::result<bool> {
        auto& st = self->state;
        if (auto err = check_group_name(g))
          return err;
        if (st.mine.count(g) > 0)
          return false;
        if (st.mine.size() >= max_groups_per_peer)
          return make_error(errc::invalid_request,
                            "in " + std::to_string(max_groups_per_peer) +
                                " groups already");
        st.mine.insert(g);
        announce(self);
        return true;
      },
      [self](leave_atom, const std::string& g) -> caf::result<bool> {
        auto& st = self->state;
        if (st.mine.erase(g) == 0)
          return false;
        announce(self);
        return true;
      },
      [self](publish_atom, const std::string& g,
             const payload& body) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        if (auto err = check_group_name(g))
          return err;
        if (body.bytes().size() > max_group_payload_size)
          return make_error(errc::invalid_request,
                            "a payload of " +
                                std::to_string(body.bytes().size()) +
                                " bytes, more than " +
                                std::to_string(max_group_payload_size));
        group_publication pub;
        pub.group = g;
        pub.publisher = st.ctx.local_uuid;
        pub.incarnation = st.incarnation;
        pub.seq = ++st.last_seq[g];
        pub.hops_left = max_group_hops;
        pub.body = body.bytes();
        auto& sent = st.last_sent[g];
        if (auto i = st.members.find(g); i != st.members.end())
          for (auto& m : i->second) {
            if (m == st.ctx.local_uuid)
              continue;
            pub.targets.push_back(m);
            auto& last = sent[m];
            pub.previous.push_back(last);
            last = pub.seq;
          }
        count(self, "published");
        route(self, std::move(pub));
        return st.last_seq[g];
      },
      [self](subscribe_atom, group_listener_actor x) -> group_view {
        self->monitor(x);
        self->state.listeners.push_back(std::move(x));
        return view_of(self->state);
      },
      [self](get_atom) -> group_view { return view_of(self->state); },
      // -- the concern --------------------------------------------------------
      [self](incoming_atom, const std::vector<message>& msgs) {
        for (auto& msg : msgs) {
          if (msg.is_request()) {
            handle_request(self, msg);
            continue;
          }
          auto ids = decode_acknowledgement(msg.payload, msg.id);
          if (!ids) {
            count(self, "malformed");
            log_dropped(self->state.log, now_of(self), bad_group_message, msg,
                        ids.error());
            continue;
          }
          std::sort(ids->begin(), ids->end());
          for (auto id : *ids)
            take_ack(self, msg.source, id);
        }
      },
      [](sent_atom, const std::vector<message>&) {
        // Delivery is known from the acknowledgement.
      },
      [self](send_failed_atom, const message&, const caf::error&) {
        // With acknowledgements, the concern sends again itself.
        return self->state.cfg.retry == caf::timespan::zero();
      },
      [self](dropped_atom, const message& msg, const caf::error& err) {
        count(self, "dropped");
        log(log_level::debug, log_category::app, "group message to ",
            short_uuid(msg.to), " dropped: ", render(err));
      },
      [self](tick_atom) { on_tick(self); },
      [self](changed_atom, const std::vector<peer_change>& xs) {
        handle_peers(self, xs);
      },
      [](due_atom, due_kind, const std::vector<peer>&) {
        // Takes no due work.
      },
      [](wanted_atom, const std::vector<wanted_route>&) {
        // Watches no routes.
      },
      [self](stats_atom) {
        auto result = self->state.counters;
        result["records_known"] = self->state.records.size();
        result["neighbours"] = self->state.neighbours.size();
        result["pending"] = self->state.pending.size();
        return result;
      },
  };
}

} // namespace

group_actor spawn_groups(caf::actor_system& sys, concern_context ctx,
                         group_settings settings) {
  ctx.command = group_command;
  return sys.spawn(groups_impl, std::move(ctx), settings);
}

} // namespace p2p0mq
