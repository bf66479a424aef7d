#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace zmq {
class context_t;
} // namespace zmq

namespace p2p0mq::node {

/// A minimal HTTP server for Prometheus: answers `GET /metrics` with the text
/// `render` returns (content type `text/plain; version=0.0.4`), anything
/// else with 404, and closes each connection after its answer. It runs on a
/// thread of its own that blocks on a ZeroMQ STREAM socket (raw TCP) and on a
/// stop signal.
class metrics_server {
public:
  /// Binds `tcp://host:port` (port 0: any) and starts serving. Fails with
  /// `errc::socket_error` naming the address.
  static caf::expected<std::unique_ptr<metrics_server>>
  start(zmq::context_t& context, const std::string& host, std::uint16_t port,
        std::function<std::string()> render);

  /// Stops the thread and closes the socket.
  ~metrics_server();

  /// The port bound.
  std::uint16_t port() const noexcept;

  struct impl;

  explicit metrics_server(std::unique_ptr<impl> x);

private:
  std::unique_ptr<impl> impl_;
};

} // namespace p2p0mq::node
