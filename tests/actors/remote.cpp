#include "p2p0mq/actors/remote.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/actors/system_config.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "support/concern_fixture.hpp"
#include "support/log_capture.hpp"
#include "support/settings.hpp"
#include "support/wait.hpp"

extern char** environ;

using namespace std::chrono_literals;
using namespace p2p0mq;
using p2p0mq::testing::concern_fixture;
using p2p0mq::testing::log_capture;

namespace {

constexpr const char* remote = "peer-0001";

/// What a stand-in for a concern on another node got.
struct inbox {
  std::vector<message> messages;
};

concern_actor::behavior_type stand_in(concern_actor::pointer, inbox* box) {
  return {
      [box](incoming_atom, std::vector<message>& msgs) {
        for (auto& msg : msgs)
          box->messages.push_back(std::move(msg));
      },
      [](tick_atom) {},
      [](sent_atom, const std::vector<message>&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
      [](changed_atom, const std::vector<peer_change>&) {},
      [](due_atom, due_kind, const std::vector<peer>&) {},
      [](wanted_atom, const std::vector<wanted_route>&) {},
      [](stats_atom) { return concern_counters{}; },
  };
}

class remote_fixture : public concern_fixture {
public:
  using concern_fixture::concern_fixture;

  /// Registers a running concern for `command`, as `attach_concern` does.
  concern_actor attach(const std::string& command, inbox* box) {
    auto handle = sys().spawn(stand_in, box);
    caf::anon_send(supervisor, add_atom::value, command, handle);
    run();
    return handle;
  }

  message request(const std::string& command, std::uint64_t id) {
    return incoming(remote, command, message_kind::request, id);
  }

  std::vector<std::uint64_t> ids(const inbox& box) {
    std::vector<std::uint64_t> result;
    for (auto& x : box.messages)
      result.push_back(x.id);
    return result;
  }
};

using ids = std::vector<std::uint64_t>;

} // namespace

// -- the supervisor's side, deterministic -------------------------------------

TEST_CASE("the supervisor describes its local peer to concerns elsewhere",
          "[remote]") {
  remote_fixture fix;
  auto info = p2p0mq::testing::ask<remote_context>(fix, fix.supervisor,
                                                   context_atom::value);
  REQUIRE(info);
  CHECK(info->local_uuid == concern_fixture::local);
  CHECK(info->host == "127.0.0.1");
  CHECK(info->port == 7000);
  CHECK(info->message_ttl == fix.settings->message_ttl);
  CHECK(info->requester);
  CHECK(info->peers.address() == fix.peers.address());
  CHECK(info->sender.address() == fix.sender.address());
}

TEST_CASE("the supervisor hands a concern's outgoing message to the sender, "
          "numbered and timed on its own clock",
          "[remote]") {
  remote_fixture fix;
  inbox box;
  auto owner = fix.attach("far", &box);
  message req;
  req.to = remote;
  req.command = "far";
  req.deadline = time_point{}; // another node's clock
  caf::anon_send(fix.supervisor, outgoing_atom::value, req, priority::medium,
                 p2p0mq::owner_actor{owner});
  fix.run();
  auto first = fix.ctx.ids->next();
  REQUIRE(fix.wire.outgoing.size() == 1);
  auto out = fix.wire.outgoing[0];
  CHECK(out.msg.source == concern_fixture::local);
  CHECK(out.msg.id == first - 1);
  CHECK(out.msg.deadline == fix.now() + fix.settings->message_ttl);
  CHECK(out.prio == priority::medium);
  CHECK(out.owner.address() == owner.address());
  // A reply keeps its id and its next hop.
  auto reply = fix.request("far", 77).make_reply(payload{}, time_point{});
  caf::anon_send(fix.supervisor, outgoing_atom::value, reply, priority::fast,
                 p2p0mq::owner_actor{owner});
  fix.run();
  REQUIRE(fix.wire.outgoing.size() == 2);
  CHECK(fix.wire.outgoing[1].msg.id == 77);
  CHECK(fix.wire.outgoing[1].msg.next_hop == remote);
  CHECK(fix.wire.outgoing[1].msg.is_reply());
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
}

TEST_CASE("without a grace period the messages of a concern that went down "
          "are dropped",
          "[remote]") {
  remote_fixture fix;
  inbox first;
  auto handle = fix.attach("far", &first);
  caf::anon_send_exit(handle, caf::exit_reason::kill);
  fix.run();
  fix.deliver(fix.request("far", 1));
  inbox second;
  fix.attach("far", &second);
  fix.deliver(fix.request("far", 2));
  CHECK(first.messages.empty());
  CHECK(fix.ids(second) == ids{2});
}

TEST_CASE("messages for a concern that went down are held for its grace "
          "period and handed to the next one, in order",
          "[remote]") {
  remote_fixture fix{[](config& cfg) { cfg.concern_grace_period = 5s; }};
  inbox first;
  auto handle = fix.attach("far", &first);
  fix.deliver(fix.request("far", 1));
  caf::anon_send_exit(handle, caf::exit_reason::kill);
  fix.run();
  fix.deliver(fix.request("far", 2));
  fix.advance(2s);
  fix.deliver(fix.request("far", 3));
  inbox second;
  fix.attach("far", &second);
  fix.deliver(fix.request("far", 4));
  CHECK(fix.ids(first) == ids{1});
  CHECK(fix.ids(second) == ids{2, 3, 4});
}

TEST_CASE("messages held beyond the grace period or its limit are dropped "
          "with a log line",
          "[remote]") {
  auto& log = log_capture::install();
  remote_fixture fix{[](config& cfg) {
    cfg.concern_grace_period = 5s;
    cfg.concern_grace_limit = 2;
  }};
  inbox first;
  auto handle = fix.attach("far", &first);
  caf::anon_send_exit(handle, caf::exit_reason::kill);
  fix.run();
  auto mark = log.mark();
  fix.deliver(fix.request("far", 1));
  fix.deliver(fix.request("far", 2));
  fix.deliver(fix.request("far", 3));
  fix.advance(5s);
  CHECK(log.contains(mark, {"3 messages for 'far' dropped", "grace period"}));
  inbox second;
  fix.attach("far", &second);
  fix.deliver(fix.request("far", 4));
  CHECK(fix.ids(second) == ids{4});
}

TEST_CASE("held messages beyond the limit are dropped, the others delivered",
          "[remote]") {
  remote_fixture fix{[](config& cfg) {
    cfg.concern_grace_period = 5s;
    cfg.concern_grace_limit = 2;
  }};
  inbox first;
  auto handle = fix.attach("far", &first);
  caf::anon_send_exit(handle, caf::exit_reason::kill);
  fix.run();
  for (std::uint64_t id = 1; id <= 3; ++id)
    fix.deliver(fix.request("far", id));
  inbox second;
  fix.attach("far", &second);
  CHECK(fix.ids(second) == ids{1, 2});
}

TEST_CASE("the grace period and its limit are options of the group p2p0mq",
          "[remote]") {
  system_config cfg;
  std::istringstream no_file;
  auto err = cfg.parse({"--p2p0mq.concern-grace-period=1500ms",
                        "--p2p0mq.concern-grace-limit=7"},
                       no_file);
  INFO(cfg.render(err));
  REQUIRE(!err);
  CHECK(cfg.settings.concern_grace_period == 1500ms);
  CHECK(cfg.settings.concern_grace_limit == 7);
}

// -- another process ----------------------------------------------------------

namespace {

/// The helper program, run as a child process: attaches `command` to the
/// manager on `port` with the certificate `name` of `certs`, or with plain
/// BASP when `certs` is empty.
class child_process {
public:
  child_process(std::uint16_t port, const std::string& command,
                const std::string& certs, const std::string& name = {}) {
    std::string path = P2P0MQ_TEST_CONCERN_HOST;
    auto port_arg = std::to_string(port);
    std::vector<std::string> args{path, port_arg, command};
    if (certs.empty()) {
      args.emplace_back("plain");
    } else {
      args.push_back(certs);
      args.push_back(name);
    }
    std::vector<char*> argv;
    for (auto& x : args)
      argv.push_back(x.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, path.c_str(), nullptr, nullptr, argv.data(),
                    environ) != 0)
      pid_ = -1;
  }

