#include "bench/external.hpp"

#include "bench/stats.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.hpp>

#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/uuid.hpp"

extern char** environ;

namespace p2p0mq::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// How long a reply may take before its request counts as lost.
constexpr int reply_limit_ms = 10000;

// -- processes ----------------------------------------------------------------

/// A program run in a process of its own, its standard error read by a
/// thread of ours (so that it never blocks on a full pipe) and kept.
class child_process {
public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    stop();
  }

  /// Starts `args` and waits up to 30 s for the line "listening on
  /// 127.0.0.1:PORT" on its standard error. Returns an error text or empty.
  std::string start(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
      return std::string{"pipe: "} + std::strerror(errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (auto& x : args)
      argv.push_back(const_cast<char*>(x.c_str()));
    argv.push_back(nullptr);
    auto rc = posix_spawn(&pid_, args[0].c_str(), &actions, nullptr,
                          argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      pid_ = -1;
      return "cannot run " + args[0] + ": " + std::strerror(rc);
    }
    // Reads until the port is announced, then hands the pipe to a thread.
    std::string seen;
    auto deadline = clock_type::now() + std::chrono::seconds{30};
    const std::string_view marker = "listening on 127.0.0.1:";
    while (port_ == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - clock_type::now())
                      .count();
      pollfd item{fds[0], POLLIN, 0};
      if (left <= 0 || ::poll(&item, 1, static_cast<int>(left)) <= 0)
        break;
      char buf[512];
      auto n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0)
        break;
      seen.append(buf, static_cast<std::size_t>(n));
      if (auto at = seen.find(marker); at != std::string::npos) {
        auto digits = at + marker.size();
        auto end = seen.find_first_not_of("0123456789", digits);
        if (end != std::string::npos && end > digits)
          port_ = static_cast<std::uint16_t>(
              std::stoi(seen.substr(digits, end - digits)));
      }
    }
    output_ = seen;
    fd_ = fds[0];
    reader_ = std::thread{[this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd_, buf, sizeof(buf))) > 0)
        if (output_.size() < 65536)
          output_.append(buf, static_cast<std::size_t>(n));
    }};
    if (port_ == 0)
      return args[0] + " did not announce its port within 30 s: " + seen;
    return {};
  }

  std::uint16_t port() const noexcept {
    return port_;
  }

  pid_t pid() const noexcept {
    return pid_;
  }

  /// CPU time of the process so far (user and system, every thread), in
  /// seconds; 0 when it cannot be read.
  double cpu_seconds() const {
    std::ifstream in{"/proc/" + std::to_string(pid_) + "/stat"};
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    // The fields after the command name, which is in parentheses.
    auto close = text.rfind(')');
    if (close == std::string::npos)
      return 0;
    std::istringstream fields{text.substr(close + 2)};
    std::string x;
    unsigned long long utime = 0, stime = 0;
    // Fields 3 to 13 come first; utime and stime are 14 and 15.
    for (int i = 3; i <= 13; ++i)
      fields >> x;
    fields >> utime >> stime;
    return static_cast<double>(utime + stime) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
  }

  /// Ends the process (SIGTERM), waits for it and returns what it wrote to
  /// standard error.
  std::string stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (reader_.joinable())
      reader_.join();
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    return output_;
  }

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread reader_;
  std::string output_;
};

/// The path of this program, for running it again as the raw echo peer.
std::string own_path() {
  char buf[4096];
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string{};
}

// -- the wire -----------------------------------------------------------------

/// Reads a msgpack unsigned integer (a message id, frame 5); 0 when the
/// frame holds none.
std::uint64_t read_id(const zmq::message_t& frame) {
  auto* p = frame.data<unsigned char>();
  auto n = frame.size();
  if (n == 0)
    return 0;
  if (p[0] < 0x80)
    return n == 1 ? p[0] : 0;
  std::size_t width = 0;
  switch (p[0]) {
  case 0xcc:
    width = 1;
    break;
  case 0xcd:
    width = 2;
    break;
  case 0xce:
    width = 4;
    break;
  case 0xcf:
    width = 8;
    break;
  default:
    return 0;
  }
  if (n != width + 1)
    return 0;
  std::uint64_t x = 0;
  for (std::size_t i = 1; i <= width; ++i)
    x = (x << 8) | p[i];
  return x;
}

