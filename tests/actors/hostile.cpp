// Hostile input against a live local peer on 127.0.0.1: raw ZeroMQ clients
// (a DEALER of our own, speaking whatever we like) and raw TCP clients (ZMTP
// written by hand, or plain garbage). Throughout, a legitimate peer keeps
// pinging the attacked one, and the attacked one's memory stays bounded.
// Every test prints the resident set size it saw, for RELIABILITY.md.

#include "p2p0mq/actors/local_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/payload.hpp"
#include "support/log_capture.hpp"
#include "support/loopback.hpp"
#include "support/raw_wire.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using p2p0mq::config;
using p2p0mq::local_peer;
using p2p0mq::message;
using p2p0mq::payload;
using p2p0mq::payload_builder;
using p2p0mq::peer_state;
using p2p0mq::testing::wire_frames;
using p2p0mq::testing::zmq_client;

namespace {

// How much the resident set may grow over a test, by build. Without a
// sanitizer the most measured is +18 MiB (the decoded breadcrumbs, whose
// pages malloc keeps) and +8.3 MiB (back-pressure).
#if defined(__SANITIZE_ADDRESS__)
/// AddressSanitizer keeps freed memory in quarantine (256 MiB at most) and
/// adds its own shadow: the resident set grows with what passed through.
constexpr std::size_t rss_allowance_kib = 320 * 1024;
#elif defined(__SANITIZE_THREAD__)
/// ThreadSanitizer maps shadow and meta memory for every page the program
/// touches (several times the page itself) and keeps the history of every
/// thread: measured +65 MiB over the hello flood (1500 connections, each
/// through libzmq's I/O thread), +53 MiB over back-pressure and +48 MiB
/// after the breadcrumbs.
constexpr std::size_t rss_allowance_kib = 160 * 1024;
#else
constexpr std::size_t rss_allowance_kib = 48 * 1024;
#endif

/// The resident set size of this process (`VmRSS`), in KiB.
std::size_t rss_kib() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoul(line.substr(6));
  return 0;
}

/// A port on 127.0.0.1 where nothing listens (bound, then let go).
std::uint16_t closed_port() {
  auto fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// -- raw TCP ------------------------------------------------------------------

/// A plain TCP connection to 127.0.0.1:`port`; writes give up after 5 s
/// without progress.
class tcp_client {
public:
  explicit tcp_client(std::uint16_t port)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    timeval limit{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0);
  }

  ~tcp_client() {
    ::close(fd_);
  }

  tcp_client(const tcp_client&) = delete;
  tcp_client& operator=(const tcp_client&) = delete;

  /// Writes `bytes`; returns how many went before the peer closed the
  /// connection or stopped reading.
  std::size_t write(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      auto n =
          ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  /// Whether the peer closed the connection within `limit` (reading and
  /// discarding what it sends meanwhile).
  bool closed_within(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd_, POLLIN, 0};
      auto ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready <= 0)
        continue;
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        return true;
    }
  }

  /// Sends a ZMTP 3.0 greeting with `mechanism` and reads the peer's, as a
  /// ZeroMQ client does before its handshake commands (libzmq takes a
  /// command that comes with the greeting as unexpected). Returns whether
  /// the peer's greeting came within 5 s.
  bool greet(std::string_view mechanism = "NULL") {
    std::string g(64, '\0');
    g[0] = '\xff';
    g[8] = '\x01';
    g[9] = '\x7f';
    g[10] = 3;
    g[11] = 0;
    std::memcpy(&g[12], mechanism.data(), mechanism.size());
    if (write(g) != g.size())
      return false;
    std::size_t got = 0;
    char buf[64];
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got < sizeof buf && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      auto n = ::recv(fd_, buf + got, sizeof buf - got, 0);
      if (n <= 0)
        return false;
      got += static_cast<std::size_t>(n);
    }
    return got == sizeof buf;
  }

  /// Ends our side, then waits for the peer to close: it has handled
  /// everything we wrote by then.
  bool finish(std::chrono::milliseconds limit = 5s) {
    ::shutdown(fd_, SHUT_WR);
    return closed_within(limit);
  }

private:
  int fd_;
};

/// The header of a ZMTP frame of `size` bytes.
std::string zmtp_header(std::uint64_t size, bool more, bool command = false) {
  std::string out;
  char flags = static_cast<char>((more ? 1 : 0) | (command ? 4 : 0));
  if (size > 255) {
    out += static_cast<char>(flags | 2);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((size >> (8 * i)) & 0xff);
  } else {
    out += flags;
    out += static_cast<char>(size);
  }
  return out;
}

std::string zmtp_frame(std::string_view body, bool more, bool command = false) {
  return zmtp_header(body.size(), more, command) + std::string{body};
}

