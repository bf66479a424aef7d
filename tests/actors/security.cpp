// CURVE encryption and authentication between local peers on loopback, and
// the authenticator's decisions under the test coordinator.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/actors/zap.hpp"
#include "p2p0mq/cert_store.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/testing/deterministic.hpp"
#include "support/concern_fixture.hpp"
#include "support/log_capture.hpp"
#include "support/log_levels.hpp"
#include "support/loopback.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

using namespace p2p0mq;
using namespace std::chrono_literals;
using p2p0mq::testing::log_capture;
using p2p0mq::testing::temp_dir;
using p2p0mq::testing::wait_until;

namespace {

/// Installs the log capture before anything else of a fixture is made.
struct capturing_log {
  capturing_log() : log(log_capture::install()) {
  }

  log_capture& log;
};

/// Local peers that each keep their certificates in a directory of their
/// own, so that they trust nobody until told.
struct secure_net : capturing_log, p2p0mq::testing::loopback {
  /// Settings of a peer whose certificates live in `dir/<name>`.
  config settings_for(const std::string& uuid, const std::string& name) {
    auto result = p2p0mq::testing::test_settings(uuid);
    result.public_cert_dir = dir / (name + "/public");
    result.private_cert_dir = dir / (name + "/private");
    return result;
  }

  using loopback::start;

  /// Starts a peer with certificates of its own.
  std::unique_ptr<local_peer> start(const std::string& uuid) {
    return start(settings_for(uuid, uuid));
  }

  /// Waits until a log line since `from` holds every one of `parts`.
  bool logged(std::size_t from, const std::vector<std::string>& parts,
              std::chrono::milliseconds limit = 60000ms) {
    return wait_until(
        sys, [&] { return log.contains(from, parts); }, limit);
  }

  temp_dir dir;
};

/// Trusts `uuid`'s certificate from `from` in `to`.
void trust(const local_peer& from, const local_peer& to) {
  REQUIRE(from.certificates());
  REQUIRE(to.certificates());
  REQUIRE(!from.certificates()->share_with(from.uuid(), *to.certificates()));
}

} // namespace

TEST_CASE("two encrypted peers that exchanged certificates reach CONNECTED "
          "both ways",
          "[security][loopback]") {
  secure_net net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  CHECK(a->settings().encryption);
  REQUIRE(!exchange_certificates(*a, *b));
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(net.connected_both_ways(*a, *b, 60000ms));
  CHECK(a->receiver().impostors() == 0);
  CHECK(b->receiver().impostors() == 0);
  // Each peer wrote its own key pair into its own directories.
  auto own = a->certificates()->load_own(a->uuid());
  REQUIRE(own);
  CHECK(b->certificates()->public_key(a->uuid()) == own->public_key);
}

TEST_CASE("a peer added before the certificates were exchanged connects once "
          "they are, not after the reconnect wait",
          "[security][loopback]") {
  secure_net net;
  auto slow = [&](const std::string& uuid) {
    auto settings = net.settings_for(uuid, uuid);
    // Only the certificate's arrival can bring them together in time.
    settings.reconnect_wait = std::chrono::hours{1};
    return net.start(settings);
  };
  auto a = slow("peer-a-0001");
  auto b = slow("peer-b-0002");
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  // a has no key for b: its hello fails, and it gives b up.
  CHECK(net.logged(mark, {"missing_certificate"}));
  REQUIRE(wait_until(
      net.sys,
      [&] {
        auto p = a->find_peer(b->uuid());
        return p && p->state == peer_state::no_connection;
      },
      60000ms));
  REQUIRE(!exchange_certificates(*a, *b));
  CHECK(net.connected_both_ways(*a, *b, 60000ms));
}

TEST_CASE("a peer whose key is not trusted never reaches CONNECTED, its hello "
          "never reaches the other's concerns, and the rejection is logged",
          "[security][loopback]") {
  secure_net net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  // a knows b's key (it can address b's receiver), but b does not trust a.
  trust(*b, *a);
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  auto a_key = a->certificates()->load_own(a->uuid())->public_key;
  // b's authenticator rejects a's key, naming it; a hears of the rejection.
  CHECK(net.logged(mark, {"rejected the client at", a_key}));
  CHECK(net.logged(mark, {"rejected this peer's key"}));
  CHECK(b->receiver().received() == 0);
  CHECK(b->find_peer(a->uuid()) == make_error(errc::unknown_peer));
  auto seen = a->find_peer(b->uuid());
  REQUIRE(seen);
  CHECK(seen->state != peer_state::connected);
}

