// Request/reply to a concern: in this process, and in another process over
// CAF's middleman.
#include "bench/concern.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/actors/echo.hpp"
#include "p2p0mq/actors/local_peer.hpp"
#include "p2p0mq/actors/remote.hpp"
#include "p2p0mq/errc.hpp"

extern char** environ;

namespace p2p0mq::bench {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr const char* command = "bench-reply";

/// The concern measured: replies with the request's payload.
concern_factory replier() {
  return make_concern(
      [](concern_base&, const message& req) -> answer { return req.payload; });
}

/// Keeps `window` requests in flight until `total` were answered, then tells
/// `main` how many failed.
struct driver_state {
  requester_actor requester;
  std::string peer;
  payload body;
  std::size_t total = 0;
  std::size_t issued = 0;
  std::size_t answered = 0;
  std::size_t failed = 0;
  caf::actor main;
};

using driver_ptr = caf::stateful_actor<driver_state>*;

void issue(driver_ptr self);

void answered(driver_ptr self, bool ok) {
  auto& st = self->state;
  ++st.answered;
  st.failed += ok ? 0 : 1;
  if (st.answered == st.total) {
    caf::anon_send(st.main, st.failed);
    self->quit();
    return;
  }
  issue(self);
}

void issue(driver_ptr self) {
  auto& st = self->state;
  if (st.issued == st.total)
    return;
  ++st.issued;
  self->request(st.requester, caf::infinite, request_atom::value, st.peer,
                std::string{command}, st.body, caf::timespan{10s},
                priority::fast)
      .then([self](message&) { answered(self, true); },
            [self](caf::error&) { answered(self, false); });
}

caf::behavior driver(driver_ptr self, requester_actor requester,
                     std::string peer, std::size_t total, std::size_t window,
                     caf::actor main) {
  auto& st = self->state;
  st.requester = std::move(requester);
  st.peer = std::move(peer);
  st.body = payload_builder{}.add_integer("seq", 1000).build();
  st.total = total;
  st.main = std::move(main);
  for (std::size_t i = 0; i < window; ++i)
    issue(self);
  return {
      [](tick_atom) {
        // Lives on its responses.
      },
  };
}

/// Runs one measure: replies per second, and the failures.
double run_driver(caf::actor_system& sys, local_peer& asker,
                  const std::string& peer, std::size_t total,
                  std::size_t window, std::size_t& failed) {
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  sys.spawn(driver, asker.requester(), peer, total, window,
            caf::actor_cast<caf::actor>(self));
  bool done = false;
  self->receive(
      [&](std::size_t n) {
        failed += n;
        done = true;
      },
      caf::after(std::chrono::minutes{5}) >> [] {});
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  return done ? total / secs : 0;
}

bool serves(caf::actor_system& sys, local_peer& peer) {
  caf::scoped_actor self{sys};
  auto result = false;
  self->request(peer.supervisor(), 5s, get_atom::value)
      .receive(
          [&](const std::vector<std::string>& xs) {
            for (auto& x : xs)
              result = result || x == command;
          },
          [](caf::error&) {});
  return result;
}

/// Waits until `pred` holds, at most `limit`.
template <class Pred>
bool wait_for(caf::actor_system& sys, Pred pred,
              std::chrono::milliseconds limit) {
  caf::scoped_actor self{sys};
  auto deadline = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() >= deadline)
      return false;
    self->receive(caf::after(10ms) >> [] {});
  }
  return true;
}

/// Publishes `server`'s supervisor with `transport`, starts the second process
/// (this program again) to attach `bench-reply` to it, measures, then ends
/// the second process and unpublishes.
bool measure_remote(caf::actor_system& sys, local_peer& asker,
                    local_peer& server, const std::string& certs,
                    remote_transport transport, std::size_t requests,
                    std::size_t window, remote_rates& rates,
                    std::size_t& failed) {
  auto port = publish_supervisor(server, 0, "127.0.0.1", transport);
  if (!port) {
    std::fprintf(stderr, "cannot publish: %s\n", render(port.error()).c_str());
    return false;
  }
  std::string path = "/proc/self/exe";
  std::vector<std::string> args{
      path, "--bench.serve-concern=" + std::to_string(*port),
      "--bench.remote-certs=" + certs};
  if (transport == remote_transport::plain)
    args.emplace_back("--bench.serve-plain");
  std::vector<char*> argv;
  for (auto& x : args)
    argv.push_back(x.data());
  argv.push_back(nullptr);
  pid_t child = -1;
  auto started = clock_type::now();
  if (posix_spawn(&child, path.c_str(), nullptr, nullptr, argv.data(),
                  environ) != 0) {
    std::fprintf(stderr, "cannot start the second process\n");
    return false;
  }
  auto ok = wait_for(
      sys, [&] { return serves(sys, server); }, 10000ms);
  if (ok) {
    rates.attach_ms =
        std::chrono::duration<double, std::milli>(clock_type::now() - started)
            .count();
    rates.window =
        run_driver(sys, asker, server.uuid(), requests, window, failed);
    rates.one = run_driver(sys, asker, server.uuid(),
                           std::max<std::size_t>(requests / 8, 1), 1, failed);
  } else {
    std::fprintf(stderr, "the second process did not attach\n");
  }
  ::kill(child, SIGTERM);
  int status = 0;
  auto ended = wait_for(
      sys, [&] { return ::waitpid(child, &status, WNOHANG) == child; },
      10000ms);
  if (!ended) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  wait_for(
      sys, [&] { return !serves(sys, server); }, 10000ms);
  unpublish_supervisor(server, *port);
  return ok;
}

} // namespace