/// The READY command of a DEALER whose routing id is `identity`.
std::string zmtp_ready(std::string_view identity,
                       std::string_view socket_type = "DEALER") {
  std::string body = "\x05READY";
  auto property = [&](std::string_view name, std::string_view value) {
    body += static_cast<char>(name.size());
    body += name;
    auto n = static_cast<std::uint32_t>(value.size());
    for (int i = 3; i >= 0; --i)
      body += static_cast<char>((n >> (8 * i)) & 0xff);
    body += value;
  };
  property("Socket-Type", socket_type);
  property("Identity", identity);
  return zmtp_frame(body, false, true);
}

std::string zmtp_message(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += zmtp_frame(parts[i], i + 1 < parts.size());
  return out;
}

payload hello_body(std::uint16_t port) {
  return payload_builder{}
      .add_string("host", "127.0.0.1")
      .add_integer("port", port)
      .build();
}

// -- the attacked peer and its friend -----------------------------------------

/// The attacked peer `a` (with an echo concern) and a legitimate peer `b`
/// connected to it.
struct hostile_fixture {
  explicit hostile_fixture(bool encryption,
                           const std::function<void(config&)>& tune = nullptr)
      : logs(p2p0mq::testing::log_capture::install()) {
    auto sa = p2p0mq::testing::test_settings("victim-0001");
    sa.encryption = encryption;
    if (tune)
      tune(sa);
    a = net.start(sa);
    auto sb = p2p0mq::testing::test_settings("friend-0001");
    sb.encryption = encryption;
    b = net.start(sb);
    REQUIRE(!a->add_concern(p2p0mq::echo_command, p2p0mq::echo()));
    REQUIRE(!b->add_peer(a->uuid(), "127.0.0.1", a->port()));
    REQUIRE(net.connected_both_ways(*a, *b, 10s));
    REQUIRE(ping());
    rss_start = rss_kib();
    std::printf("hostile: start: rss %zu KiB\n", rss_start);
  }

  /// Whether `b`'s echo request to `a` comes back, with its payload.
  bool ping() {
    auto body = payload_builder{}.add_integer("n", ++pings).build();
    auto reply = b->request(a->uuid(), p2p0mq::echo_command, body, 10s);
    if (!reply) {
      UNSCOPED_INFO("ping failed: " << p2p0mq::render(reply.error()));
      return false;
    }
    return reply->payload == body;
  }

  /// After an attack: `b` still gets its answer, `a` still sees `b`
  /// CONNECTED, and the resident set stays within the allowance.
  void survived(const char* attack) {
    INFO(attack);
    CHECK(ping());
    CHECK(net.sees(*a, *b, peer_state::connected));
    auto now = rss_kib();
    std::printf(
        "hostile: %s: rss %zu KiB (%+lld KiB since start)\n", attack, now,
        static_cast<long long>(now) - static_cast<long long>(rss_start));
    CHECK(now < rss_start + rss_allowance_kib);
  }

  /// Waits until `a`'s receiver counted `n` malformed messages.
  bool malformed_reach(std::uint64_t n) {
    return p2p0mq::testing::wait_until(
        net.sys, [&] { return a->receiver().malformed() >= n; }, 10s);
  }

  p2p0mq::testing::log_capture& logs;
  p2p0mq::testing::loopback net;
  std::unique_ptr<local_peer> a;
  std::unique_ptr<local_peer> b;
  std::int64_t pings = 0;
  std::size_t rss_start = 0;
  zmq::context_t attacker{1};
};

} // namespace

// -- garbage and malformed messages -------------------------------------------

