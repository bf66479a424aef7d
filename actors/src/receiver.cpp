#include "p2p0mq/actors/receiver.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/eventfd.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>
#include <zmq.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace detail {

/// What the receiver's thread and its controller share: an eventfd that ends
/// the thread's wait, and counters.
class stop_signal {
public:
  stop_signal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "eventfd");
  }

  ~stop_signal() {
    ::close(fd_);
  }

  stop_signal(const stop_signal&) = delete;
  stop_signal& operator=(const stop_signal&) = delete;

  void raise() noexcept {
    std::uint64_t one = 1;
    // A full counter (never reached) would only mean it is raised already.
    [[maybe_unused]] auto written = ::write(fd_, &one, sizeof(one));
  }

  int fd() const noexcept {
    return fd_;
  }

  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> received{0};

private:
  int fd_;
};

} // namespace detail

namespace {

/// Most messages handed to the manager in one batch.
constexpr std::size_t max_batch = 1024;

/// Reads one whole multi-part message, keeping at most `frame_count + 1`
/// parts (the rest are read and discarded). Returns false when no message is
/// waiting.
bool read_message(zmq::socket_t& socket, std::vector<zmq::message_t>& parts,
                  std::size_t& total_parts) {
  parts.clear();
  total_parts = 0;
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait))
    return false;
  for (;;) {
    ++total_parts;
    bool more = part.more();
    if (parts.size() <= frame_count)
      parts.emplace_back(std::move(part));
    if (!more)
      return true;
    // The remaining parts of a message are always there at once.
    if (!socket.recv(part, zmq::recv_flags::none))
      return true;
  }
}

void drain(zmq::socket_t& socket, detail::stop_signal& sig,
           const std::string& local_uuid, caf::blocking_actor* self,
           const manager_actor& manager) {
  std::vector<zmq::message_t> parts;
  parts.reserve(frame_count + 1);
  std::vector<std::string_view> views;
  views.reserve(frame_count + 1);
  std::vector<message> batch;
  std::size_t total_parts = 0;
  while (read_message(socket, parts, total_parts)) {
    views.clear();
    for (auto& part : parts)
      views.emplace_back(part.data<char>(), part.size());
    if (total_parts != views.size()) {
      sig.malformed.fetch_add(1, std::memory_order_relaxed);
      log(log_level::warning, log_category::wire, "dropped a message of ",
          total_parts, " frames from ",
          short_uuid(std::string{views.empty() ? "" : views[0]}));
      continue;
    }
    auto msg = decode(views, local_uuid);
    if (!msg) {
      sig.malformed.fetch_add(1, std::memory_order_relaxed);
      log(log_level::warning, log_category::wire, "dropped a message from ",
          short_uuid(std::string{views[0]}), ": ", render(msg.error()));
      continue;
    }
    batch.emplace_back(std::move(*msg));
    if (batch.size() == max_batch) {
      sig.received.fetch_add(batch.size(), std::memory_order_relaxed);
      self->send(manager, incoming_atom::value, std::move(batch));
      batch = {};
    }
  }
  if (!batch.empty()) {
    sig.received.fetch_add(batch.size(), std::memory_order_relaxed);
    self->send(manager, incoming_atom::value, std::move(batch));
  }
}

void receiver_loop(caf::blocking_actor* self,
                   std::shared_ptr<zmq::socket_t> socket,
                   std::shared_ptr<detail::stop_signal> sig,
                   std::string local_uuid, manager_actor manager) {
  zmq::pollitem_t items[] = {
      {static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0},
      {nullptr, sig->fd(), ZMQ_POLLIN, 0},
  };
  try {
    for (;;) {
      try {
        zmq::poll(items, 2, std::chrono::milliseconds{-1});
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR)
          continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN)
        break;
      if (items[0].revents & ZMQ_POLLIN)
        drain(*socket, *sig, local_uuid, self, manager);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM)
      log(log_level::error, log_category::wire, "receiver of ",
          short_uuid(local_uuid), " stops on a socket error: ", e.what());
  }
  socket->close();
}

} // namespace

receiver::receiver(caf::actor self, std::shared_ptr<detail::stop_signal> signal)
    : self_(std::move(self)), signal_(std::move(signal)) {
}

void receiver::stop() {
  if (signal_)
    signal_->raise();
}

std::uint64_t receiver::malformed() const noexcept {
  return signal_ ? signal_->malformed.load() : 0;
}

std::uint64_t receiver::received() const noexcept {
  return signal_ ? signal_->received.load() : 0;
}

receiver spawn_receiver(caf::actor_system& sys, zmq::socket_t socket,
                        std::string local_uuid, manager_actor manager) {
  auto sig = std::make_shared<detail::stop_signal>();
  auto sock = std::make_shared<zmq::socket_t>(std::move(socket));
  auto self =
      sys.spawn<caf::detached>(receiver_loop, std::move(sock), sig,
                               std::move(local_uuid), std::move(manager));
  return receiver{std::move(self), std::move(sig)};
}

} // namespace p2p0mq
