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
/// the socket cannot be made.
std::unique_ptr<transport> make_zmq_transport(zmq::context_t& context,
                                              const std::string& local_uuid,
                                              const config& settings);

} // namespace p2p0mq
