#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/config.hpp"

namespace zmq {
class context_t;
class socket_t;
} // namespace zmq

namespace p2p0mq {

/// How a sender's socket authenticates itself and its peers with CURVE.
struct curve_client {
  /// The local peer's key pair.
  curve_key_pair keys;

  /// Returns the public key of a peer by uuid, or an error naming the file
  /// that is missing or damaged.
  std::function<caf::expected<std::string>(const std::string& uuid)> server_key;
};

/// Makes the transport of a local peer's sender: a ROUTER socket in
/// `context` with routing id `local_uuid`, `ZMQ_ROUTER_MANDATORY` on and
/// `ZMQ_LINGER` 0, as docs/PROTOCOL.md says. The socket is created here, on the
/// calling thread, and then used only by the sender actor. Throws
/// `zmq::error_t` if the socket cannot be made; afterwards no ZeroMQ exception
/// leaves it.
///
/// It connects to `tcp://` endpoints only, and refuses (`errc::socket_error`)
/// an address libzmq would refuse before touching the socket: a refused
/// connect would leave the connect routing id set for the next connect.
/// Sending maps `EHOSTUNREACH` to `send_status::unreachable` (a routing id
/// never connected), a full pipe to `send_status::would_block`, and any other
/// error to `send_status::failed`. "Sent" means handed to ZeroMQ: a peer that
/// went away still takes messages until its pipe is full.
///
/// With `curve`, the socket is a CURVE client with the local key pair, and
/// every first connect to a peer (or connect to a new endpoint of it) looks
/// up the peer's public key first and sets it as the server key; a peer
/// without one is not connected, and `connect` fails with the lookup's error
/// (e.g. `errc::missing_certificate` naming the file).
///
/// With `monitor`, it receives a PAIR socket in `context` that gets the
/// socket's handshake events (for the receiver to log).
std::unique_ptr<transport>
make_zmq_transport(zmq::context_t& context, const std::string& local_uuid,
                   const config& settings,
                   std::optional<curve_client> curve = std::nullopt,
                   std::shared_ptr<zmq::socket_t>* monitor = nullptr);

} // namespace p2p0mq
