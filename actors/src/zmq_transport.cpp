#include "p2p0mq/actors/zmq_transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <zmq.hpp>

#include "monitor.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

namespace {

/// How long a connection we closed may linger: libzmq removes its pipe once
/// its I/O thread has acknowledged the end, and the other side drops it once
/// it has read the end of the stream, which takes far less than this.
constexpr auto retire_time = std::chrono::seconds{1};

/// Whether libzmq will accept `endpoint` in `connect`. It checks the syntax
/// of a tcp address only after a connect routing id was set, and a refused
/// connect leaves that id set for the next connect, whatever peer that is
/// for. So we refuse what libzmq would refuse before touching the socket:
/// `tcp://`, then a letter, digit, `[` or `:`, then the characters libzmq
/// allows in an address (less `*`), with a numeric port after the last colon.
bool acceptable_endpoint(std::string_view endpoint) {
  constexpr std::string_view scheme = "tcp://";
  if (endpoint.substr(0, scheme.size()) != scheme)
    return false;
  auto address = endpoint.substr(scheme.size());
  if (address.empty())
    return false;
  auto alnum = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
  };
  auto first = address.front();
  if (!alnum(first) && first != '[' && first != ':')
    return false;
  for (auto c : address)
    if (!alnum(c) && c != '.' && c != '-' && c != ':' && c != '%' && c != ';' &&
        c != '[' && c != ']' && c != '_')
      return false;
  auto colon = address.rfind(':');
  return colon != std::string_view::npos && colon + 1 < address.size() &&
         std::isdigit(static_cast<unsigned char>(address[colon + 1])) != 0;
}

/// The sender's ROUTER socket. Exceptions of cppzmq stop here: every failure
/// becomes a `send_status` or an `errc`.
class zmq_transport final : public transport {
public:
  zmq_transport(zmq::context_t& context, const std::string& local_uuid,
                const config& settings, std::optional<curve_client> curve)
      : socket_(context, zmq::socket_type::router), curve_(std::move(curve)) {
    socket_.set(zmq::sockopt::routing_id, local_uuid);
    socket_.set(zmq::sockopt::router_mandatory, true);
    // A connection named by the routing id its peer announces (a new
    // address of a known peer, or a connect after a failed handshake) takes
    // over that id from a connection still there: the peer restarted.
    socket_.set(zmq::sockopt::router_handover, true);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, settings.send_high_water_mark);
    if (curve_) {
      socket_.set(zmq::sockopt::curve_publickey, curve_->keys.public_key);
      socket_.set(zmq::sockopt::curve_secretkey, curve_->keys.secret_key);
    }
  }

  zmq::socket_t& socket() noexcept {
    return socket_;
  }

  caf::error connect(const std::string& uuid,
                     const std::string& endpoint) override {
    auto i = endpoints_.find(uuid);
    if (i != endpoints_.end() && i->second == endpoint && !lost_.count(uuid))
      return caf::none;
    if (!acceptable_endpoint(endpoint))
      return make_error(errc::socket_error,
                        "cannot connect to '" + endpoint +
                            "': not a tcp://host:port address");
    if (curve_) {
      // The server key applies to the connects that follow.
      auto key = curve_->server_key(uuid);
      if (!key)
        return std::move(key.error());
      try {
        socket_.set(zmq::sockopt::curve_serverkey, *key);
      } catch (const zmq::error_t& e) {
        return make_error(errc::bad_certificate,
                          "the public key of " + uuid + ": " + e.what());
      }
    }
    auto now = std::chrono::steady_clock::now();
    prune_retired(now);
    // One connection per endpoint: a peer that claims the endpoint of
    // another takes it over (the other restarted under a new uuid, or one of
    // them lies); the other connects anew when it is next asked to. An
    // endpoint is connected again only a moment after we closed it: the
    // other side may still hold the old connection, and a ROUTER ignores a
    // second one under the same routing id for good.
    if (auto h = holders_.find(endpoint);
        h != holders_.end() && h->second != uuid) {
      disconnect_quietly(endpoint);
      lost_.insert(h->second);
      retire(now, std::string{}, endpoint);
      holders_.erase(h);
    }
    if (closed_.count(endpoint) > 0)
      return make_error(errc::peer_unreachable,
                        "the connection to " + endpoint +
                            " was closed a moment ago; connecting again later");
    try {
      if (i == endpoints_.end() && retired_.count(uuid) == 0) {
        // First connect to this peer: name the connection ourselves, so the
        // pipe exists, under the peer's uuid, as soon as connect returns.
        socket_.set(zmq::sockopt::connect_routing_id, uuid);
        socket_.connect(endpoint);
        endpoints_.emplace(uuid, endpoint);
      } else {
        // Another address for a known peer. The old pipe goes away only once
        // libzmq's I/O thread has acknowledged its end, and libzmq aborts on
        // a connect routing id that names a pipe still there. So, as
        // docs/PROTOCOL.md says, the id is set on the first connect only: this
        // connection is named by the routing id the peer announces in its
        // handshake (its receiver's, its uuid), and sends to it are refused as
        // unreachable until that handshake is done. The same goes for a
        // connection whose session libzmq ended after a failed handshake, or of
        // a peer we forgot lately: its pipe may not be gone yet.
        if (i != endpoints_.end()) {
          release(uuid, i->second);
          i->second = endpoint;
        } else {
          endpoints_.emplace(uuid, endpoint);
        }
        lost_.erase(uuid);
        socket_.connect(endpoint);
      }
      holders_[endpoint] = uuid;
    } catch (const zmq::error_t& e) {
      return make_error(errc::socket_error,
                        "cannot connect to '" + endpoint + "': " + e.what());
    }
    return caf::none;
  }

  void lost(const std::string& endpoint) override {
    for (auto& [uuid, at] : endpoints_)
      if (at == endpoint)
        lost_.insert(uuid);
  }

  void forget(const std::string& uuid) override {
    auto i = endpoints_.find(uuid);
    if (i == endpoints_.end())
      return;
    auto now = std::chrono::steady_clock::now();
    prune_retired(now);
    auto endpoint = std::move(i->second);
    endpoints_.erase(i);
    lost_.erase(uuid);
    auto h = holders_.find(endpoint);
    if (h != holders_.end() && h->second == uuid) {
      disconnect_quietly(endpoint);
      holders_.erase(h);
      retire(now, uuid, endpoint);
    } else {
      retire(now, uuid, std::string{});
    }
  }

  send_status send(const frames& xs, caf::error& err) override {
    std::array<std::string_view, frame_count> parts;
    std::copy(xs.begin(), xs.end(), parts.begin());
    return send_parts(parts, err);
  }

  send_status send_message(const message& msg, std::string_view local_uuid,
                           caf::error& err) override {
    std::string id_frame;
    return send_parts(msg.frame_views(local_uuid, id_frame), err);
  }