  ~child_process() {
    kill_now();
  }

  pid_t pid() const noexcept {
    return pid_;
  }

  /// Sends SIGKILL and reaps the child.
  void kill_now() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// The exit code of the child once it exited within `limit`, else -1
  /// (it is killed then).
  int exit_code(caf::actor_system& sys, std::chrono::milliseconds limit) {
    int status = 0;
    auto exited = p2p0mq::testing::wait_until(
        sys, [&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!exited) {
      kill_now();
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

private:
  pid_t pid_ = -1;
};

/// Certificate directories for the tests, made once per test process:
/// `trusted`, where the supervisor and the host trust each other; `stranger`,
/// whose process trusts the supervisor but is not trusted by it; `doubter`,
/// holding the host's certificate (trusted by the supervisor) without trusting
/// the supervisor's.
struct tls_dirs {
  tls_dirs() {
    namespace fs = std::filesystem;
    for (auto [dir, name] :
         {std::pair{&trusted, "manager"}, std::pair{&trusted, "host"},
          std::pair{&stranger, "stranger"}}) {
      auto err = make_remote_certificate(dir->path(), name);
      if (err)
        throw std::runtime_error(render(err));
    }
    fs::copy_file(trusted / "public/manager.crt",
                  stranger / "public/manager.crt");
    fs::create_directories(doubter / "public");
    fs::create_directories(doubter / "private");
    fs::copy_file(trusted / "public/host.crt", doubter / "public/host.crt");
    fs::copy_file(trusted / "private/host.crt_secret",
                  doubter / "private/host.crt_secret");
  }

  static tls_dirs& get() {
    static tls_dirs instance;
    return instance;
  }

  p2p0mq::testing::temp_dir trusted;
  p2p0mq::testing::temp_dir stranger;
  p2p0mq::testing::temp_dir doubter;
};

struct middleman_net {
  explicit middleman_net(remote_options opts = manager_options())
      : log(log_capture::install()), sys(load(cfg, opts)) {
  }

  static remote_options manager_options() {
    return remote_options::in_store(tls_dirs::get().trusted.path(), "manager");
  }

  static system_config& load(system_config& x, const remote_options& opts) {
    auto err = load_remote(x, opts);
    if (err)
      throw std::runtime_error(render(err));
    return x;
  }

  std::unique_ptr<local_peer> start(const std::string& uuid,
                                    duration grace = duration::zero()) {
    auto settings = p2p0mq::testing::test_settings(uuid);
    settings.concern_grace_period = grace;
    auto result = std::make_unique<local_peer>(sys, settings, zmq_context);
    auto err = result->start();
    INFO(render(err));
    REQUIRE(!err);
    return result;
  }

  bool connected(local_peer& a, local_peer& b) {
    return p2p0mq::testing::wait_until(
        sys,
        [&] {
          auto x = a.find_peer(b.uuid());
          auto y = b.find_peer(a.uuid());
          return x && y && x->state == peer_state::connected &&
                 y->state == peer_state::connected;
        },
        60000ms);
  }

  /// Whether `peer`'s supervisor lists `command`.
  bool serves(local_peer& peer, const std::string& command) {
    caf::scoped_actor self{sys};
    auto result = false;
    self->request(peer.supervisor(), 5s, get_atom::value)
        .receive(
            [&](const std::vector<std::string>& xs) {
              result = std::find(xs.begin(), xs.end(), command) != xs.end();
            },
            [](caf::error&) {});
    return result;
  }

  log_capture& log;
  system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<zmq::context_t> zmq_context =
      std::make_shared<zmq::context_t>(1);
};

payload text(const std::string& x) {
  return payload_builder{}.add_string("text", x).build();
}

} // namespace

TEST_CASE("a concern in another process with a trusted certificate serves "
          "requests over TLS, and its death is noticed",
          "[remote][loopback]") {
  middleman_net net;
  auto server = net.start("server-0001");
  auto client = net.start("client-0002");
  REQUIRE(!client->add_peer(server->uuid(), "127.0.0.1", server->port()));
  REQUIRE(net.connected(*server, *client));
  auto port = publish_supervisor(*server);
  INFO((port ? "" : render(port.error())));
  REQUIRE(port);
  child_process child{*port, "upper", tls_dirs::get().trusted.path(), "host"};
  REQUIRE(child.pid() > 0);
  REQUIRE(p2p0mq::testing::wait_until(
      net.sys, [&] { return net.serves(*server, "upper"); }, 60000ms));
  // The third peer asks; the child answers.
  for (auto word : {"one", "two", "three"}) {
    auto reply = client->request(server->uuid(), "upper", text(word), 60s);
    INFO((reply ? "" : render(reply.error())));
    REQUIRE(reply);
    CHECK(reply->source == server->uuid());
    CHECK(reply->payload.get_integer("pid") ==
          static_cast<std::int64_t>(child.pid()));
  }
  auto rejected = client->request(server->uuid(), "upper", payload{}, 60s);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error() == errc::rejected);
  // Killed: the supervisor notices and unregisters it.
  auto mark = net.log.mark();
  child.kill_now();
  CHECK(p2p0mq::testing::wait_until(
      net.sys, [&] { return !net.serves(*server, "upper"); }, 60000ms));
  CHECK(net.log.contains(mark, {"concern 'upper' went down"}));
  // Its requests are refused now: no concern serves the command.
  auto unanswered = client->request(server->uuid(), "upper", text("four"), 60s);
  REQUIRE_FALSE(unanswered);
  CHECK(unanswered.error() == errc::unknown_command);
  CHECK(p2p0mq::testing::wait_until(
      net.sys,
      [&] { return net.log.contains(mark, {"unknown command 'upper'"}); },
      60000ms));
}

TEST_CASE("a request for a concern in another process that restarts within "
          "the grace period is served by the new one",
          "[remote][loopback]") {
  middleman_net net;
  auto server = net.start("server-0001", 20s);
  auto client = net.start("client-0002");
  REQUIRE(!client->add_peer(server->uuid(), "127.0.0.1", server->port()));
  REQUIRE(net.connected(*server, *client));
  auto port = publish_supervisor(*server);
  REQUIRE(port);
  auto trusted = tls_dirs::get().trusted.path();
  auto first = std::make_unique<child_process>(*port, "upper", trusted, "host");
  REQUIRE(p2p0mq::testing::wait_until(
      net.sys, [&] { return net.serves(*server, "upper"); }, 60000ms));
  first->kill_now();
  REQUIRE(p2p0mq::testing::wait_until(
      net.sys, [&] { return !net.serves(*server, "upper"); }, 60000ms));
  // Asked while nobody serves it: the request is held.
  caf::scoped_actor self{net.sys};
  auto handle =
      client->request(self, server->uuid(), "upper", text("held"), 20s);
  child_process second{*port, "upper", trusted, "host"};
  std::optional<caf::expected<message>> answer;
  handle.receive([&](message& x) { answer.emplace(std::move(x)); },
                 [&](caf::error& err) { answer.emplace(std::move(err)); });
  REQUIRE(answer);
  INFO((*answer ? "" : render(answer->error())));
  REQUIRE(*answer);
  CHECK((*answer)->payload.get_string("text") == std::string{"HELD"});
  CHECK((*answer)->payload.get_integer("pid") ==
        static_cast<std::int64_t>(second.pid()));
}

// -- trust ---------------------------------------------------------------------

namespace {

/// Publishes a running server's supervisor over TLS on 127.0.0.1.
struct tls_server {
  tls_server() : server(net.start("server-0001")) {
    auto published = publish_supervisor(*server);
    INFO((published ? "" : render(published.error())));
    REQUIRE(published);
    port = *published;
  }

