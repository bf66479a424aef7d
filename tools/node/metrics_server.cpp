#include "node/metrics_server.hpp"

#include <cerrno>
#include <charconv>
#include <map>
#include <thread>
#include <vector>

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.hpp>

#include "p2p0mq/errc.hpp"

namespace p2p0mq::node {

namespace {

/// The most bytes of a request kept before it is answered anyway.
constexpr std::size_t max_request = 8192;

std::string response(const std::string& status, const std::string& type,
                     const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

struct metrics_server::impl {
  zmq::socket_t socket;
  int stop_fd = -1;
  std::uint16_t port = 0;
  std::function<std::string()> render;
  std::thread thread;
  /// Request bytes received so far, by connection id.
  std::map<std::string, std::string> pending;

  ~impl() {
    if (stop_fd >= 0)
      ::close(stop_fd);
  }

  void answer(const std::string& id, const std::string& request) {
    std::string text;
    if (request.rfind("GET /metrics ", 0) == 0 ||
        request.rfind("GET /metrics?", 0) == 0)
      text = response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                      render());
    else
      text = response("404 Not Found", "text/plain",
                      "p2p0mq serves GET /metrics only\n");
    // An empty frame after the answer closes the connection.
    if (send(id, zmq::buffer(text)))
      send(id, zmq::const_buffer{});
  }

  /// Sends `body` to connection `id` without waiting: a client that went
  /// away, or whose connection libzmq is closing, gets nothing (a blocking
  /// send would wait for it for ever, and no other client would be
  /// answered). Returns whether it went.
  bool send(const std::string& id, zmq::const_buffer body) {
    try {
      if (!socket.send(zmq::buffer(id),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait))
        return false;
      // The second part of a message whose first went is always taken.
      socket.send(body, zmq::send_flags::dontwait);
      return true;
    } catch (const zmq::error_t&) {
      // EHOSTUNREACH: the connection is gone.
      return false;
    }
  }

  void on_frames() {
    zmq::message_t id;
    zmq::message_t data;
    while (socket.recv(id, zmq::recv_flags::dontwait)) {
      if (!id.more() || !socket.recv(data, zmq::recv_flags::none))
        continue;
      auto key = id.to_string();
      if (data.size() == 0) {
        // A connection came or went.
        pending.erase(key);
        continue;
      }
      auto& request = pending[key];
      request.append(data.data<char>(), data.size());
      if (request.find("\r\n\r\n") != std::string::npos ||
          request.size() >= max_request) {
        answer(key, request);
        pending.erase(key);
      }
    }
  }

  void run() {
    zmq::pollitem_t items[] = {
        {static_cast<void*>(socket), 0, ZMQ_POLLIN, 0},
        {nullptr, stop_fd, ZMQ_POLLIN, 0},
    };
    for (;;) {
      try {
        zmq::poll(items, 2, std::chrono::milliseconds{-1});
        if (items[1].revents & ZMQ_POLLIN)
          break;
        if (items[0].revents & ZMQ_POLLIN)
          on_frames();
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR)
          continue;
        std::fprintf(stderr, "p2p0mq-node: the metrics endpoint stops: %s\n",
                     e.what());
        break;
      }
    }
    socket.close();
  }
};

caf::expected<std::unique_ptr<metrics_server>>
metrics_server::start(zmq::context_t& context, const std::string& host,
                      std::uint16_t port, std::function<std::string()> render) {
  auto x = std::make_unique<impl>();
  auto endpoint = "tcp://" + host + ":" +
                  (port == 0 ? std::string{"*"} : std::to_string(port));
  try {
    x->socket = zmq::socket_t{context, zmq::socket_type::stream};
    x->socket.set(zmq::sockopt::linger, 0);
    x->socket.bind(endpoint);
    auto bound = x->socket.get(zmq::sockopt::last_endpoint);
    auto colon = bound.rfind(':');
    std::from_chars(bound.data() + colon + 1, bound.data() + bound.size(),
                    x->port);
  } catch (const zmq::error_t& e) {
    return make_error(errc::socket_error,
                      "cannot serve metrics on " + endpoint + ": " + e.what());
  }
  x->stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (x->stop_fd < 0)
    return make_error(errc::socket_error, "eventfd failed");
  x->render = std::move(render);
  auto raw = x.get();
  x->thread = std::thread{[raw] { raw->run(); }};
  return std::make_unique<metrics_server>(std::move(x));
}

metrics_server::metrics_server(std::unique_ptr<impl> x) : impl_(std::move(x)) {
}

metrics_server::~metrics_server() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(impl_->stop_fd, &one, sizeof(one));
  impl_->thread.join();
}

std::uint16_t metrics_server::port() const noexcept {
  return impl_->port;
}

} // namespace p2p0mq::node
