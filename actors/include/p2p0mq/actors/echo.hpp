#pragma once

#include <caf/actor.hpp>

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the echo concern.
inline constexpr const char* echo_command = "echo";

/// The echo concern (`echo`): answers each request with a reply carrying the
/// same payload, which makes it the `ping` of p2p0mq networks.
///
/// Replies to our own echo requests, and the requests we sent that were
/// dropped, are forwarded to `listener` (when given) as
/// `(incoming_atom, message)` and `(dropped_atom, message, caf::error)`.
/// Send an echo request with `concern_context::make_request` and the sender,
/// naming the echo concern as owner (see `p2p0mq-node --ping`).
concern_factory echo(caf::actor listener = {});

} // namespace p2p0mq