  middleman_net net;
  std::unique_ptr<local_peer> server;
  std::uint16_t port = 0;
};

} // namespace

TEST_CASE("a process whose certificate is not trusted cannot attach, and the "
          "manager logs why",
          "[remote][loopback][tls]") {
  tls_server fix;
  auto mark = fix.net.log.mark();
  child_process stranger{fix.port, "upper", tls_dirs::get().stranger.path(),
                         "stranger"};
  CHECK(stranger.exit_code(fix.net.sys, 10000ms) == 1);
  CHECK_FALSE(fix.net.serves(*fix.server, "upper"));
  CHECK(fix.net.log.contains(mark, {"warning security",
                                    "TLS connection from 127.0.0.1:", "refused",
                                    "certificate verify failed"}));
}

namespace {

/// Runs a TLS handshake with 127.0.0.1:`port` as a client without a
/// certificate, trusting `trusted` (a PEM file); returns whether the other
/// end let it through to application data (its first record).
bool handshake_without_certificate(std::uint16_t port,
                                   const std::string& trusted) {
  auto* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, trusted.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto through = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    auto* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      // TLS 1.3: the server judges our (missing) certificate after the
      // client finished; its verdict is the first record we read.
      char byte = 0;
      through = SSL_read(ssl, &byte, 1) > 0;
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return through;
}

} // namespace

TEST_CASE("a TLS client without a certificate is refused, and the supervisor "
          "logs why",
          "[remote][loopback][tls]") {
  tls_server fix;
  auto mark = fix.net.log.mark();
  CHECK_FALSE(handshake_without_certificate(
      fix.port, tls_dirs::get().trusted / "public/manager.crt"));
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys,
      [&] {
        return fix.net.log.contains(
            mark, {"TLS connection from 127.0.0.1:", "refused",
                   "peer did not return a certificate"});
      },
      5000ms));
}

