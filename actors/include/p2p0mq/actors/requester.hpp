#pragma once

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"

namespace p2p0mq {

/// Where a requester registers the replies it waits for: the part of the
/// dispatcher's interface it uses (see `dispatcher_actor`).
using correlator_actor =
    caf::typed_actor<caf::reacts_to<expect_atom, std::string, std::uint64_t,
                                    caf::timespan, inbox_actor>>;

/// Spawns the requester of a local peer (see `requester_actor`), which
/// registers the replies it waits for with `correlator` (the dispatcher). It
/// numbers its requests with `ctx.ids` and hands them to `ctx.sender`,
/// owning them.
///
/// For each request it registers `(expect_atom, peer, id, timeout, self)`
/// with the correlator before handing the request to the sender, so that the
/// reply, first come, reaches it and not the concern of the command. The
/// caller's answer is the first of: that reply (or `errc::rejected` for a
/// rejection), the request's `dropped` outcome or failed send, or
/// `errc::request_timeout` when `timeout` has passed (a timer of its own, on
/// the actor system's clock). Replies that find no request waiting (late,
/// duplicate) are logged at debug level and dropped.
///
/// Stop sequence: when it exits, every caller still waiting gets
/// `errc::local_peer_stopped`.
requester_actor spawn_requester(caf::actor_system& sys, concern_context ctx,
                                correlator_actor correlator);

} // namespace p2p0mq
