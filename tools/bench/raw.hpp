#pragma once

#include <cstddef>
#include <vector>

#include "p2p0mq/message.hpp"

namespace p2p0mq::bench {

/// Sends `count` copies of `frames` (frame 0 = the receiver's routing id)
/// one way from a ROUTER to a bound ROUTER over TCP on 127.0.0.1, and returns
/// messages per second from the first send to the last receive. With
/// `curve`, the bound sockets are CURVE servers and the connecting ones
/// CURVE clients (no ZAP handler: it only takes part in the handshake).
double raw_one_way(const p2p0mq::frames& frames, std::size_t count,
                   bool curve = false);

/// Plays ping-pong `count` times over the p2p0mq two-connection pattern
/// (A.sender -> B.receiver, B.sender -> A.receiver) with `frames`, and
/// returns each round trip in microseconds.
std::vector<double> raw_round_trips(const p2p0mq::frames& frames,
                                    std::size_t count, bool curve = false);

} // namespace p2p0mq::bench
