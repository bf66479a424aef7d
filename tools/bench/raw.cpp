// The raw libzmq baselines: what the wire does without p2p0mq's actors.
#include "bench/raw.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <zmq.hpp>

namespace p2p0mq::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// The CURVE keys of one run: the servers share one pair, the clients
/// another.
struct curve_keys {
  bool on = false;
  char server_public[41] = {};
  char server_secret[41] = {};
  char client_public[41] = {};
  char client_secret[41] = {};

  explicit curve_keys(bool curve) : on(curve) {
    if (on) {
      zmq_curve_keypair(server_public, server_secret);
      zmq_curve_keypair(client_public, client_secret);
    }
  }
};

zmq::socket_t bound_router(zmq::context_t& ctx, const std::string& id,
                           std::string& endpoint, const curve_keys& keys) {
  zmq::socket_t s{ctx, zmq::socket_type::router};
  s.set(zmq::sockopt::routing_id, zmq::buffer(id));
  if (keys.on) {
    s.set(zmq::sockopt::curve_server, true);
    s.set(zmq::sockopt::curve_secretkey, keys.server_secret);
  }
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::rcvhwm, 0);
  s.bind("tcp://127.0.0.1:*");
  endpoint = s.get(zmq::sockopt::last_endpoint);
  return s;
}

zmq::socket_t sending_router(zmq::context_t& ctx, const std::string& id,
                             const std::string& peer,
                             const std::string& endpoint,
                             const curve_keys& keys) {
  zmq::socket_t s{ctx, zmq::socket_type::router};
  s.set(zmq::sockopt::routing_id, zmq::buffer(id));
  if (keys.on) {
    s.set(zmq::sockopt::curve_publickey, keys.client_public);
    s.set(zmq::sockopt::curve_secretkey, keys.client_secret);
    s.set(zmq::sockopt::curve_serverkey, keys.server_public);
  }
  s.set(zmq::sockopt::router_mandatory, 1);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::sndhwm, 0);
  s.set(zmq::sockopt::connect_routing_id, zmq::buffer(peer));
  s.connect(endpoint);
  return s;
}

void send_frames(zmq::socket_t& s, const p2p0mq::frames& xs,
                 const std::string& next_hop) {
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const auto& part = i == 0 ? next_hop : xs[i];
    zmq::message_t msg{part.data(), part.size()};
    s.send(msg, i + 1 < xs.size() ? zmq::send_flags::sndmore
                                  : zmq::send_flags::none);
  }
}

void receive_frames(zmq::socket_t& s, std::vector<zmq::message_t>& parts) {
  parts.clear();
  for (;;) {
    zmq::message_t part;
    (void)s.recv(part);
    bool more = part.more();
    parts.emplace_back(std::move(part));
    if (!more)
      return;
  }
}

} // namespace

double raw_one_way(const p2p0mq::frames& frames, std::size_t count,
                   bool curve) {
  zmq::context_t ctx{1};
  curve_keys keys{curve};
  std::string endpoint;
  auto receiver = bound_router(ctx, "raw-b", endpoint, keys);
  auto sender = sending_router(ctx, "raw-a", "raw-b", endpoint, keys);
  clock_type::time_point start;
  std::thread consumer{[&] {
    std::vector<zmq::message_t> parts;
    for (std::size_t i = 0; i < count; ++i)
      receive_frames(receiver, parts);
  }};
  start = clock_type::now();
  for (std::size_t i = 0; i < count; ++i)
    send_frames(sender, frames, "raw-b");
  consumer.join();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  return count / secs;
}

std::vector<double> raw_round_trips(const p2p0mq::frames& frames,
                                    std::size_t count, bool curve) {
  zmq::context_t ctx{1};
  curve_keys keys{curve};
  std::string a_endpoint;
  std::string b_endpoint;
  auto a_receiver = bound_router(ctx, "raw-a", a_endpoint, keys);
  auto b_receiver = bound_router(ctx, "raw-b", b_endpoint, keys);
  auto a_sender = sending_router(ctx, "raw-a", "raw-b", b_endpoint, keys);
  auto b_sender = sending_router(ctx, "raw-b", "raw-a", a_endpoint, keys);
  std::thread echo{[&] {
    std::vector<zmq::message_t> parts;
    for (std::size_t i = 0; i < count; ++i) {
      receive_frames(b_receiver, parts);
      send_frames(b_sender, frames, "raw-a");
    }
  }};
  std::vector<double> result;
  result.reserve(count);
  std::vector<zmq::message_t> parts;
  for (std::size_t i = 0; i < count; ++i) {
    auto t0 = clock_type::now();
    send_frames(a_sender, frames, "raw-b");
    receive_frames(a_receiver, parts);
    result.push_back(
        std::chrono::duration<double, std::micro>(clock_type::now() - t0)
            .count());
  }
  echo.join();
  return result;
}

} // namespace p2p0mq::bench