TEST_CASE("a process without a certificate cannot attach with plain BASP to "
          "a TLS port, and the supervisor logs why",
          "[remote][loopback][tls]") {
  tls_server fix;
  auto mark = fix.net.log.mark();
  child_process plain{fix.port, "upper", ""};
  CHECK(plain.exit_code(fix.net.sys, 10000ms) == 1);
  CHECK_FALSE(fix.net.serves(*fix.server, "upper"));
  CHECK(fix.net.log.contains(
      mark, {"TLS connection from 127.0.0.1:", "refused", "wrong version"}));
}

TEST_CASE("a process that does not trust the supervisor's certificate does not "
          "attach, and the supervisor logs its refusal",
          "[remote][loopback][tls]") {
  tls_server fix;
  auto mark = fix.net.log.mark();
  child_process doubter{fix.port, "upper", tls_dirs::get().doubter.path(),
                        "host"};
  CHECK(doubter.exit_code(fix.net.sys, 10000ms) == 1);
  CHECK_FALSE(fix.net.serves(*fix.server, "upper"));
  CHECK(fix.net.log.contains(
      mark, {"TLS connection from 127.0.0.1:", "refused", "unknown ca"}));
}

TEST_CASE("a certificate copied into the trusted directory counts from the "
          "next connection",
          "[remote][loopback][tls]") {
  tls_server fix;
  auto& dirs = tls_dirs::get();
  {
    child_process refused{fix.port, "upper", dirs.stranger.path(), "stranger"};
    REQUIRE(refused.exit_code(fix.net.sys, 10000ms) == 1);
  }
  std::filesystem::copy_file(dirs.stranger / "public/stranger.crt",
                             dirs.trusted / "public/stranger.crt");
  set_log_level(log_category::security, log_level::info);
  auto mark = fix.net.log.mark();
  child_process trusted{fix.port, "upper", dirs.stranger.path(), "stranger"};
  CHECK(p2p0mq::testing::wait_until(
      fix.net.sys, [&] { return fix.net.serves(*fix.server, "upper"); },
      10000ms));
  CHECK(fix.net.log.contains(mark, {"3 trusted certificates from"}));
  set_log_level(log_category::security, log_level::warning);
}

