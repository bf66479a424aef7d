#pragma once

// Groups: a local peer joins and leaves named groups, learns who is in
// which group across the whole network, and publishes to a group; every
// member's listeners get each publication once, in the order its publisher
// published. The protocol (command `g`, docs/PROTOCOL.md "Groups") runs
// between neighbours that announced `capability::groups` only, so a legacy
// peer never sees it and is never a hop of it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/groups.hpp"
#include "p2p0mq/payload.hpp"

namespace p2p0mq {

/// Join a group.
using join_atom = caf::atom_constant<caf::atom("join")>;

/// Leave a group.
using leave_atom = caf::atom_constant<caf::atom("leave")>;

/// Publish to a group.
using publish_atom = caf::atom_constant<caf::atom("publish")>;

/// What happened to a group's membership.
enum class group_event_kind : std::uint8_t {
  /// A peer joined the group (the local peer too).
  join,
  /// A peer left the group (the local peer too).
  leave,
  /// A member's record is overdue (one and a half refreshes without news,
  /// checked every eighth of `group_settings::expiry`): it still counts as
  /// a member, but may be gone or cut off. Once per version of its record.
  evasive,
  /// A member's record went unrefreshed for `group_settings::expiry`: it is
  /// gone or cut off, and counts as a member no more.
  exit,
};

/// The name of `x`: `"join"`, `"leave"`, `"evasive"` or `"exit"`.
const char* to_string(group_event_kind x) noexcept;

/// A change of a group's membership, as the listeners hear it.
struct group_event {
  group_event_kind what = group_event_kind::join;
  std::string group;
  /// The peer that joined, left or exited.
  std::string peer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_event& x) {
  auto what = static_cast<std::uint8_t>(x.what);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.what = static_cast<group_event_kind>(what);
    return caf::none;
  });
  return f(caf::meta::type_name("group_event"), what, x.group, x.peer, load);
}

/// A publication delivered to a member.
struct group_message {
  std::string group;
  /// The peer that published it.
  std::string publisher;
  /// The publisher's number for it in this group (1, 2, ...; a gap means
  /// publications this member missed or was not a member for).
  std::uint64_t seq = 0;
  /// What was published.
  p2p0mq::payload body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_message& x) {
  return f(caf::meta::type_name("group_message"), x.group, x.publisher, x.seq,
           x.body);
}

/// Groups and their members, as one local peer knows them (itself
/// included), each list sorted.
using group_view = std::map<std::string, std::vector<std::string>>;

/// Hears a local peer's group news: `(group_event)` for each change of a
/// membership (also its own joins and leaves) and `(group_message)` for each
/// publication delivered to it.
using group_listener_actor = caf::typed_actor<caf::reacts_to<group_event>,
                                              caf::reacts_to<group_message>>;

/// How the group concern works; the defaults suit most networks.
struct group_settings {
  /// How often a member floods its record again, so that peers far away
  /// learn it is still there.
  caf::timespan refresh = std::chrono::seconds{20};
  /// How long a record lasts without a refresh; then its groups lose the
  /// member (`group_event_kind::exit`).
  caf::timespan expiry = std::chrono::seconds{65};
  /// How long a hop waits for the next hop's acknowledgement before it sends
  /// a publication again; doubled at each try. Zero: no acknowledgements and
  /// no repair (one transfer per hop).
  caf::timespan retry = std::chrono::milliseconds{200};
  /// How many times a hop sends a publication again.
  std::uint32_t retries = 4;
  /// How long a member holds a publication that came before the one its
  /// publisher sent it earlier; then it gives up on that one and delivers.
  caf::timespan gap_wait = std::chrono::seconds{3};
  /// How many publications a hop remembers, to forward each to each target
  /// once.
  std::size_t dedupe_entries = 16384;
  /// Numbers this run of the local peer: larger than the last run's, so that
  /// its records and publications replace the last run's. Zero: the
  /// milliseconds of the system clock at start (a simulation passes its
  /// virtual time, for runs that repeat).
  std::uint64_t incarnation = 0;
};

/// The group concern of a local peer, and its face for the application.
///
/// | message | reply | errors |
/// |---|---|---|
/// | `(join_atom, group)` | whether it was not in it yet | `invalid_request`: a bad name, or `max_groups_per_peer` groups already |
/// | `(leave_atom, group)` | whether it was in it | |
/// | `(publish_atom, group, payload)` | the publication's number in the group | `invalid_request`: a bad name, or a payload over `max_group_payload_size` bytes |
/// | `(subscribe_atom, group_listener_actor)` | the groups now; events and deliveries follow | |
/// | `(get_atom)` | the groups now (`group_view`) | |
/// | the messages of `concern_actor` | as a concern | |
///
/// Publishing does not need membership and does not deliver to the
/// publisher itself. A publication goes to the members the publisher knows
/// when it publishes. Listeners are monitored and forgotten when they go
/// down. Counters (`stats_atom`): `delivered`, `duplicates`, `forwarded`,
/// `retransmitted`, `gaps`, `malformed`, `records`, ... (see
/// docs/PROTOCOL.md).
using group_actor = concern_actor::extend<
    caf::replies_to<join_atom, std::string>::with<bool>,
    caf::replies_to<leave_atom, std::string>::with<bool>,
    caf::replies_to<publish_atom, std::string, payload>::with<std::uint64_t>,
    caf::replies_to<subscribe_atom, group_listener_actor>::with<group_view>,
    caf::replies_to<get_atom>::with<group_view>>;

/// Spawns the group concern with `ctx` (its `command` is `group_command`).
/// The assembly spawns it when asked (`assembly_parts::groups`), announces
/// `capability::groups` and registers it with the supervisor.
group_actor spawn_groups(caf::actor_system& sys, concern_context ctx,
                         group_settings settings = {});

} // namespace p2p0mq
