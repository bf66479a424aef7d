#include "bench/flood.hpp"

#include <string>
#include <vector>

#include <zmq.hpp>

namespace p2p0mq::bench {

namespace {

/// Frames 1 to 6 (or fewer) of each malformed message, in turn.
const std::vector<std::vector<std::string>>& malformed_messages() {
  static const std::vector<std::vector<std::string>> result{
      {"", "", "\x01", "hb", "\x01"},
      {"", "", "\x07", "hb", "\x01", "\x80"},
      {"", "", "\x01", "hb", "\xc1", "\x80"},
      {"", "", "\x01", "hb", "\x01", "\x90"},
  };
  return result;
}

} // namespace

malformed_flood::malformed_flood(std::uint16_t port) {
  thread_ = std::thread{[this, port] {
    zmq::context_t context{1};
    zmq::socket_t socket{context, zmq::socket_type::dealer};
    socket.set(zmq::sockopt::routing_id, "bench-flood");
    socket.set(zmq::sockopt::linger, 0);
    // A full pipe blocks the send for at most this long, so that a stop is
    // seen.
    socket.set(zmq::sockopt::sndtimeo, 50);
    socket.connect("tcp://127.0.0.1:" + std::to_string(port));
    auto& xs = malformed_messages();
    for (std::size_t i = 0; !stop_.load(std::memory_order_relaxed); ++i) {
      auto& parts = xs[i % xs.size()];
      // Only the first part can be refused; the rest follow it.
      if (!socket.send(zmq::buffer(parts[0]), zmq::send_flags::sndmore))
        continue;
      for (std::size_t j = 1; j < parts.size(); ++j)
        (void)socket.send(zmq::buffer(parts[j]), j + 1 < parts.size()
                                                     ? zmq::send_flags::sndmore
                                                     : zmq::send_flags::none);
      sent_.fetch_add(1, std::memory_order_relaxed);
    }
  }};
}

malformed_flood::~malformed_flood() {
  stop();
}

void malformed_flood::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

} // namespace p2p0mq::bench