TEST_CASE("plain BASP is only on a loopback address, and TLS needs a "
          "certificate",
          "[remote][loopback][tls]") {
  middleman_net net{remote_options{}};
  auto server = net.start("server-0001");
  auto tls = publish_supervisor(*server);
  REQUIRE_FALSE(tls);
  CHECK(tls.error() == errc::invalid_config);
  auto anywhere =
      publish_supervisor(*server, 0, "0.0.0.0", remote_transport::plain);
  REQUIRE_FALSE(anywhere);
  CHECK(anywhere.error() == errc::invalid_config);
  auto away = attach_concern(net.sys, "192.0.2.1", 4000, "upper",
                             make_concern(concern_handlers{}), 1s,
                             remote_transport::plain);
  REQUIRE_FALSE(away);
  CHECK(away.error() == errc::invalid_config);
  auto loopback =
      publish_supervisor(*server, 0, "127.0.0.1", remote_transport::plain);
  INFO((loopback ? "" : render(loopback.error())));
  CHECK(loopback);
}

TEST_CASE("load_remote refuses missing or mismatched certificates",
          "[remote][tls]") {
  auto& dirs = tls_dirs::get();
  auto manager = remote_options::in_store(dirs.trusted.path(), "manager");
  auto load = [](remote_options opts) {
    system_config cfg;
    return load_remote(cfg, opts);
  };
  CHECK_FALSE(load(manager));
  auto missing = manager;
  missing.certificate = dirs.trusted / "public/nobody.crt";
  CHECK(load(missing) == errc::missing_certificate);
  auto mismatched = manager;
  mismatched.key = dirs.trusted / "private/host.crt_secret";
  CHECK(load(mismatched) == errc::bad_certificate);
  auto not_a_key = manager;
  not_a_key.key = manager.certificate;
  CHECK(load(not_a_key) == errc::bad_certificate);
  auto no_trust = manager;
  no_trust.trusted.clear();
  CHECK(load(no_trust) == errc::invalid_config);
  auto no_certificate = manager;
  no_certificate.certificate.clear();
  CHECK(load(no_certificate) == errc::invalid_config);
  auto bad_trust = manager;
  bad_trust.trusted = dirs.trusted / "nowhere";
  CHECK(load(bad_trust) == errc::missing_certificate);
  // A trusted file is used as it is.
  auto file = manager;
  file.trusted = dirs.trusted / "public/host.crt";
  CHECK_FALSE(load(file));
}