TEST_CASE("a peer given garbage, wrong frame counts, unknown kinds and "
          "commands and hostile msgpack keeps answering a legitimate peer",
          "[hostile]") {
  // Summaries of the log every second, so that the test sees them.
  hostile_fixture fix{false, [](config& cfg) {
                        cfg.log_summary_interval = std::chrono::seconds{1};
                      }};
  auto port = fix.a->port();
  auto from = fix.logs.mark();
  {
    // Bytes that are no ZMTP greeting. libzmq takes an HTTP request for
    // the start of a ZMTP 1.0 handshake and closes the connection after
    // its handshake interval (30 s), so that one is only shown harmless.
    tcp_client http{port};
    http.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    std::mt19937 rng{7};
    std::string noise(64 * 1024, '\0');
    for (auto& c : noise)
      c = static_cast<char>(rng());
    noise[0] = '\x00';
    tcp_client random{port};
    random.write(noise);
    CHECK(random.closed_within(5s));
    // A greeting, then frames with reserved flags, or a socket type that
    // cannot talk to a ROUTER.
    // Reserved flag bits are ignored: this is a message of one frame.
    tcp_client flags{port};
    REQUIRE(flags.greet());
    flags.write(zmtp_ready("evil-tcp-1") + "\xf0\x01x");
    CHECK(fix.malformed_reach(1));
    tcp_client pub{port};
    REQUIRE(pub.greet());
    pub.write(zmtp_ready("evil-tcp-2", "PUB"));
    CHECK(pub.closed_within(5s));
    // A greeting of another protocol version, and one cut short.
    tcp_client old{port};
    old.write(std::string{"\xff\0\0\0\0\0\0\0\x01\x7f\x09\x00", 12} +
              std::string(52, 'v'));
    CHECK(old.closed_within(5s));
  }
  fix.survived("garbage before and after the ZMTP greeting");

  zmq_client evil{fix.attacker, port, "evil-0001"};
  std::uint64_t malformed = 1;
  auto hb = [](std::string kind, std::string command, std::string id,
               std::string body) {
    return std::vector<std::string>{"",
                                    "",
                                    std::move(kind),
                                    std::move(command),
                                    std::move(id),
                                    std::move(body)};
  };
  // Wrong frame counts: 1, 6, 8 and 300 frames (with the routing id).
  evil.send({"x"});
  evil.send({"", "", "\x01", "hb", "\x01"});
  evil.send({"", "", "\x01", "hb", "\x01", "\x80", "extra"});
  evil.send(std::vector<std::string>(299, "frame"));
  malformed += 4;
  // Unknown, empty and long kinds; an empty command; broken ids.
  for (auto kind :
       {std::string{"\x00", 1}, std::string{"\x03"}, std::string{"\xff"},
        std::string{}, std::string{"\x01\x01"}})
    evil.send(hb(kind, "hb", "\x01", "\x80"));
  evil.send(hb("\x01", "", "\x01", "\x80"));
  for (auto id : {"\xc1", "\xff", "\xcf\x01", "", "\xa1x"})
    evil.send(hb("\x01", "hb", id, "\x80"));
  malformed += 11;
  // Payloads: not a map, keys not strings, nested 100000 deep, and arrays,
  // maps, strings and blobs declaring 4 GiB that are not there.
  std::string deep = "\x81\xa1x" + std::string(100000, '\x91') + "\xc0";
  for (auto body : {std::string{"\x90"}, std::string{"\x81\x01\x01"}, deep,
                    std::string{"\x81\xa1x\xdd\xff\xff\xff\xff"},
                    std::string{"\x81\xa1x\xdf\xff\xff\xff\xff"},
                    std::string{"\xdf\xff\xff\xff\xff"},
                    std::string{"\x81\xa1x\xdb\xff\xff\xff\xff"},
                    std::string{"\x81\xa1x\xc6\xff\xff\xff\xff"},
                    std::string{"\x81\xa1x\xc9\xff\xff\xff\xff\x01"},
                    std::string{"\xc1"}, std::string{}})
    evil.send(hb("\x01", "hb", "\x01", body));
  malformed += 11;
  CHECK(fix.malformed_reach(malformed));
  // Each one dropped and counted by its reason.
  auto by_reason = fix.a->receiver().malformed_by_reason();
  CHECK(by_reason["bad frame count"] == 1 + 4);
  CHECK(by_reason["bad kind"] == 5);
  CHECK(by_reason["empty command"] == 1);
  CHECK(by_reason["bad message id"] == 5);
  CHECK(by_reason["bad payload"] == 11);
  // Logged as the log limits say: the first of each source in full, the
  // rest in summaries (one a second here) whose counts add up.
  CHECK(fix.logs.contains(
      from, {"wire: dropped a message of 2 frames from \"evil-tcp-1\""}));
  CHECK(fix.logs.contains(
      from, {"wire: dropped a message of 2 frames from \"evil-0001\""}));
  auto summarised = [&] {
    std::uint64_t n = 0;
    for (auto& line : fix.logs.lines(
             from, {"malformed messages from \"evil-0001\" in the last"})) {
      auto at = line.find("dropped ");
      REQUIRE(at != std::string::npos);
      auto count = line.substr(at + 8, line.find(' ', at + 8) - at - 8);
      count.erase(std::remove(count.begin(), count.end(), ','), count.end());
      n += std::stoull(count);
    }
    return n;
  };
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys, [&] { return summarised() == malformed - 2; }, 10s));
  CHECK(fix.logs.count(from, {"\"evil-0001\""}) <= 4);
  fix.survived("wrong frame counts, kinds, ids and msgpack");

  // Well-formed messages that make no sense: unknown commands, a hello
  // with fields of the wrong types, a reply nobody asked for.
  evil.send(hb("\x01", "no-such-command", "\x01", "\x80"));
  evil.send(hb("\x02", "echo", "\x05", "\x80"));
  auto bad_hello = std::string{"\x82\xa4host\x05\xa4port\xa1x"};
  evil.send(hb("\x01", "hello", "\x02", bad_hello));
  // An ask-around question with 100,000 breadcrumbs (600 KB: under the
  // frame limit, so it reaches the concern).
  std::vector<std::string> crumbs;
  for (int i = 0; i < 100000; ++i) {
    auto s = std::to_string(i);
    crumbs.push_back(std::string(8 - s.size(), '0') + s);
  }
  auto question = payload_builder{}
                      .add_bytes("target", "nobody-0001")
                      .add_bytes_array("breadcrumbs", crumbs)
                      .build();
  REQUIRE(question.bytes().size() > 500000);
  evil.send(hb("\x01", "r", "\x03", question.bytes()));
  evil.send(hb("\x02", "r", "\x04", question.bytes()));
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        // The two questions, one previous hop: the first in full, the
        // second in the summary that follows within the interval.
        return fix.logs.count(from, {"100000 breadcrumbs, at most 64"}) == 1 &&
               fix.logs.contains(from,
                                 {"dropped 1 r messages from \"evil-0001\""}) &&
               fix.logs.contains(from, {"unknown command 'no-such-command'"}) &&
               fix.logs.contains(from, {"dropped \"hello\" request 2"});
      },
      10s));
  fix.survived("unknown commands, bad hello, 100000 breadcrumbs");
  CHECK(fix.a->receiver().malformed() == malformed);
}