/// Reads the rest of the message whose first frame is `first` from
/// `socket` into `parts` (at most `frame_count` kept). Returns the number
/// of frames it had.
std::size_t read_parts(zmq::socket_t& socket, zmq::message_t& first,
                       std::array<zmq::message_t, frame_count>& parts) {
  std::size_t n = 1;
  bool more = first.more();
  parts[0] = std::move(first);
  zmq::message_t part;
  while (more) {
    if (!socket.recv(part, zmq::recv_flags::none))
      return n;
    more = part.more();
    if (n < frame_count)
      parts[n] = std::move(part);
    ++n;
  }
  return n;
}

bool is(const zmq::message_t& frame, std::string_view text) {
  return frame.to_string_view() == text;
}

const std::string request_kind(1, static_cast<char>(message_kind::request));
const std::string reply_kind(1, static_cast<char>(message_kind::reply));

/// The load generator's side of one echo peer: a DEALER that sends to the
/// peer's receiver under the generator's uuid, and a ROUTER the peer's
/// replies come to (the address announced in `hello`).
class load_client {
public:
  load_client(zmq::context_t& ctx, std::uint16_t target_port)
      : uuid_(make_uuid()),
        out_(ctx, zmq::socket_type::dealer),
        in_(ctx, zmq::socket_type::router) {
    in_.set(zmq::sockopt::linger, 0);
    in_.set(zmq::sockopt::rcvhwm, 0);
    in_.bind("tcp://127.0.0.1:*");
    auto endpoint = in_.get(zmq::sockopt::last_endpoint);
    port_ = static_cast<std::uint16_t>(
        std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    out_.set(zmq::sockopt::routing_id, uuid_);
    out_.set(zmq::sockopt::linger, 0);
    out_.set(zmq::sockopt::sndhwm, 0);
    out_.connect("tcp://127.0.0.1:" + std::to_string(target_port));
    body_ = payload_builder{}.add_integer("seq", 1000).build().bytes();
  }

  /// Greets the peer and waits for its answer.
  bool greet() {
    auto hello = make_hello_payload("127.0.0.1", port_).bytes();
    send(hello_command, next_id_++, hello);
    auto deadline =
        clock_type::now() + std::chrono::milliseconds{reply_limit_ms};
    while (clock_type::now() < deadline) {
      auto got = receive(reply_limit_ms);
      if (got && *got == reply_of::hello)
        return true;
    }
    return false;
  }

  /// Sends an `echo` request; returns its id.
  std::uint64_t send_echo() {
    auto id = next_id_++;
    send(echo_command, id, body_);
    return id;
  }

  enum class reply_of { none, hello, echo };

  /// Waits up to `timeout_ms` for a message. Returns what it answers (none
  /// for anything but a reply to `hello` or `echo`), or nothing on timeout.
  std::optional<reply_of> receive(int timeout_ms) {
    // A message already there is read without a poll (and its system call).
    if (auto r = poll_now())
      return r;
    zmq::pollitem_t item{in_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds{timeout_ms}) == 0)
      return std::nullopt;
    return poll_now();
  }

  /// Reads a message that is waiting, without blocking.
  std::optional<reply_of> poll_now() {
    zmq::message_t first;
    if (!in_.recv(first, zmq::recv_flags::dontwait))
      return std::nullopt;
    return take(first);
  }

  std::uint64_t last_id() const noexcept {
    return last_id_;
  }

private:
  reply_of take(zmq::message_t& first) {
    if (read_parts(in_, first, parts_) != frame_count ||
        !is(parts_[3], reply_kind))
      return reply_of::none;
    last_id_ = read_id(parts_[5]);
    if (is(parts_[4], echo_command))
      return reply_of::echo;
    if (is(parts_[4], hello_command))
      return reply_of::hello;
    return reply_of::none;
  }

  void send(std::string_view command, std::uint64_t id,
            const std::string& body) {
    auto more = zmq::send_flags::sndmore;
    out_.send(zmq::message_t{}, more);
    out_.send(zmq::message_t{}, more);
    out_.send(zmq::buffer(request_kind), more);
    out_.send(zmq::buffer(command), more);
    out_.send(zmq::buffer(encode_message_id(id)), more);
    out_.send(zmq::buffer(body), zmq::send_flags::none);
  }

