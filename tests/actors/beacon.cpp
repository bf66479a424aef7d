// LAN beacons on the loopback: local peers that are told no address find
// each other, an untrusted key is never connected and is logged once, and a
// flood of forged beacons neither grows the peer table past max-peers nor
// makes the peer dial faster than its budget.
#include "p2p0mq/actors/beacon.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/payload.hpp"
#include "support/log_capture.hpp"
#include "support/loopback.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using p2p0mq::peer_origin;
using p2p0mq::peer_state;
using p2p0mq::testing::loopback;
using p2p0mq::testing::wait_until;

namespace {

/// A UDP port nobody uses now, chosen by the system (the beacons of a test
/// share it).
std::uint16_t free_udp_port() {
  auto fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in x{};
  x.sin_family = AF_INET;
  x.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&x), sizeof(x)) == 0);
  socklen_t size = sizeof(x);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&x), &size) == 0);
  ::close(fd);
  return ntohs(x.sin_port);
}

/// Settings with beacons on the loopback at `port`.
p2p0mq::config beaconing(const std::string& uuid, std::uint16_t port) {
  auto result = p2p0mq::testing::test_settings(uuid);
  result.discovery.beacons = true;
  result.discovery.interface = "lo";
  result.discovery.port = port;
  result.discovery.interval = 200ms;
  return result;
}

/// Sends `bytes` to the beacon port from the loopback address `from`.
class forger {
public:
  forger(const std::string& from, std::uint16_t port)
      : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) ==
            0);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  ~forger() {
    ::close(fd_);
  }

  void send(const std::string& bytes) {
    ::sendto(fd_, bytes.data(), bytes.size(), 0,
             reinterpret_cast<const sockaddr*>(&to_), sizeof(to_));
  }

private:
  int fd_;
  sockaddr_in to_{};
};

} // namespace

TEST_CASE("beacons: two local peers told no address find each other on the "
          "loopback and connect",
          "[discovery][beacon]") {
  loopback net;
  auto port = free_udp_port();
  auto a = net.start(beaconing("beacon-a-01", port));
  auto b = net.start(beaconing("beacon-b-02", port));
  REQUIRE(a->beacon());
  REQUIRE(b->beacon());
  REQUIRE(net.connected_both_ways(*a, *b, 10000ms));
  auto x = a->find_peer(b->uuid());
  auto y = b->find_peer(a->uuid());
  REQUIRE(x);
  REQUIRE(y);
  // The first to hear the other's beacon greeted it; the other learnt of it
  // from that hello.
  CHECK((x->origin == peer_origin::beacon || y->origin == peer_origin::beacon));
  CHECK(x->host == "127.0.0.1");
  CHECK(a->beacon().counters().sent > 0);
  CHECK(a->beacon().counters().filter.own > 0);
}

TEST_CASE("beacons: a peer whose key is not trusted is never connected, and "
          "is logged once",
          "[discovery][beacon]") {
  auto& log = p2p0mq::testing::log_capture::install();
  auto mark = log.mark();
  loopback net;
  auto port = free_udp_port();
  auto a = net.start(beaconing("trusting-01", port));
  // A stranger with certificates of its own, unknown to `a`.
  p2p0mq::testing::temp_dir elsewhere;
  auto settings = beaconing("stranger-02", port);
  settings.public_cert_dir = elsewhere / "public";
  settings.private_cert_dir = elsewhere / "private";
  auto c = net.start(settings);
  // Ten beacons of the stranger heard at least.
  REQUIRE(wait_until(
      net.sys,
      [&] {
        auto x = a->beacon().counters().filter;
        return x.untrusted + x.repeated >= 10;
      },
      10000ms));
  CHECK(a->beacon().counters().filter.untrusted == 1);
  CHECK(log.count(mark, {"stranger-02", "no trusted certificate"}) == 1);
  auto x = a->find_peer("stranger-02");
  CHECK((!x || x->state != peer_state::connected));
  // The stranger refuses `a` likewise.
  auto y = c->find_peer(a->uuid());
  CHECK((!y || y->state != peer_state::connected));
}

TEST_CASE("beacons: 100,000 forged beacons of 10,000 uuids from 50 addresses "
          "keep the table within max-peers and the new peers within the "
          "budget, and a legitimate peer's echo is still answered",
          "[discovery][beacon]") {
  loopback net;
  auto port = free_udp_port();
  auto settings = beaconing("target-01", port);
  settings.max_peers = 50;
  // Without CURVE: every forged uuid counts as trusted, so the budget and
  // the table's bound are what stop them.
  settings.encryption = false;
  auto a = net.start(settings);
  auto plain = p2p0mq::testing::test_settings("friend-02");
  plain.encryption = false;
  auto b = net.start(plain);
  REQUIRE(!a->add_concern("echo", p2p0mq::echo()));
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.connected_both_ways(*a, *b, 10000ms));
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::unique_ptr<forger>> forgers;
    for (int i = 2; i < 52; ++i)
      forgers.push_back(
          std::make_unique<forger>("127.0.0." + std::to_string(i), port));
    for (int i = 0; i < 100000; ++i) {
      auto uuid = "forged-" + std::to_string(i % 10000);
      forgers[static_cast<std::size_t>(i) % forgers.size()]->send(
          p2p0mq::encode_beacon(
              p2p0mq::beacon{uuid, static_cast<std::uint16_t>(1 + i % 60000)}));
    }
  }
  // Let what got through be handled.
  auto echoed = b->request(
      a->uuid(), "echo", p2p0mq::payload_builder{}.add_integer("n", 1).build(),
      caf::timespan{10s});
  INFO((echoed ? "" : p2p0mq::render(echoed.error())));
  CHECK(echoed);
  auto counts = a->beacon().counters().filter;
  auto elapsed = std::chrono::steady_clock::now() - t0;
  auto intervals =
      static_cast<std::uint64_t>(elapsed / settings.discovery.interval + 1);
  INFO("received " << counts.received << ", rate limited "
                   << counts.rate_limited << ", repeated " << counts.repeated
                   << ", over budget " << counts.over_budget << ", taken "
                   << counts.taken << " in " << intervals << " intervals");
  CHECK(counts.received > 0);
  CHECK(counts.rate_limited > 0);
  // Some got through, each a new peer the table greeted.
  CHECK(counts.taken > 0);
  CHECK(counts.over_budget > 0);
  // New peers: at most the budget per interval.
  CHECK(counts.taken <=
        intervals * settings.discovery.beacon_peers_per_interval);
  auto peers = a->peers();
  REQUIRE(peers);
  CHECK(peers->size() <= settings.max_peers);
  std::size_t forged = 0;
  for (auto& p : *peers)
    forged += p.origin == peer_origin::beacon ? 1 : 0;
  CHECK(forged > 0);
  auto friend_record = a->find_peer(b->uuid());
  REQUIRE(friend_record);
  CHECK(friend_record->state == peer_state::connected);
}