// -- huge frames --------------------------------------------------------------

TEST_CASE("a peer closes the connection of a client announcing a 100 MB "
          "frame before reading it, and keeps answering a legitimate peer",
          "[hostile]") {
  hostile_fixture fix{false};
  auto port = fix.a->port();
  REQUIRE(fix.a->context().settings->max_frame_size == 1 << 20);
  constexpr std::uint64_t huge = 100'000'000;
  {
    // Raw TCP: the header of a 100 MB frame, then as much of its body as
    // the peer takes, written from one reused 1 MiB buffer.
    tcp_client tcp{port};
    REQUIRE(tcp.greet());
    auto head = zmtp_ready("evil-tcp-3") + zmtp_frame("", true) +
                zmtp_header(huge, false);
    REQUIRE(tcp.write(head) == head.size());
    std::string chunk(1 << 20, 'z');
    std::uint64_t taken = 0;
    while (taken < huge) {
      auto n = tcp.write(chunk);
      taken += n;
      if (n < chunk.size())
        break;
    }
    std::printf("hostile: 100 MB frame over TCP: %llu bytes taken before the "
                "peer closed\n",
                static_cast<unsigned long long>(taken));
    CHECK(taken < huge);
    CHECK(tcp.closed_within(5s));
  }
  fix.survived("a 100 MB frame over raw TCP");
  {
    // ZeroMQ: a 100 MB message straight from pages that were never written
    // (zero-copy), so the client side costs no memory either.
    void* pages =
        ::mmap(nullptr, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(pages != MAP_FAILED);
    {
      zmq::context_t ctx{1};
      zmq::socket_t events{ctx, zmq::socket_type::pair};
      zmq_client evil{ctx, port, "evil-0002", [](zmq::socket_t& s) {
                        REQUIRE(zmq_socket_monitor(s.handle(), "inproc://mon",
                                                   ZMQ_EVENT_DISCONNECTED) ==
                                0);
                      }};
      events.set(zmq::sockopt::rcvtimeo, 10000);
      events.connect("inproc://mon");
      evil.socket.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
      zmq::message_t big{pages, huge, [](void*, void*) {}, nullptr};
      evil.socket.send(big, zmq::send_flags::none);
      // The peer ends the connection once it has read the frame's size.
      zmq::message_t event;
      auto got = events.recv(event);
      CHECK(got.has_value());
      if (got) {
        std::uint16_t id = 0;
        std::memcpy(&id, event.data(), sizeof id);
        CHECK(id == ZMQ_EVENT_DISCONNECTED);
      }
    }
    ::munmap(pages, huge);
  }
  fix.survived("a 100 MB frame from a ZeroMQ client");
  // Neither frame was read: nothing reached the decoder.
  CHECK(fix.a->receiver().malformed() == 0);
}

// -- floods -------------------------------------------------------------------

TEST_CASE("a flood of hellos with fresh uuids keeps the peer table within "
          "max_peers and the peer answering a legitimate peer",
          "[hostile]") {
  constexpr std::size_t limit = 64;
  hostile_fixture fix{false, [](config& cfg) { cfg.max_peers = limit; }};
  auto port = fix.a->port();
  auto nowhere = closed_port();
  auto from = fix.logs.mark();
  auto flood_start = std::chrono::steady_clock::now();
  // 1500 fresh uuids, each on a TCP connection of its own, each claiming an
  // address where nothing listens: every one is greeted back, then evicted
  // for the next.
  constexpr int flood = 1500;
  for (int i = 0; i < flood; ++i) {
    auto uuid = "flood-" + std::to_string(100000 + i);
    tcp_client c{port};
    REQUIRE(c.greet());
    c.write(zmtp_ready(uuid) +
            zmtp_message(wire_frames(uuid, fix.a->uuid(), "hello",
                                     hello_body(nowhere))));
    REQUIRE(c.finish());
  }
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys, [&] { return fix.a->receiver().received() >= flood; }, 20s));
  auto table = fix.a->peers();
  REQUIRE(table);
  CHECK(table->size() <= limit);
  fix.survived("1500 hellos from fresh uuids");
  // Through one connection: hellos from made-up sources. Each becomes a
  // peer ROUTED through the client, which nothing evicts: once the table
  // is full they are refused.
  constexpr int ghosts = 500;
  zmq_client relay{fix.attacker, port, "evil-relay"};
  for (int i = 0; i < ghosts; ++i)
    relay.send(wire_frames("ghost-" + std::to_string(100000 + i), fix.a->uuid(),
                           "hello", hello_body(nowhere), "evil-relay"));
  // Last, the first ghost again, with a new port: the peer table takes
  // the new address once it handled every hello before it (they all came
  // through one connection, in order).
  auto moved = static_cast<std::uint16_t>(nowhere + 1);
  relay.send(wire_frames("ghost-100000", fix.a->uuid(), "hello",
                         hello_body(moved), "evil-relay"));
  REQUIRE(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        auto p = fix.a->find_peer("ghost-100000");
        return p && p->port == moved;
      },
      30s));
  table = fix.a->peers();
  auto flood_time = std::chrono::steady_clock::now() - flood_start;
  fix.survived("500 hellos from made-up sources through one client");
  REQUIRE(table);
  // The friend (CONNECTED, not evictable) and the first 63 ghosts, each in
  // the place of an idle flood peer; the other 437 were refused.
  std::vector<std::string> routed;
  for (auto& p : *table)
    if (p.state == peer_state::routed)
      routed.push_back(p.uuid);
  std::sort(routed.begin(), routed.end());
  std::vector<std::string> first_ghosts;
  for (std::size_t i = 0; i < limit - 1; ++i)
    first_ghosts.push_back("ghost-" + std::to_string(100000 + i));
  std::printf("hostile: flood: %zu peers kept (%zu ROUTED), limit %zu, "
              "%.1f s\n",
              table->size(), routed.size(), limit,
              std::chrono::duration<double>(flood_time).count());
  CHECK(table->size() == limit);
  CHECK(fix.a->find_peer(fix.b->uuid()));
  CHECK(routed == first_ghosts);
  // At most one warning per 10 s, and one at the first eviction: a flood
  // shorter than 10 s gives exactly one, not one per hello.
  auto warnings = fix.logs.count(from, {"the peer table is full"});
  auto intervals = static_cast<std::size_t>(flood_time / 10s);
  CHECK(warnings >= 1);
  CHECK(warnings <= 1 + intervals);
  CHECK(fix.logs.contains(from, {"the peer table is full (64 peers): 1 idle "
                                 "peers evicted and 0 new peers refused"}));
  // What the flood leaves in the sender: for each hello the table took
  // (the flood's, the 63 ghosts' and the last), at most our reply and our
  // own hello, waiting for an address where nothing listens or for a route
  // to the relay, which has no address.
  auto m = fix.a->metrics();
  REQUIRE(m);
  std::printf(
      "hostile: flood: sender holds %llu messages, %llu dropped\n",
      static_cast<unsigned long long>(m->sender.queued + m->sender.held),
      static_cast<unsigned long long>(m->sender.dropped));
  CHECK(m->sender.queued + m->sender.held <= 2 * (flood + routed.size() + 1));
}

