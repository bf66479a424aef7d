#pragma once

#include <memory>
#include <string>

#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/config.hpp"

namespace zmq {
class context_t;
} // namespace zmq

namespace p2p0mq {

/// Makes the transport of a local peer's sender: a ROUTER socket in
/// `context` with routing id `local_uuid`, `ZMQ_ROUTER_MANDATORY` on and
/// `ZMQ_LINGER` 0, as WIRE.md says. The socket is created here, on the calling
/// thread, and then used only by the sender actor. Throws `zmq::error_t` if
/// the socket cannot be made; afterwards no ZeroMQ exception leaves it.
///
/// It connects to `tcp://` endpoints only, and refuses (`errc::socket_error`)
/// an address libzmq would refuse before touching the socket: a refused
/// connect would leave the connect routing id set for the next connect.
/// Sending maps `EHOSTUNREACH` to `send_status::unreachable` (a routing id
/// never connected), a full pipe to `send_status::would_block`, and any other
/// error to `send_status::failed`. "Sent" means handed to ZeroMQ: a peer that
/// went away still takes messages until its pipe is full.
std::unique_ptr<transport> make_zmq_transport(zmq::context_t& context,
                                              const std::string& local_uuid,
                                              const config& settings);

} // namespace p2p0mq