private:
  /// Hands one message's frames to the socket; ZeroMQ copies each into a
  /// frame of its own (those of 33 bytes or less, uuids among them, into
  /// the frame itself, without an allocation).
  send_status send_parts(const std::array<std::string_view, frame_count>& xs,
                         caf::error& err) {
    std::size_t index = 0;
    try {
      for (; index < xs.size(); ++index) {
        auto flags = zmq::send_flags::dontwait;
        if (index + 1 < xs.size())
          flags = flags | zmq::send_flags::sndmore;
        zmq::message_t part{xs[index].data(), xs[index].size()};
        if (!socket_.send(part, flags)) {
          // Only the first part can be refused: once it is accepted, libzmq
          // takes the rest of the message.
          err = make_error(errc::socket_error,
                           "the pipe to the next hop is full");
          return send_status::would_block;
        }
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == EHOSTUNREACH) {
        err =
            make_error(errc::peer_unreachable, "no connection to the next hop");
        return send_status::unreachable;
      }
      err = make_error(errc::socket_error, "sending frame " +
                                               std::to_string(index) +
                                               " failed: " + e.what());
      return send_status::failed;
    }
    return send_status::sent;
  }

  /// Closes the connection of `uuid` to `endpoint` if it holds that
  /// endpoint still (another peer may have taken it over).
  void release(const std::string& uuid, const std::string& endpoint) {
    auto h = holders_.find(endpoint);
    if (h == holders_.end() || h->second != uuid)
      return;
    disconnect_quietly(endpoint);
    holders_.erase(h);
  }

  /// Remembers, for `retire_time`, that we closed the connection of `uuid`
  /// and `endpoint` (either may be empty).
  void retire(std::chrono::steady_clock::time_point now,
              const std::string& uuid, const std::string& endpoint) {
    if (!uuid.empty())
      ++retired_[uuid];
    if (!endpoint.empty())
      ++closed_[endpoint];
    retired_order_.push_back({now, uuid, endpoint});
  }

  /// Forgets what was closed longer than `retire_time` ago.
  void prune_retired(std::chrono::steady_clock::time_point now) {
    auto drop = [](auto& counts, const std::string& key) {
      if (key.empty())
        return;
      auto i = counts.find(key);
      if (--i->second == 0)
        counts.erase(i);
    };
    while (!retired_order_.empty() &&
           now - retired_order_.front().at >= retire_time) {
      drop(retired_, retired_order_.front().uuid);
      drop(closed_, retired_order_.front().endpoint);
      retired_order_.pop_front();
    }
  }

  void disconnect_quietly(const std::string& endpoint) noexcept {
    try {
      socket_.disconnect(endpoint);
    } catch (const zmq::error_t& e) {
      // Already gone: nothing to undo.
    }
  }

  zmq::socket_t socket_;
  std::optional<curve_client> curve_;
  /// The endpoint each peer is connected to, by uuid.
  std::unordered_map<std::string, std::string> endpoints_;
  /// Peers whose connection libzmq gave up, or another peer took over.
  std::unordered_set<std::string> lost_;
  /// The peer whose connection each endpoint we are connected to is.
  std::unordered_map<std::string, std::string> holders_;
  /// What we closed within `retire_time`, oldest first.
  struct retirement {
    std::chrono::steady_clock::time_point at;
    std::string uuid;
    std::string endpoint;
  };
  std::deque<retirement> retired_order_;
  /// Peers forgotten within `retire_time` (with a count of retirements):
  /// their pipe may still be there, so a connect for them sets no routing
  /// id.
  std::unordered_map<std::string, std::size_t> retired_;
  /// Endpoints whose connection we closed within `retire_time`: not
  /// connected again until then.
  std::unordered_map<std::string, std::size_t> closed_;
};

} // namespace

std::unique_ptr<transport>
make_zmq_transport(zmq::context_t& context, const std::string& local_uuid,
                   const config& settings, std::optional<curve_client> curve,
                   std::shared_ptr<zmq::socket_t>* monitor) {
  auto result = std::make_unique<zmq_transport>(context, local_uuid, settings,
                                                std::move(curve));
  if (monitor)
    *monitor = detail::monitor_socket(context, result->socket());
  return result;
}

} // namespace p2p0mq
