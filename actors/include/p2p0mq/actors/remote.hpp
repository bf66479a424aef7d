#pragma once

// Concerns on other nodes, through CAF's middleman (BASP): a local peer's
// manager published on a port, and a concern in another process (or on
// another machine) that connects to it, registers for a command and then
// receives its requests and sends its replies like a local concern.
//
// Link `p2p0mq::remote` (it brings CAF's io module) and load the middleman
// into the actor system config of both processes:
//
// ~~~
// p2p0mq::system_config cfg;        // registers p2p0mq's message types
// cfg.load<caf::io::middleman>();
// caf::actor_system sys{cfg};
// ~~~

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/local_peer.hpp"

namespace p2p0mq {

/// Publishes the manager of the running local peer `peer` with CAF's
/// middleman on `host:port` (port 0: the system picks one) and returns the
/// port it is bound to. Whoever reaches the port can register concerns and
/// make requests in the name of the local peer, and BASP carries no
/// encryption: publish on a loopback or otherwise trusted interface only.
/// Errors: `errc::not_started`; `errc::invalid_config` when the actor
/// system has no middleman; the middleman's errors (e.g. the port is in
/// use).
caf::expected<std::uint16_t>
publish_manager(local_peer& peer, std::uint16_t port = 0,
                const std::string& host = "127.0.0.1");

/// Closes a port `publish_manager` opened for `peer` (every one for port 0).
caf::error unpublish_manager(local_peer& peer, std::uint16_t port = 0);

/// Connects to the manager published on `host:port`, spawns a concern from
/// `factory` in `sys` and registers it for `command`; returns the concern.
///
/// The concern's `concern_context` names the remote local peer (its uuid,
/// host, port and message time-to-live, its requester and peer table) and
/// has the manager as its `outlet`: its outgoing messages go through the
/// manager, which numbers new requests (leaving here with id 0) and times
/// them on the local peer's clock. It has no `sender` and no `ids`. A
/// `concern_base` exits when the manager goes down or becomes unreachable;
/// when this process ends, the manager notices, unregisters the concern and
/// drops (or, with `concern_grace_period`, holds) the messages for it.
///
/// Waits at most `timeout` for each answer of the manager. Errors:
/// `errc::invalid_config` when `sys` has no middleman; the middleman's
/// errors (connection refused, interface mismatch); the manager's
/// (`errc::duplicate_concern`; the concern is stopped then).
caf::expected<concern_actor>
attach_concern(caf::actor_system& sys, const std::string& host,
               std::uint16_t port, const std::string& command,
               concern_factory factory,
               caf::timespan timeout = std::chrono::seconds{10});

} // namespace p2p0mq
