#include "p2p0mq/actors/beacon.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ifaddrs.h>
#include <mutex>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>

#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"
#include "wake_fd.hpp"

namespace p2p0mq {

namespace detail {

/// Shared by the beacon's thread and its handle.
struct beacon_signal {
  wake_fd wake;
  std::mutex mutex;
  beacon_station::stats stats;
};

} // namespace detail

namespace {

/// A UDP socket, closed with its owner.
struct udp_socket {
  int fd = -1;
  explicit udp_socket(int x) : fd(x) {
  }
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;
  ~udp_socket() {
    if (fd >= 0)
      ::close(fd);
  }
};

caf::error socket_error(const std::string& what) {
  return make_error(errc::socket_error,
                    "beacon: " + what + ": " + std::strerror(errno));
}

/// The broadcast address of the interface `name` (the first that is up,
/// can broadcast and is not the loopback, for an empty name). The loopback
/// has no broadcast flag, but its network's broadcast address reaches every
/// socket on the host: that is what tests use.
caf::expected<in_addr> broadcast_address(const std::string& name) {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0)
    return socket_error("getifaddrs");
  std::optional<in_addr> result;
  for (auto* x = all; x != nullptr && !result; x = x->ifa_next) {
    if (x->ifa_addr == nullptr || x->ifa_addr->sa_family != AF_INET ||
        (x->ifa_flags & IFF_UP) == 0)
      continue;
    if (!name.empty() && name != x->ifa_name)
      continue;
    if ((x->ifa_flags & IFF_LOOPBACK) != 0) {
      if (name.empty())
        continue;
      in_addr lo{};
      ::inet_pton(AF_INET, "127.255.255.255", &lo);
      result = lo;
    } else if ((x->ifa_flags & IFF_BROADCAST) != 0 &&
               x->ifa_netmask != nullptr) {
      // The network's broadcast address, from the address and its mask (an
      // address added without `brd` has no broadcast address of its own).
      auto addr =
          reinterpret_cast<const sockaddr_in*>(x->ifa_addr)->sin_addr.s_addr;
      auto mask =
          reinterpret_cast<const sockaddr_in*>(x->ifa_netmask)->sin_addr.s_addr;
      in_addr bcast{};
      bcast.s_addr = addr | ~mask;
      result = bcast;
    }
  }
  ::freeifaddrs(all);
  if (!result)
    return make_error(errc::socket_error,
                      name.empty()
                          ? std::string{"beacon: no interface that is up and "
                                        "can broadcast"}
                          : "beacon: no IPv4 interface '" + name +
                                "' that is up and can broadcast");
  return *result;
}

void beacon_loop(caf::blocking_actor* self, std::shared_ptr<udp_socket> sock,
                 std::shared_ptr<detail::beacon_signal> sig,
                 std::shared_ptr<const config> settings, sockaddr_in to,
                 std::uint16_t port, peer_table_actor peers) {
  auto& d = settings->discovery;
  std::function<bool(const std::string&)> trusted;
  if (settings->encryption)
    trusted = [certs = cert_store{settings->public_certs(),
                                  settings->private_certs()}](
                  const std::string& uuid) {
      return static_cast<bool>(certs.public_key(uuid));
    };
  beacon_filter filter{settings->uuid, d, std::move(trusted)};
  auto ours = encode_beacon(beacon{settings->uuid, port});
  auto next = self->clock().now();
  pollfd fds[2] = {{sock->fd, POLLIN, 0}, {sig->wake.fd(), POLLIN, 0}};
  std::uint64_t sent = 0;
  auto publish = [&] {
    std::lock_guard<std::mutex> guard{sig->mutex};
    sig->stats.filter = filter.counts();
    sig->stats.sent = sent;
  };
  for (;;) {
    auto now = self->clock().now();
    if (now >= next) {
      if (::sendto(sock->fd, ours.data(), ours.size(), 0,
                   reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0)
        log(log_level::warning, log_category::connector,
            "could not send a beacon: ", std::strerror(errno));
      else
        ++sent;
      next = now + d.interval;
      publish();
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now);
    auto n = ::poll(fds, 2,
                    static_cast<int>(std::max<long long>(
                        0, static_cast<long long>(wait.count()))));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      log(log_level::error, log_category::connector,
          "the beacon stops: poll: ", std::strerror(errno));
      break;
    }
    if (fds[1].revents & POLLIN)
      break;
    if ((fds[0].revents & POLLIN) == 0)
      continue;
    // Drain what is there (bounded, so that our own beacon stays on time).
    for (int i = 0; i < 256; ++i) {
      char buf[max_beacon_size + 1];
      sockaddr_in from{};
      socklen_t from_size = sizeof(from);
      auto got = ::recvfrom(sock->fd, buf, sizeof(buf), MSG_DONTWAIT,
                            reinterpret_cast<sockaddr*>(&from), &from_size);
      if (got < 0)
        break;
      char host[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &from.sin_addr, host, sizeof(host));
      auto x = filter.take(std::string_view{buf, static_cast<std::size_t>(got)},
                           host, self->clock().now());
      if (!x)
        continue;
      log(log_level::info, log_category::connector, "beacon of ",
          short_uuid(x->uuid), " from ", host, ":", x->port);
      caf::anon_send(peers, learn_atom::value, x->uuid, std::string{host},
                     x->port, peer_origin::beacon);
    }
    publish();
  }
  publish();
}

} // namespace

void beacon_station::stop() {
  if (signal_)
    signal_->wake.raise();
}

beacon_station::stats beacon_station::counters() const {
  if (!signal_)
    return {};
  std::lock_guard<std::mutex> guard{signal_->mutex};
  return signal_->stats;
}

caf::expected<beacon_station>
spawn_beacon(caf::actor_system& sys, std::shared_ptr<const config> settings,
             std::uint16_t port, peer_table_actor peers) {
  auto& d = settings->discovery;
  auto address = broadcast_address(d.interface);
  if (!address)
    return std::move(address.error());
  auto sock = std::make_shared<udp_socket>(
      ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock->fd < 0)
    return socket_error("socket");
  int on = 1;
  // Every local peer of the host hears the beacons: each binds the port.
  if (::setsockopt(sock->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      ::setsockopt(sock->fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) != 0)
    return socket_error("setsockopt");
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  local.sin_port = htons(d.port);
  if (::bind(sock->fd, reinterpret_cast<const sockaddr*>(&local),
             sizeof(local)) != 0)
    return socket_error("bind to UDP port " + std::to_string(d.port));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = *address;
  to.sin_port = htons(d.port);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &to.sin_addr, text, sizeof(text));
  log(log_level::info, log_category::connector, "beacons of ",
      short_uuid(settings->uuid), " go to ", text, ":", d.port, " every ",
      std::chrono::duration<double>(d.interval).count(), " s");
  beacon_station result;
  result.signal_ = std::make_shared<detail::beacon_signal>();
  result.handle_ =
      sys.spawn<caf::detached>(beacon_loop, std::move(sock), result.signal_,
                               std::move(settings), to, port, std::move(peers));
  return result;
}

} // namespace p2p0mq