  static constexpr std::string_view hello_command = "hello";
  static constexpr std::string_view echo_command = "echo";

  std::string uuid_;
  zmq::socket_t out_;
  zmq::socket_t in_;
  std::uint16_t port_ = 0;
  std::string body_;
  std::uint64_t next_id_ = 1;
  std::uint64_t last_id_ = 0;
  std::array<zmq::message_t, frame_count> parts_;
};

using reply_of = load_client::reply_of;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Sends `count` requests, `window` in flight; returns replies per second
/// (0 when some got no reply, which `lost` counts).
double throughput(load_client& c, std::size_t count, std::size_t window,
                  std::size_t& lost) {
  std::size_t sent = 0, got = 0;
  auto t0 = clock_type::now();
  while (got < count) {
    while (sent < count && sent - got < window) {
      c.send_echo();
      ++sent;
    }
    auto r = c.receive(reply_limit_ms);
    if (!r) {
      lost += sent - got;
      return 0;
    }
    if (*r == reply_of::echo)
      ++got;
  }
  return static_cast<double>(count) / seconds_since(t0);
}

/// Plays `count` round trips, one at a time; returns each in microseconds
/// (none when one got no reply).
std::vector<double> round_trips(load_client& c, std::size_t count,
                                std::size_t& lost) {
  std::vector<double> result;
  result.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto t0 = clock_type::now();
    auto id = c.send_echo();
    for (;;) {
      auto r = c.receive(reply_limit_ms);
      if (!r) {
        ++lost;
        return {};
      }
      if (*r == reply_of::echo && c.last_id() == id)
        break;
    }
    result.push_back(
        std::chrono::duration<double, std::micro>(clock_type::now() - t0)
            .count());
  }
  return result;
}

/// Sends requests at `rate` per second for `secs`, reading replies in
/// between; fills the paced figures of `side` from the CPU `target` spent
/// meanwhile.
void paced(load_client& c, const child_process& target, double rate,
           double secs, external_side& side, std::size_t& lost) {
  auto total = static_cast<std::size_t>(rate * secs);
  std::size_t sent = 0, got = 0;
  auto cpu0 = target.cpu_seconds();
  auto t0 = clock_type::now();
  auto due = [&](std::size_t i) {
    return t0 +
           std::chrono::duration_cast<clock_type::duration>(
               std::chrono::duration<double>(static_cast<double>(i) / rate));
  };
  while (got < total) {
    auto now = clock_type::now();
    while (sent < total && due(sent) <= now) {
      c.send_echo();
      ++sent;
    }
    // Takes every reply waiting, then waits for the next one or the next
    // send, whichever comes first.
    while (auto r = c.poll_now())
      if (*r == reply_of::echo)
        ++got;
    if (got == total)
      break;
    int wait = reply_limit_ms;
    if (sent < total)
      wait = static_cast<int>(std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(
                 due(sent) - clock_type::now())
                 .count()));
    auto r = c.receive(wait);
    if (!r && sent == total) {
      lost += sent - got;
      return;
    }
    if (r && *r == reply_of::echo)
      ++got;
  }
  side.paced_rate = static_cast<double>(total) / seconds_since(t0);
  side.cpu_us =
      1e6 * (target.cpu_seconds() - cpu0) / static_cast<double>(total);
}

} // namespace