TEST_CASE("make_remote_certificate makes a certificate named after its "
          "owner and does not replace one",
          "[remote][tls]") {
  p2p0mq::testing::temp_dir dir;
  REQUIRE_FALSE(make_remote_certificate(dir.path(), "alice-01"));
  CHECK(std::filesystem::exists(dir / "public/alice-01.crt"));
  auto perms = std::filesystem::status(dir / "private/alice-01.crt_secret")
                   .permissions();
  CHECK((perms & std::filesystem::perms::group_all) ==
        std::filesystem::perms::none);
  CHECK((perms & std::filesystem::perms::others_all) ==
        std::filesystem::perms::none);
  CHECK(make_remote_certificate(dir.path(), "alice-01") ==
        errc::certificate_io);
  CHECK_FALSE(make_remote_certificate(dir.path(), "alice-01", true));
  CHECK(make_remote_certificate(dir.path(), "../up") == errc::invalid_uuid);
}

TEST_CASE("loopback hosts are 127.0.0.0/8, ::1 and localhost", "[remote]") {
  for (auto host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    CHECK(is_loopback_host(host));
  for (auto host : {"0.0.0.0", "10.0.0.1", "::", "example.org", "", "128.0.0.1",
                    "::ffff:127.0.0.1"})
    CHECK_FALSE(is_loopback_host(host));
}