// -- CURVE --------------------------------------------------------------------

TEST_CASE("clients without a trusted key get nothing through a peer with "
          "encryption on, which keeps answering a legitimate peer",
          "[hostile]") {
  hostile_fixture fix{true};
  auto port = fix.a->port();
  auto server_key = fix.a->certificates()->public_key(fix.a->uuid());
  REQUIRE(server_key);
  auto failures = fix.a->receiver().handshake_failures();
  auto hellos_in = [&] {
    auto m = fix.a->metrics();
    REQUIRE(m);
    for (auto& c : m->concerns)
      if (c.command == "hello")
        return c.in.messages;
    return std::uint64_t{0};
  };
  auto hellos_before = hellos_in();
  {
    // A CURVE client with a key pair of its own, unknown to the peer.
    char pub[41];
    char sec[41];
    REQUIRE(zmq_curve_keypair(pub, sec) == 0);
    std::vector<std::unique_ptr<zmq_client>> strangers;
    for (int i = 0; i < 20; ++i)
      strangers.push_back(std::make_unique<zmq_client>(
          fix.attacker, port, "stranger-" + std::to_string(1000 + i),
          [&](zmq::socket_t& s) {
            s.set(zmq::sockopt::curve_serverkey, *server_key);
            s.set(zmq::sockopt::curve_publickey, std::string{pub});
            s.set(zmq::sockopt::curve_secretkey, std::string{sec});
          }));
    for (std::size_t i = 0; i < strangers.size(); ++i) {
      auto uuid = "stranger-" + std::to_string(1000 + i);
      strangers[i]->send(
          wire_frames(uuid, fix.a->uuid(), "hello", hello_body(port)));
    }
    // A client without CURVE, and raw TCP with a CURVE greeting and junk.
    zmq_client plain{fix.attacker, port, "plain-0001"};
    plain.send(
        wire_frames("plain-0001", fix.a->uuid(), "hello", hello_body(port)));
    tcp_client junk{port};
    REQUIRE(junk.greet("CURVE"));
    junk.write(zmtp_frame("\x05HELLO junk", false, true));
    CHECK(junk.closed_within(5s));
    CHECK(p2p0mq::testing::wait_until(
        fix.net.sys,
        [&] { return fix.a->receiver().handshake_failures() >= failures + 20; },
        10s));
  }
  fix.survived("21 clients without a trusted key, CURVE junk");
  // None of their hellos got through.
  auto table = fix.a->peers();
  REQUIRE(table);
  REQUIRE(table->size() == 1);
  CHECK(table->front().uuid == fix.b->uuid());
  CHECK(fix.a->receiver().impostors() == 0);
  CHECK(hellos_in() == hellos_before);
}

