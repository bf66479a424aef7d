#pragma once

// The wire spoken with raw ZeroMQ, as a program of another make would: a
// DEALER that talks to a local peer's receiver, the frames of a message as
// such a DEALER sends them, and a ROUTER that plays a peer's receiver.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

namespace p2p0mq::testing {

/// Frames 1-6 of a message from `source` to `dest`, as a DEALER sends them
/// (the receiving ROUTER adds frame 0, the connection's routing id); `relay`
/// names the sending program when it is not `source` itself.
inline std::vector<std::string>
wire_frames(const std::string& source, const std::string& dest,
            const std::string& command, payload body,
            const std::string& relay = "",
            message_kind kind = message_kind::request, std::uint64_t id = 1) {
  message msg;
  msg.source = source;
  msg.to = dest;
  msg.next_hop = dest;
  msg.command = command;
  msg.kind = kind;
  msg.id = id;
  msg.payload = std::move(body);
  auto xs = msg.encode(relay.empty() ? source : relay);
  return {xs.begin() + 1, xs.end()};
}

/// A DEALER connected to the receiver of the local peer on `port`.
struct zmq_client {
  zmq_client(zmq::context_t& ctx, std::uint16_t port, const std::string& id,
             const std::function<void(zmq::socket_t&)>& tune = nullptr)
      : socket(ctx, zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::routing_id, id);
    socket.set(zmq::sockopt::linger, 0);
    if (tune)
      tune(socket);
    socket.connect("tcp://127.0.0.1:" + std::to_string(port));
  }

  void send(const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i)
      socket.send(zmq::buffer(parts[i]), i + 1 < parts.size()
                                             ? zmq::send_flags::sndmore
                                             : zmq::send_flags::none);
  }

  zmq::socket_t socket;
};

/// A ROUTER bound to 127.0.0.1 on a port the system picks: the receiver of
/// a peer played by the test.
struct zmq_receiver {
  explicit zmq_receiver(zmq::context_t& ctx)
      : socket(ctx, zmq::socket_type::router) {
    socket.set(zmq::sockopt::linger, 0);
    socket.bind("tcp://127.0.0.1:*");
    auto endpoint = socket.get(zmq::sockopt::last_endpoint);
    port = static_cast<std::uint16_t>(
        std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  }

  /// The next message, with all its frames, or none within `limit`.
  std::optional<std::vector<std::string>>
  receive(std::chrono::milliseconds limit) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, limit) == 0)
      return std::nullopt;
    std::vector<std::string> parts;
    zmq::message_t part;
    do {
      if (!socket.recv(part, zmq::recv_flags::none))
        return std::nullopt;
      parts.emplace_back(part.to_string());
    } while (part.more());
    return parts;
  }

  zmq::socket_t socket;
  std::uint16_t port = 0;
};

} // namespace p2p0mq::testing
