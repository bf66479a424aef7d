#pragma once

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the connector.
inline constexpr const char* connector_command = "hello";

/// The connector concern (`hello`): greets new peers with our address and
/// answers their greetings. A `concern_base` like any user's concern.
///
/// - It takes the greetings the peer table makes due
///   (`take_due(due_kind::greeting)`: INITIAL peers with an address,
///   NO_CONNECTION peers whose reconnect wait is over); the table has told
///   the sender to connect to each, and keeps each greeting in flight until
///   its outcome is known. For each it sends a `hello` request carrying
///   `{"host": str, "port": int}` (our receiver) straight to the peer. The
///   peer becomes CONNECTING when the request is sent, NO_CONNECTION when
///   sending fails or it is dropped.
/// - An incoming `hello` request creates or updates the peer (host, port),
///   connecting to it first when it came straight from the peer, and is
///   answered with our host and port. If the peer needs a (re)connect
///   (INITIAL, NO_CONNECTION, UNREACHABLE), or the request came through a
///   relay from a peer we reach only through relays (ROUTED), the table is
///   asked to greet it (`greet_atom`; a ROUTED peer stays ROUTED until it
///   answers directly); else it becomes CONNECTED or ROUTED by the path the
///   request took.
/// - A `hello` reply makes the peer CONNECTED or ROUTED likewise.
/// - A malformed `hello` payload is logged and dropped.
concern_factory connector();

} // namespace p2p0mq
