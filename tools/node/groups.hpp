#pragma once

// What p2p0mq-node prints of groups: each delivered publication, and the
// groups in its JSON status lines.

#include <string>

#include <caf/fwd.hpp>

#include "p2p0mq/actors/groups.hpp"

namespace p2p0mq::node {

/// Spawns a listener that prints each publication delivered: with `json`,
/// the line `{"event": "group_message", "group": G, "from": UUID, "seq": N}`
/// on stdout; else a line on stderr. Ignores membership events.
group_listener_actor spawn_group_printer(caf::actor_system& sys, bool json);

/// `line`, a JSON status line (`{"t": ..., ...}`), with the member
/// `"groups": {G: [members...]}` added after its first member.
std::string with_groups(const std::string& line, const group_view& groups);

/// The JSON line of a delivered publication (see `spawn_group_printer`).
std::string group_message_line(const group_message& x);

} // namespace p2p0mq::node