TEST_CASE("a certificate added at run time lets a previously rejected peer "
          "connect",
          "[security][loopback]") {
  secure_net net;
  auto tune = [&](const std::string& uuid) {
    auto settings = net.settings_for(uuid, uuid);
    // A hello that went unanswered is tried again soon.
    settings.unresponsive_threshold = 1s;
    settings.no_connection_threshold = 2s;
    settings.reconnect_wait = 500ms;
    return settings;
  };
  auto a = net.start(tune("peer-a-0001"));
  auto b = net.start(tune("peer-b-0002"));
  trust(*b, *a);
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  REQUIRE(net.logged(mark, {"rejected the client at"}));
  REQUIRE(b->receiver().received() == 0);
  SECTION("found by the authenticator on the client's next attempt") {
    trust(*a, *b);
    CHECK(net.connected_both_ways(*a, *b, 60000ms));
  }
  SECTION("read at once on reload_certificates") {
    trust(*a, *b);
    REQUIRE(!b->reload_certificates());
    CHECK(net.connected_both_ways(*a, *b, 60000ms));
  }
}

TEST_CASE("a peer with encryption off and one with it on do not connect, and "
          "the log says why",
          "[security][loopback]") {
  secure_net net;
  auto plain_settings = net.settings_for("peer-a-0001", "peer-a-0001");
  plain_settings.encryption = false;
  auto a = net.start(plain_settings);
  auto b = net.start("peer-b-0002");
  CHECK(!a->certificates());
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(net.logged(
      mark, {"security mechanism mismatch", "this peer has encryption off"}));
  CHECK(net.logged(
      mark, {"security mechanism mismatch", "this peer has encryption on"}));
  // Both sides also say what to do; so does a side that saw only the
  // connection closed by the other (libzmq's EPIPE or ECONNRESET).
  CHECK(net.logged(mark, {"this peer has encryption off",
                          "give both peers the same setting"}));
  CHECK(net.logged(mark, {"this peer has encryption on",
                          "give both peers the same setting"}));
  CHECK(net.log.count(mark, {"handshake with"}) ==
        net.log.count(mark, {"handshake with", "encryption",
                             "give both peers the same setting"}));
  CHECK(b->receiver().received() == 0);
  CHECK(b->find_peer(a->uuid()) == make_error(errc::unknown_peer));
  CHECK(!net.sees(*a, *b, peer_state::connected));
}

TEST_CASE("a peer with a valid key that claims another peer's uuid is "
          "rejected",
          "[security][loopback]") {
  secure_net net;
  auto b = net.start("peer-b-0002");
  auto& b_certs = *b->certificates();
  // b trusts the real peer-a and peer-m, each with a key of its own.
  cert_store real_a{net.dir / "real-a/public", net.dir / "real-a/private"};
  REQUIRE(real_a.load_or_create_own("peer-a-0001"));
  REQUIRE(!real_a.share_with("peer-a-0001", b_certs));
  cert_store m{net.dir / "m/public", net.dir / "m/private"};
  auto m_keys = m.load_or_create_own("peer-m-0003");
  REQUIRE(m_keys);
  REQUIRE(!m.share_with("peer-m-0003", b_certs));
  REQUIRE(!b->reload_certificates());
  // The impostor runs as peer-a-0001 with m's key pair, and knows b's key.
  auto settings = net.settings_for("peer-a-0001", "impostor");
  cert_store impostor{settings.public_cert_dir, settings.private_cert_dir};
  REQUIRE(!impostor.ensure_dirs());
  REQUIRE(
      !write_certificate(*impostor.secret_path("peer-a-0001"), *m_keys, 0600));
  REQUIRE(!b_certs.share_with(b->uuid(), impostor));
  auto a = net.start(settings);
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(wait_until(
      net.sys, [&] { return b->receiver().impostors() > 0; }, 60000ms));
  CHECK(net.logged(mark, {"claims to be", "belongs to"}));
  CHECK(b->receiver().received() == 0);
  CHECK(b->find_peer("peer-a-0001") == make_error(errc::unknown_peer));
}

TEST_CASE("a peer asked to connect to a peer without a certificate fails its "
          "hello and names the missing file",
          "[security][loopback]") {
  secure_net net;
  auto a = net.start("peer-a-0001");
  auto mark = net.log.mark();
  REQUIRE(!a->add_peer("peer-x-0009", "127.0.0.1", 1));
  // The sender names the file when the connect fails; the connector's
  // hello fails with the same reason.
  auto file = net.dir / "peer-a-0001/public/peer-x-0009.key";
  CHECK(net.logged(mark, {"cannot connect to", file}));
  CHECK(net.logged(mark, {"hello request", "failed", file}));
  CHECK(wait_until(
      net.sys,
      [&] {
        auto p = a->find_peer("peer-x-0009");
        return p && p->state == peer_state::no_connection;
      },
      60000ms));
}