concern_rates measure_concern_rates(caf::actor_system& sys, const config& base,
                                    const std::string& certs,
                                    std::size_t requests, std::size_t window) {
  concern_rates result;
  result.requests = requests;
  result.window = window;
  auto context = std::make_shared<zmq::context_t>(1);
  auto settings = base;
  settings.encryption = false;
  settings.send_queue_limit = 0;
  settings.uuid = "bench-asker-a";
  local_peer asker{sys, settings, context};
  settings.uuid = "bench-server-b";
  local_peer server{sys, settings, context};
  if (asker.start() || server.start())
    return result;
  asker.add_peer(server.uuid(), "127.0.0.1", server.port());
  auto connected = [&] {
    auto p = asker.find_peer(server.uuid());
    auto q = server.find_peer(asker.uuid());
    return p && q && p->state == peer_state::connected &&
           q->state == peer_state::connected;
  };
  if (!wait_for(sys, connected, 10000ms)) {
    std::fprintf(stderr, "the pair did not connect\n");
    return result;
  }
  // In this process.
  server.add_concern(command, replier());
  result.local =
      run_driver(sys, asker, server.uuid(), requests, window, result.failed);
  server.remove_concern(command);
  // In another process, over TLS and over plain BASP, one after the other.
  for (auto transport : {remote_transport::tls, remote_transport::plain}) {
    auto& rates =
        transport == remote_transport::tls ? result.tls : result.plain;
    if (!measure_remote(sys, asker, server, certs, transport, requests, window,
                        rates, result.failed))
      break;
  }
  server.stop();
  asker.stop();
  return result;
}

int serve_concern(caf::actor_system& sys, std::uint16_t port, bool plain) {
  auto concern = attach_concern(
      sys, "127.0.0.1", port, command, replier(), std::chrono::seconds{10},
      plain ? remote_transport::plain : remote_transport::tls);
  if (!concern) {
    std::fprintf(stderr, "cannot attach: %s\n",
                 render(concern.error()).c_str());
    return 1;
  }
  // Serves until the supervisor goes away or SIGTERM ends the process.
  caf::scoped_actor self{sys};
  self->wait_for(*concern);
  return 0;
}

namespace {

const std::string ping_command = "bench-rt";

/// Round trips of its command to `peer`, one at a time. The first few warm
/// the path up and are not timed. A request whose reply did not come within
/// `lost_after` (the first can find the dispatcher before the concern is
/// registered) is sent again, untimed.
class pinger final : public concern_base {
public:
  pinger(caf::actor_config& cfg, concern_context ctx, std::string peer,
         std::size_t count, payload body, caf::actor listener)
      : concern_base(cfg, std::move(ctx)),
        peer_(std::move(peer)),
        count_(count),
        body_(std::move(body)),
        listener_(std::move(listener)) {
    times_.reserve(count_);
  }

  const char* name() const override {
    return "p2p0mq.bench.pinger";
  }

protected:
  void on_start() override {
    tick_every(lost_after);
    ping();
  }

  void on_tick() override {
    if (times_.size() < count_ && clock_type::now() - sent_at_ >= lost_after)
      ping();
  }

  void on_reply(const message& msg) override {
    if (msg.id != waiting_for_ || times_.size() == count_)
      return;
    auto us =
        std::chrono::duration<double, std::micro>(clock_type::now() - sent_at_)
            .count();
    if (warm_up_ > 0)
      --warm_up_;
    else
      times_.push_back(us);
    if (times_.size() == count_) {
      tick_every(duration::zero());
      caf::anon_send(listener_, std::move(times_));
      return;
    }
    ping();
  }

  bool on_send_failed(const message&, const caf::error&) override {
    return true;
  }

private:
  static constexpr auto lost_after = std::chrono::seconds{1};

  void ping() {
    sent_at_ = clock_type::now();
    waiting_for_ = send_request(peer_, body_).id;
  }

  std::string peer_;
  std::size_t count_;
  payload body_;
  caf::actor listener_;
  std::size_t warm_up_ = 10;
  std::uint64_t waiting_for_ = 0;
  clock_type::time_point sent_at_;
  std::vector<double> times_;
};

} // namespace

std::vector<double> concern_round_trips(caf::actor_system& sys,
                                        local_peer& from, local_peer& to,
                                        std::size_t count,
                                        const payload& body) {
  caf::scoped_actor self{sys};
  std::vector<double> result;
  if (count == 0 || to.add_concern(ping_command, echo()))
    return result;
  if (from.add_concern(ping_command, concern_class<pinger>(
                                         to.uuid(), count, body,
                                         caf::actor_cast<caf::actor>(self)))) {
    to.remove_concern(ping_command);
    return result;
  }
  // At most 5 s, and 1 ms more a round trip (one takes well under that).
  self->receive(
      [&](std::vector<double>& times) { result = std::move(times); },
      caf::after(std::chrono::seconds{5} + std::chrono::milliseconds{count}) >>
          [] {});
  from.remove_concern(ping_command);
  to.remove_concern(ping_command);
  return result;
}

} // namespace p2p0mq::bench