// -- back-pressure ------------------------------------------------------------

namespace {

/// What became of the messages a concern handed to the sender, by message
/// id. Written by the concern's thread, read by the test's: under a lock.
class tally {
public:
  struct counts {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;
    std::uint64_t queue_full = 0;
    std::uint64_t expired = 0;
    std::uint64_t other = 0;
    std::uint64_t failed = 0;
  };

  void sent(std::uint64_t id) {
    std::lock_guard<std::mutex> guard{mutex_};
    ++counts_.sent;
    ++outcomes_[id];
  }

  void dropped(std::uint64_t id, const caf::error& err) {
    std::lock_guard<std::mutex> guard{mutex_};
    ++counts_.dropped;
    if (err == p2p0mq::errc::send_queue_full)
      ++counts_.queue_full;
    else if (err == p2p0mq::errc::message_expired)
      ++counts_.expired;
    else
      ++counts_.other;
    ++outcomes_[id];
  }

  void failed() {
    std::lock_guard<std::mutex> guard{mutex_};
    ++counts_.failed;
  }

  counts get() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return counts_;
  }

  /// The number of outcomes of each message id seen.
  std::map<std::uint64_t, int> outcomes() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return outcomes_;
  }

private:
  mutable std::mutex mutex_;
  counts counts_;
  std::map<std::uint64_t, int> outcomes_;
};

struct producer_state {
  static inline const char* name = "test.producer";
};

/// A concern that only counts the outcomes of its messages, into `t`, and
/// asks for every failed send to be tried again.
p2p0mq::owner_actor::behavior_type
producer(p2p0mq::owner_actor::stateful_pointer<producer_state>,
         std::shared_ptr<tally> t) {
  return {
      [t](p2p0mq::sent_atom, const std::vector<message>& msgs) {
        for (auto& msg : msgs)
          t->sent(msg.id);
      },
      [t](p2p0mq::send_failed_atom, const message&, const caf::error&) {
        t->failed();
        return true;
      },
      [t](p2p0mq::dropped_atom, const message& msg, const caf::error& err) {
        t->dropped(msg.id, err);
      },
  };
}

} // namespace