external_rates measure_external(const external_options& opts) {
  external_rates result;
  result.opts = opts;
  child_process raw;
  child_process node;
  if (auto err = raw.start({own_path(), "--bench.serve-raw-echo=true"});
      !err.empty()) {
    result.error = err;
    return result;
  }
  if (auto err = node.start({opts.node, "--echo", "--no-encryption", "--bind",
                             "127.0.0.1:0", "--certs", opts.certs});
      !err.empty()) {
    result.error = err;
    return result;
  }
  zmq::context_t ctx{1};
  load_client to_raw{ctx, raw.port()};
  load_client to_node{ctx, node.port()};
  if (!to_raw.greet() || !to_node.greet()) {
    result.error =
        "an echo peer did not answer hello within 10 s" + node.stop();
    return result;
  }
  struct figures {
    std::vector<double> rates, p50s, p99s;
  };
  figures of_raw, of_node;
  auto round = [&](load_client& c, figures& f) {
    f.rates.push_back(throughput(c, opts.requests, opts.window, result.lost));
    auto rts = round_trips(c, opts.round_trips, result.lost);
    f.p50s.push_back(percentile(rts, 0.5));
    f.p99s.push_back(percentile(rts, 0.99));
  };
  // A first short round each, unmeasured: connections, caches and
  // allocators settle.
  {
    std::size_t ignored = 0;
    throughput(to_raw, opts.requests / 10, opts.window, ignored);
    throughput(to_node, opts.requests / 10, opts.window, ignored);
  }
  for (std::size_t i = 0; i < opts.rounds; ++i) {
    round(to_raw, of_raw);
    round(to_node, of_node);
  }
  auto fill = [](external_side& side, const figures& f) {
    side.rate = median(f.rates);
    side.p50 = median(f.p50s);
    side.p99 = median(f.p99s);
  };
  fill(result.raw, of_raw);
  fill(result.node, of_node);
  paced(to_raw, raw, opts.paced_rate, opts.paced_secs, result.raw, result.lost);
  paced(to_node, node, opts.paced_rate, opts.paced_secs, result.node,
        result.lost);
  raw.stop();
  auto log = node.stop();
  if (result.lost > 0)
    result.error = "requests without a reply; the node wrote: " + log;
  return result;
}

int serve_raw_echo() {
  zmq::context_t ctx{1};
  zmq::socket_t in{ctx, zmq::socket_type::router};
  in.set(zmq::sockopt::linger, 0);
  in.set(zmq::sockopt::rcvhwm, 0);
  in.bind("tcp://127.0.0.1:*");
  auto endpoint = in.get(zmq::sockopt::last_endpoint);
  auto port = static_cast<std::uint16_t>(
      std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
  zmq::socket_t out{ctx, zmq::socket_type::router};
  out.set(zmq::sockopt::routing_id, make_uuid());
  out.set(zmq::sockopt::router_mandatory, true);
  out.set(zmq::sockopt::linger, 0);
  out.set(zmq::sockopt::sndhwm, 0);
  std::fprintf(stderr, "listening on 127.0.0.1:%u\n", port);
  std::fflush(stderr);
  std::set<std::string> connected;
  std::array<zmq::message_t, frame_count> parts;
  auto more = zmq::send_flags::sndmore;
  zmq::pollitem_t readable{in.handle(), 0, ZMQ_POLLIN, 0};
  for (;;) {
    // Like a local peer's receiver: take what is waiting without a system
    // call, and wait in a poll only when nothing is.
    zmq::message_t first;
    if (!in.recv(first, zmq::recv_flags::dontwait)) {
      zmq::poll(&readable, 1, std::chrono::milliseconds{-1});
      continue;
    }
    if (read_parts(in, first, parts) != frame_count ||
        !is(parts[3], request_kind))
      continue;
    try {
      if (is(parts[4], "hello")) {
        auto body = payload::parse(parts[6].to_string_view());
        if (!body)
          continue;
        auto hello = parse_hello_payload(*body);
        if (!hello)
          continue;
        auto client = parts[0].to_string();
        if (connected.insert(client).second) {
          out.set(zmq::sockopt::connect_routing_id, client);
          out.connect("tcp://" + hello->host + ":" +
                      std::to_string(hello->port));
        }
        auto answer = make_hello_payload("127.0.0.1", port).bytes();
        out.send(zmq::buffer(client), more);
        out.send(zmq::message_t{}, more);
        out.send(zmq::message_t{}, more);
        out.send(zmq::buffer(reply_kind), more);
        out.send(parts[4], more);
        out.send(parts[5], more);
        out.send(zmq::buffer(answer), zmq::send_flags::none);
      } else if (is(parts[4], "echo")) {
        // The frames go back as they came: the previous hop names the
        // connection; the command, id and payload are the request's.
        out.send(parts[0], more);
        out.send(zmq::message_t{}, more);
        out.send(zmq::message_t{}, more);
        out.send(zmq::buffer(reply_kind), more);
        out.send(parts[4], more);
        out.send(parts[5], more);
        out.send(parts[6], zmq::send_flags::none);
      }
    } catch (const zmq::error_t& e) {
      std::fprintf(stderr, "raw echo peer: %s\n", e.what());
    }
  }
}

} // namespace p2p0mq::bench
