#pragma once

#include "p2p0mq/actors/concern.hpp"

namespace p2p0mq {

/// The command id of the connector.
inline constexpr const char* connector_command = "hello";

/// The connector concern (`hello`): greets new peers with our address and
/// answers their greetings.
///
/// - On each tick it asks the peer table which peers to greet (`greet_atom`):
///   for each, it has the sender connect to `tcp://host:port` and sends a
///   `hello` request carrying `{"host": str, "port": int}` (our receiver).
///   The peer becomes CONNECTING when the request is sent, NO_CONNECTION when
///   sending fails or it is dropped. A peer is not greeted again while a
///   `hello` to it is in flight (no outcome yet, and sent less than two
///   time-to-lives ago), whichever path greeted it.
/// - An incoming `hello` request creates or updates the peer (host, port) and
///   is answered with our host and port. If the peer needs a (re)connect
///   (INITIAL, NO_CONNECTION, UNREACHABLE), or the request came through a
///   relay from a peer we reach only through relays (ROUTED), we connect to
///   it and greet it (a ROUTED peer stays ROUTED until it answers directly);
///   else it becomes CONNECTED or ROUTED by the path the request took.
/// - A `hello` reply makes the peer CONNECTED or ROUTED likewise.
/// - A malformed `hello` payload is logged and dropped.
concern_factory connector();

} // namespace p2p0mq