TEST_CASE("messages to a peer that does not read end sent or dropped, "
          "each told to its concern: sent + dropped = created",
          "[hostile]") {
  p2p0mq::testing::loopback net;
  auto settings = p2p0mq::testing::test_settings("producer-01");
  settings.encryption = false;
  settings.send_queue_limit = 2000;
  settings.send_high_water_mark = 100;
  settings.message_ttl = 1s;
  settings.send_blocked_delay = 20ms;
  auto a = net.start(settings);
  // The sink: a ROUTER that never reads, with a small high-water mark.
  zmq::socket_t sink{*net.zmq_context, zmq::socket_type::router};
  sink.set(zmq::sockopt::routing_id, "sink-0001");
  sink.set(zmq::sockopt::rcvhwm, 100);
  sink.set(zmq::sockopt::linger, 0);
  sink.bind("tcp://127.0.0.1:*");
  auto endpoint = sink.get(zmq::sockopt::last_endpoint);
  caf::anon_send(a->sender(), p2p0mq::connect_atom::value,
                 std::string{"sink-0001"}, endpoint);
  auto t = std::make_shared<tally>();
  auto owner = net.sys.spawn(producer, t);
  auto rss_before = rss_kib();
  // 10000 messages of 16 KiB, as fast as they can be handed over: more than
  // the sender may hold (2000) and the wire can take (the pipes' high-water
  // marks and the kernel's buffers), so that held ones expire.
  constexpr std::uint64_t created = 10000;
  auto body =
      payload_builder{}.add_bytes("blob", std::string(16 * 1024, 'b')).build();
  std::uint64_t most_held = 0;
  std::vector<std::uint64_t> ids;
  ids.reserve(created);
  for (std::uint64_t i = 1; i <= created; ++i) {
    auto msg = a->context().make_request("sink-0001", "blob", body,
                                         std::chrono::steady_clock::now());
    msg.next_hop = "sink-0001";
    ids.push_back(msg.id);
    caf::anon_send(a->sender(), p2p0mq::outgoing_atom::value, std::move(msg),
                   p2p0mq::priority::fast, owner);
    if (i % 1000 == 0) {
      auto m = a->metrics();
      REQUIRE(m);
      most_held = std::max(most_held, m->sender.queued + m->sender.held);
    }
  }
  auto done = p2p0mq::testing::wait_until(
      net.sys,
      [&] {
        auto c = t->get();
        return c.sent + c.dropped >= created;
      },
      60s);
  auto rss_after = rss_kib();
  auto c = t->get();
  std::printf("hostile: back-pressure: %llu created, %llu sent, %llu dropped "
              "(%llu queue full, %llu expired), %llu failed attempts, most "
              "held %llu, rss %+lld KiB\n",
              static_cast<unsigned long long>(created),
              static_cast<unsigned long long>(c.sent),
              static_cast<unsigned long long>(c.dropped),
              static_cast<unsigned long long>(c.queue_full),
              static_cast<unsigned long long>(c.expired),
              static_cast<unsigned long long>(c.failed),
              static_cast<unsigned long long>(most_held),
              static_cast<long long>(rss_after) -
                  static_cast<long long>(rss_before));
  REQUIRE(done);
  // Every message it created has exactly one outcome, and nothing else has
  // one.
  auto outcomes = t->outcomes();
  CHECK(outcomes.size() == created);
  std::size_t exactly_one = 0;
  for (auto id : ids) {
    auto i = outcomes.find(id);
    exactly_one += i != outcomes.end() && i->second == 1 ? 1 : 0;
  }
  CHECK(exactly_one == created);
  CHECK(c.sent + c.dropped == created);
  CHECK(c.sent > 0);
  CHECK(c.queue_full > 0);
  CHECK(c.expired > 0);
  CHECK(c.other == 0);
  CHECK(most_held <= settings.send_queue_limit);
  // The sender's own counters agree, and it holds nothing more.
  auto m = a->metrics();
  REQUIRE(m);
  CHECK(m->sender.sent == c.sent);
  CHECK(m->sender.dropped == c.dropped);
  CHECK(m->sender.queued + m->sender.held == 0);
  CHECK(rss_after < rss_before + rss_allowance_kib);
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

// -- logs ---------------------------------------------------------------------

namespace {

/// The most lines one source may cause over `elapsed` with the default
/// limits: one per interval (10 s), and one more at the end of the last.
std::size_t line_budget(std::chrono::steady_clock::duration elapsed) {
  return static_cast<std::size_t>(elapsed / config{}.log_summary_interval) + 2;
}

long long millis(std::chrono::steady_clock::duration x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

} // namespace

TEST_CASE("a flood of malformed messages from one client gives a line in "
          "full and summaries, while the counters count every one and a "
          "legitimate client's first warning is still logged",
          "[hostile][logs]") {
  hostile_fixture fix{false};
  auto from = fix.logs.mark();
  zmq_client evil{fix.attacker, fix.a->port(), "evil-0001"};
  // Four kinds of malformed messages in turn: a wrong frame count, a bad
  // kind, a bad message id, a bad payload.
  constexpr std::uint64_t n = 100000;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    switch (i % 4) {
    case 0:
      evil.send({"", "", "\x01", "hb", "\x01"});
      break;
    case 1:
      evil.send({"", "", "\x07", "hb", "\x01", "\x80"});
      break;
    case 2:
      evil.send({"", "", "\x01", "hb", "\xc1", "\x80"});
      break;
    default:
      evil.send({"", "", "\x01", "hb", "\x01", "\x90"});
      break;
    }
  }
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys, [&] { return fix.a->receiver().malformed() == n; }, 60s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto lines = fix.logs.count(from, {"\"evil-0001\""});
  std::printf("hostile: logs: %llu malformed messages from one client in "
              "%lld ms: %zu log lines for it\n",
              static_cast<unsigned long long>(n), millis(elapsed), lines);
  CHECK(fix.logs.count(from, {"dropped a message of 6 frames from "
                              "\"evil-0001\""}) == 1);
  CHECK(lines >= 1);
  CHECK(lines <= line_budget(elapsed));
  CHECK(lines <= 20);
  auto by_reason = fix.a->receiver().malformed_by_reason();
  CHECK(by_reason["bad frame count"] == n / 4);
  CHECK(by_reason["bad kind"] == n / 4);
  CHECK(by_reason["bad message id"] == n / 4);
  CHECK(by_reason["bad payload"] == n / 4);
  CHECK(fix.a->receiver().malformed() == n);
  // Another client's first malformed message gets its line at once.
  zmq_client other{fix.attacker, fix.a->port(), "other-0001"};
  other.send({"x"});
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        return fix.logs.contains(from, {"dropped a message of 2 frames from "
                                        "\"other-0001\""});
      },
      10s));
  fix.survived("100000 malformed messages from one client");
}