TEST_CASE("local peers sharing a ZeroMQ context share one authenticator, each "
          "with its own certificates",
          "[security][loopback]") {
  secure_net net;
  auto a = net.start("peer-a-0001");
  auto b = net.start("peer-b-0002");
  auto c = net.start("peer-c-0003");
  REQUIRE(!exchange_certificates(*a, *b));
  REQUIRE(!a->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(net.connected_both_ways(*a, *b, 60000ms));
  // c trusts nobody: b is rejected there although a trusts b.
  trust(*c, *b);
  REQUIRE(!b->reload_certificates());
  auto mark = net.log.mark();
  REQUIRE(!b->add_peer(c->uuid(), "127.0.0.1", c->port()));
  CHECK(net.logged(mark, {"rejected the client at"}));
  CHECK(c->receiver().received() == 0);
  // a stops; b and c go on with the same authenticator.
  a->stop();
  trust(*b, *c);
  REQUIRE(!c->reload_certificates());
  REQUIRE(!c->add_peer(b->uuid(), "127.0.0.1", b->port()));
  CHECK(net.connected_both_ways(*b, *c, 60000ms));
}

// -- the authenticator's decisions ---------------------------------------------

namespace {

struct zap_fixture : p2p0mq::testing::deterministic {
  explicit zap_fixture(log_limits limits = {}) : log(log_capture::install()) {
    zap = spawn_zap(sys(), limits);
  }

  ~zap_fixture() {
    caf::anon_send_exit(zap, caf::exit_reason::user_shutdown);
    run();
  }

  zap_verdict decide(const std::string& domain, const std::string& key,
                     const std::string& mechanism = "CURVE",
                     const std::string& address = "127.0.0.1:5555") {
    auto result = p2p0mq::testing::ask<zap_verdict>(
        *this, zap, authenticate_atom::value, domain, address, mechanism, key);
    REQUIRE(result);
    return *result;
  }

  /// The 32 raw bytes of a Z85 key.
  static std::string raw(const std::string& z85) {
    std::string result(32, '\0');
    zmq_z85_decode(reinterpret_cast<std::uint8_t*>(result.data()), z85.c_str());
    return result;
  }

  log_capture& log;
  temp_dir dir;
  zap_actor zap;
};

} // namespace

TEST_CASE("the authenticator accepts the keys of its domain's certificates "
          "and names their owner",
          "[security][zap]") {
  zap_fixture fix;
  cert_store store{fix.dir / "public", fix.dir / "private"};
  auto a = store.load_or_create_own("peer-a");
  auto b = store.load_or_create_own("peer-b");
  REQUIRE(a);
  REQUIRE(b);
  auto stranger = make_curve_key_pair();
  REQUIRE(stranger);
  caf::anon_send(fix.zap, add_atom::value, std::string{"local"},
                 store.public_dir(), duration{10s});
  fix.run();
  auto verdict = fix.decide("local", fix.raw(a->public_key));
  CHECK(verdict.accepted);
  CHECK(verdict.user_id == "peer-a");
  CHECK(fix.decide("local", fix.raw(b->public_key)).user_id == "peer-b");
  auto mark = fix.log.mark();
  verdict = fix.decide("local", fix.raw(stranger->public_key));
  CHECK(!verdict.accepted);
  CHECK_THAT(verdict.reason, Catch::Contains(store.public_dir()));
  CHECK(fix.log.contains(mark, {"warning", "rejected the client at",
                                "127.0.0.1:5555", stranger->public_key}));
  CHECK(!fix.decide("other", fix.raw(a->public_key)).accepted);
  CHECK(!fix.decide("local", fix.raw(a->public_key), "PLAIN").accepted);
  CHECK(!fix.decide("local", "short").accepted);
  // A forgotten domain accepts nobody.
  caf::anon_send(fix.zap, remove_atom::value, std::string{"local"});
  fix.run();
  CHECK(!fix.decide("local", fix.raw(a->public_key)).accepted);
}

TEST_CASE("the authenticator reads its directory again for an unknown key "
          "when the directory changed, at most once a second otherwise, and on "
          "its interval",
          "[security][zap]") {
  p2p0mq::testing::log_levels_guard levels;
  zap_fixture fix;
  set_log_level(log_category::security, log_level::debug);
  cert_store store{fix.dir / "public", fix.dir / "private"};
  REQUIRE(!store.ensure_dirs());
  caf::anon_send(fix.zap, add_atom::value, std::string{"local"},
                 store.public_dir(), duration{10s});
  fix.run();
  auto readings = [&](std::size_t from) {
    return fix.log.count(from, {"authenticator of", "trusts"});
  };
  cert_store other{fix.dir / "other/public", fix.dir / "other/private"};
  auto late = other.load_or_create_own("late");
  REQUIRE(late);
  // A certificate added since the last reading counts at once.
  REQUIRE(!other.share_with("late", store));
  CHECK(fix.decide("local", fix.raw(late->public_key)).accepted);
  // Unknown keys in a flood: the listing is unchanged, so no reading until a
  // second has passed.
  auto stranger = make_curve_key_pair();
  REQUIRE(stranger);
  auto mark = fix.log.mark();
  for (int i = 0; i < 5; ++i)
    CHECK(!fix.decide("local", fix.raw(stranger->public_key)).accepted);
  CHECK(readings(mark) == 0);
  fix.advance_time(zap_min_reload_gap);
  mark = fix.log.mark();
  CHECK(!fix.decide("local", fix.raw(stranger->public_key)).accepted);
  CHECK(readings(mark) == 1);
  // A removed certificate stops counting at the next interval.
  std::filesystem::remove(*store.public_path("late"));
  CHECK(fix.decide("local", fix.raw(late->public_key)).accepted);
  fix.advance_time(10s);
  CHECK(!fix.decide("local", fix.raw(late->public_key)).accepted);
}

TEST_CASE("a key in two certificates identifies the first by file name",
          "[security][zap]") {
  zap_fixture fix;
  cert_store store{fix.dir / "public", fix.dir / "private"};
  auto keys = store.load_or_create_own("peer-a");
  REQUIRE(keys);
  REQUIRE(!write_certificate(*store.public_path("peer-z"),
                             curve_key_pair{keys->public_key, {}}, 0644));
  auto mark = fix.log.mark();
  caf::anon_send(fix.zap, add_atom::value, std::string{"local"},
                 store.public_dir(), duration{10s});
  fix.run();
  CHECK(fix.log.contains(mark, {"peer-z.key is also in", "peer-a.key"}));
  CHECK(fix.decide("local", fix.raw(keys->public_key)).user_id == "peer-a");
  auto count = p2p0mq::testing::ask<std::uint64_t>(
      fix, fix.zap, reload_atom::value, std::string{"local"});
  CHECK(count == std::uint64_t{1});
  CHECK(p2p0mq::testing::ask<std::uint64_t>(fix, fix.zap, reload_atom::value,
                                            std::string{"nowhere"}) ==
        make_error(errc::unknown_peer));
}

TEST_CASE("the authenticator logs the first rejection from an address in "
          "full, then one summary per interval, by reason",
          "[security][zap]") {
  // The limits are settings: a 2-second interval here.
  zap_fixture fix{log_limits{2s, 4}};
  cert_store store{fix.dir / "public", fix.dir / "private"};
  REQUIRE(store.load_or_create_own("peer-a"));
  caf::anon_send(fix.zap, add_atom::value, std::string{"local"},
                 store.public_dir(), duration{10s});
  fix.run();
  auto mark = fix.log.mark();
  // 100 clients from one address, each with a fresh key of its own, and
  // one that is not CURVE.
  for (int i = 0; i < 100; ++i) {
    auto stranger = make_curve_key_pair();
    REQUIRE(stranger);
    CHECK(!fix.decide("local", fix.raw(stranger->public_key)).accepted);
  }
  CHECK(!fix.decide("local", std::string(32, 'k'), "PLAIN").accepted);
  CHECK(fix.log.count(mark, {"rejected the client at \"127.0.0.1:5555\""}) ==
        1);
  CHECK(fix.log.count(mark, {"warning security"}) == 1);
  // Another address gets its own line at once.
  CHECK(
      !fix.decide("local", std::string(32, 'k'), "CURVE", "10.0.0.9").accepted);
  CHECK(fix.log.count(mark, {"rejected the client at \"10.0.0.9\""}) == 1);
  // The summary comes with the interval's end, on the authenticator's timer.
  fix.advance_time(2s);
  CHECK(fix.log.contains(mark, {"warning security: rejected 100 clients at "
                                "\"127.0.0.1:5555\" in the last 2 s: 99 "
                                "unknown key, 1 not CURVE"}));
  CHECK(fix.log.count(mark, {"warning security"}) == 3);
}
