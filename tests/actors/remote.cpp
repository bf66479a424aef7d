#include "p2p0mq/actors/remote.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/local_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include "p2p0mq/actors/manager.hpp"
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
      [box](incoming_atom, message& msg) {
        box->messages.push_back(std::move(msg));
      },
      [](tick_atom) {},
      [](sent_atom, const message&) {},
      [](send_failed_atom, const message&, const caf::error&) { return true; },
      [](dropped_atom, const message&, const caf::error&) {},
  };
}

class remote_fixture : public concern_fixture {
public:
  using concern_fixture::concern_fixture;

  /// Registers a running concern for `command`, as `attach_concern` does.
  concern_actor attach(const std::string& command, inbox* box) {
    auto handle = sys().spawn(stand_in, box);
    caf::anon_send(manager, add_atom::value, command, handle);
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

// -- the manager's side, deterministic ----------------------------------------

TEST_CASE("the manager describes its local peer to concerns elsewhere",
          "[remote]") {
  remote_fixture fix;
  auto info = p2p0mq::testing::ask<remote_context>(fix, fix.manager,
                                                   context_atom::value);
  REQUIRE(info);
  CHECK(info->local_uuid == concern_fixture::local);
  CHECK(info->host == "127.0.0.1");
  CHECK(info->port == 7000);
  CHECK(info->message_ttl == fix.settings->message_ttl);
  CHECK(info->requester);
  CHECK(info->peers.address() == fix.peers.address());
}

TEST_CASE("the manager hands a concern's outgoing message to the sender, "
          "numbered and timed on its own clock",
          "[remote]") {
  remote_fixture fix;
  inbox box;
  auto owner = fix.attach("far", &box);
  message req;
  req.to = remote;
  req.command = "far";
  req.deadline = time_point{}; // another node's clock
  caf::anon_send(fix.manager, outgoing_atom::value, req, priority::medium,
                 owner);
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
  caf::anon_send(fix.manager, outgoing_atom::value, reply, priority::fast,
                 owner);
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

/// The helper program, run as a child process.
class child_process {
public:
  child_process(std::uint16_t port, const std::string& command) {
    std::string path = P2P0MQ_TEST_CONCERN_HOST;
    auto port_arg = std::to_string(port);
    std::vector<char*> argv{path.data(), port_arg.data(),
                            const_cast<char*>(command.c_str()), nullptr};
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

private:
  pid_t pid_ = -1;
};

struct middleman_net {
  middleman_net() : log(log_capture::install()), sys(load(cfg)) {
  }

  static system_config& load(system_config& x) {
    x.load<caf::io::middleman>();
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

  /// Whether `peer`'s manager lists `command`.
  bool serves(local_peer& peer, const std::string& command) {
    caf::scoped_actor self{sys};
    auto result = false;
    self->request(peer.manager(), 5s, get_atom::value)
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

TEST_CASE("a concern in another process serves requests, and its death is "
          "noticed",
          "[remote][loopback]") {
  middleman_net net;
  auto server = net.start("server-0001");
  auto client = net.start("client-0002");
  REQUIRE(!client->add_peer(server->uuid(), "127.0.0.1", server->port()));
  REQUIRE(net.connected(*server, *client));
  auto port = publish_manager(*server);
  INFO((port ? "" : render(port.error())));
  REQUIRE(port);
  child_process child{*port, "upper"};
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
  // Killed: the manager notices and unregisters it.
  auto mark = net.log.mark();
  child.kill_now();
  CHECK(p2p0mq::testing::wait_until(
      net.sys, [&] { return !net.serves(*server, "upper"); }, 60000ms));
  CHECK(net.log.contains(mark, {"concern 'upper' went down"}));
  // Its requests are dropped now: nobody answers.
  auto unanswered =
      client->request(server->uuid(), "upper", text("four"), 500ms);
  REQUIRE_FALSE(unanswered);
  CHECK(unanswered.error() == errc::request_timeout);
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
  auto port = publish_manager(*server);
  REQUIRE(port);
  auto first = std::make_unique<child_process>(*port, "upper");
  REQUIRE(p2p0mq::testing::wait_until(
      net.sys, [&] { return net.serves(*server, "upper"); }, 60000ms));
  first->kill_now();
  REQUIRE(p2p0mq::testing::wait_until(
      net.sys, [&] { return !net.serves(*server, "upper"); }, 60000ms));
  // Asked while nobody serves it: the request is held.
  caf::scoped_actor self{net.sys};
  auto handle =
      client->request(self, server->uuid(), "upper", text("held"), 20s);
  child_process second{*port, "upper"};
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