TEST_CASE("malformed messages from fresh routing ids give a bounded number of "
          "lines and keep memory bounded",
          "[hostile][logs]") {
  hostile_fixture fix{false};
  auto port = fix.a->port();
  auto from = fix.logs.mark();
  auto malformed = fix.a->receiver().malformed();
  // 1000 fresh routing ids, each on a TCP connection of its own, each
  // sending 10 messages of 6 frames.
  constexpr int clients = 1000;
  constexpr int each = 10;
  std::string messages;
  for (int i = 0; i < each; ++i)
    messages += zmtp_message({"", "", "\x01", "hb", "\x01"});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < clients; ++i) {
    tcp_client c{port};
    REQUIRE(c.greet());
    c.write(zmtp_ready("fresh-" + std::to_string(100000 + i)) + messages);
    REQUIRE(c.finish());
  }
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        return fix.a->receiver().malformed() ==
               malformed + std::uint64_t{clients * each};
      },
      30s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto lines = fix.logs.count(from, {"warning wire:"});
  // Each source followed gives at most one line per interval, and so does
  // the row of the others.
  auto max = config{}.log_max_sources;
  auto bound = (max + 1) * line_budget(elapsed);
  std::printf("hostile: logs: %d fresh routing ids x %d malformed messages in "
              "%lld ms: %zu log lines (bound %zu)\n",
              clients, each, millis(elapsed), lines, bound);
  CHECK(lines <= bound);
  CHECK(fix.a->receiver().malformed_by_reason()["bad frame count"] ==
        std::uint64_t{clients * each});
  fix.survived("malformed messages from 1000 fresh routing ids");
}

TEST_CASE("a client with a trusted key claiming another uuid gets one line in "
          "full naming both uuids and its key, then summaries, the impostor "
          "counter counts every message",
          "[hostile][logs]") {
  hostile_fixture fix{true};
  auto port = fix.a->port();
  auto server_key = fix.a->certificates()->public_key(fix.a->uuid());
  REQUIRE(server_key);
  // Mallory's key is trusted, under her own name; so is an honest client's.
  auto trusted = [&](const std::string& uuid) {
    auto keys = p2p0mq::make_curve_key_pair();
    REQUIRE(keys);
    auto path = fix.a->certificates()->public_path(uuid);
    REQUIRE(path);
    REQUIRE(!p2p0mq::write_certificate(
        *path, p2p0mq::curve_key_pair{keys->public_key, {}}, 0644));
    return *keys;
  };
  auto mallory = trusted("mallory-01");
  auto honest = trusted("honest-01");
  REQUIRE(!fix.a->reload_certificates());
  auto curve = [&](const p2p0mq::curve_key_pair& keys) {
    return [&server_key, keys](zmq::socket_t& s) {
      s.set(zmq::sockopt::curve_serverkey, *server_key);
      s.set(zmq::sockopt::curve_publickey, keys.public_key);
      s.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    };
  };
  auto from = fix.logs.mark();
  auto impostors = fix.a->receiver().impostors();
  // Mallory speaks as "spoofed-0001": 10,000 well-formed heart-beats.
  zmq_client spoof{fix.attacker, port, "spoofed-0001", curve(mallory)};
  constexpr std::uint64_t n = 10000;
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i)
    spoof.send(wire_frames("spoofed-0001", fix.a->uuid(), "hb", payload{}));
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] { return fix.a->receiver().impostors() == impostors + n; }, 60s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto full = fix.logs.lines(
      from, {"warning security: dropped a message whose previous hop claims "
             "to be \"spoofed-0001\""});
  REQUIRE(full.size() == 1);
  CHECK_THAT(full[0], Catch::Contains("\"" + mallory.public_key + "\""));
  CHECK_THAT(full[0], Catch::Contains("belongs to \"mallory-01\""));
  auto lines = fix.logs.count(from, {"\"mallory-01\""}) +
               fix.logs.count(from, {"\"spoofed-0001\""}) - 1;
  std::printf("hostile: logs: %llu messages under a spoofed uuid in %lld ms: "
              "%zu log lines\n",
              static_cast<unsigned long long>(n), millis(elapsed), lines);
  CHECK(lines <= line_budget(elapsed));
  CHECK(fix.a->receiver().impostors() == impostors + n);
  CHECK(fix.a->receiver().received() > 0);
  // An honest client with a key of its own: its first warning is logged.
  zmq_client honest_client{fix.attacker, port, "honest-01", curve(honest)};
  honest_client.send({"x"});
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        return fix.logs.contains(from, {"dropped a message of 2 frames from "
                                        "\"honest-01\""});
      },
      10s));
  fix.survived("10000 messages under a spoofed uuid");
}
