#include "p2p0mq/actors/receiver.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/execution_unit.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/send.hpp>
#include <zmq.hpp>

#include "monitor.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/uuid.hpp"
#include "p2p0mq/zap.hpp"
#include "wake_fd.hpp"

namespace p2p0mq {

namespace detail {

/// The codes of malformed messages: `errc::malformed_frame_count` (1) to
/// `errc::malformed_payload` (6).
constexpr std::size_t malformed_codes = 6;

/// What the receiver's thread and its controller share: the signal that
/// ends the thread's wait, and counters.
class stop_signal {
public:
  void raise() noexcept {
    wake.raise();
  }

  int fd() const noexcept {
    return wake.fd();
  }

  wake_fd wake;
  std::atomic<std::uint64_t> malformed{0};
  /// Malformed messages by the code of their error, `errc::malformed_*`.
  std::array<std::atomic<std::uint64_t>, malformed_codes> malformed_by_code{};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> impostors{0};
  std::atomic<std::uint64_t> handshake_failures{0};
};

} // namespace detail

namespace {

/// Runs on the receiver's thread the actors its batches wake up: the
/// dispatcher, then the concerns, the router and the sender the dispatcher
/// hands messages to, and so on. Each would otherwise wait for a worker of
/// CAF's scheduler, and an idle worker takes tens of microseconds to wake
/// up: once per direction of every round trip. Like a worker, the receiver
/// resumes an actor only when its mailbox went from empty to not empty, so
/// an actor still runs on one thread at a time. A turn resumes at most
/// `receiver_options::inline_resumes` actors, each for at most
/// `max_throughput` messages of its mailbox (an actor that others keep
/// busy would hold the thread for ever); what is left then goes to the
/// scheduler, so that the receiver gets back to its socket.
class inline_unit final : public caf::execution_unit {
public:
  /// Most messages of its mailbox an actor handles in one resume here.
  static constexpr std::size_t max_throughput = 64;

  explicit inline_unit(caf::actor_system& sys)
      : caf::execution_unit(&sys),
        max_throughput_(
            std::min(sys.scheduler().max_throughput(), max_throughput)) {
    // nop
  }

  inline_unit(const inline_unit&) = delete;
  inline_unit& operator=(const inline_unit&) = delete;

  ~inline_unit() override {
    hand_over_rest();
  }

  /// Called by an actor's `enqueue` with a reference to the actor it woke.
  void exec_later(caf::resumable* job) override {
    jobs_.push_back(job);
  }

  /// Resumes the actors woken up, and those they wake, until none is left or
  /// `max_resumes` ran; hands the rest to the scheduler.
  void run(std::size_t max_resumes) {
    for (std::size_t n = 0; n < max_resumes && !jobs_.empty(); ++n) {
      auto* job = jobs_.front();
      jobs_.pop_front();
      switch (job->resume(this, max_throughput_)) {
      case caf::resumable::resume_later:
        // Its mailbox holds more than one resume takes: it goes again
        // after the others.
        jobs_.push_back(job);
        break;
      default:
        // Waits for its next message (or ended): drops the reference
        // `exec_later` came with, as a worker does.
        caf::intrusive_ptr_release(job);
      }
    }
    hand_over_rest();
  }

private:
  void hand_over_rest() {
    for (auto* job : jobs_)
      system().scheduler().enqueue(job);
    jobs_.clear();
  }

  std::size_t max_throughput_;
  std::deque<caf::resumable*> jobs_;
};

/// Most messages handed to the dispatcher in one batch.
constexpr std::size_t max_batch = 1024;

/// Most bytes of frames handed to the dispatcher in one batch (a batch ends
/// with the message that reaches it).
constexpr std::size_t max_batch_bytes = std::size_t{4} << 20;

/// Most messages a turn may have read for the actors its hand-over wakes to
/// run on the receiver's thread (see `inline_unit`); after a heavier turn
/// they go to the scheduler.
constexpr std::size_t max_inline_turn = 8;

/// Most messages, and bytes of frames, read in one turn of the loop: then
/// the receiver looks at its stop signal, its monitors and its log again,
/// even while a client floods it (the poll returns at once while messages
/// wait).
constexpr std::size_t max_reads_per_turn = 4 * max_batch;
constexpr std::size_t max_bytes_per_turn = max_batch_bytes;

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

/// A metadata property of the connection of the message in `parts` (read
/// from a frame that came over the wire: frame 0 is made by the ROUTER
/// socket), or empty.
std::string property(std::vector<zmq::message_t>& parts, const char* name) {
  auto value = zmq_msg_gets(parts.back().handle(), name);
  return value ? value : "";
}

/// Counts a malformed message and logs it through `log`, keyed by `source`.
template <class F>
void count_malformed(detail::stop_signal& sig, log_limiter& limiter,
                     caf::blocking_actor* self, const std::string& source,
                     errc code, F&& make_line) {
  sig.malformed.fetch_add(1, std::memory_order_relaxed);
  auto i = static_cast<std::size_t>(code) - 1;
  if (i < detail::malformed_codes)
    sig.malformed_by_code[i].fetch_add(1, std::memory_order_relaxed);
  limiter.report(self->clock().now(), source, log_kinds::malformed_message,
                 log_reason(make_error(code)), std::forward<F>(make_line));
}

/// Reads and hands over the messages waiting, until none is left, the
/// credit is used up, or it read a turn's worth.
void drain(zmq::socket_t& socket, detail::stop_signal& sig,
           const std::string& local_uuid, bool check_user_id,
           caf::blocking_actor* self, const dispatcher_actor& dispatcher,
           receive_credit* credit, log_limiter& limiter,
           caf::execution_unit* unit) {
  std::vector<zmq::message_t> parts;
  parts.reserve(frame_count + 1);
  std::vector<std::string_view> views;
  views.reserve(frame_count + 1);
  std::vector<message> batch;
  std::size_t batch_bytes = 0;
  // Messages handed over in this turn.
  std::size_t handed = 0;
  std::string user_id;
  std::string routing_id;
  // Who a log line about the current message is keyed by: the owner of its
  // connection's key when encryption is on (its client cannot change it),
  // else the routing id the client announced.
  auto source = [&]() -> const std::string& {
    routing_id.assign(views[0]);
    if (check_user_id) {
      user_id = property(parts, "User-Id");
      if (!user_id.empty())
        return user_id;
    }
    return routing_id;
  };
  auto hand_over = [&] {
    // Taken before the dispatcher can give it back.
    if (credit)
      credit->take();
    sig.received.fetch_add(batch.size(), std::memory_order_relaxed);
    auto size = batch.size();
    handed += size;
    // Through `unit`, if any, while the turn is light: the dispatcher, if
    // idle, runs on this thread. A heavy turn goes to the scheduler, whose
    // workers are awake under such a load and work beside this thread.
    auto* eu = handed <= max_inline_turn ? unit : nullptr;
    caf::actor_cast<caf::strong_actor_ptr>(dispatcher)
        ->enqueue(
            caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {},
                                      incoming_atom::value, std::move(batch)),
            eu);
    // The next batch is likely as long: room for it at once spares the
    // moves of a growing vector.
    batch = {};
    batch.reserve(size);
    batch_bytes = 0;
  };
  std::size_t total_parts = 0;
  std::size_t reads = 0;
  std::size_t bytes = 0;
  while (reads++ < max_reads_per_turn && bytes < max_bytes_per_turn &&
         (!credit || credit->available()) &&
         read_message(socket, parts, total_parts)) {
    views.clear();
    for (auto& part : parts) {
      views.emplace_back(part.data<char>(), part.size());
      batch_bytes += part.size();
      bytes += part.size();
    }
    if (total_parts != views.size() || total_parts != frame_count) {
      count_malformed(
          sig, limiter, self, source(), errc::malformed_frame_count, [&] {
            return "dropped a message of " + std::to_string(total_parts) +
                   " frames from " + quote_bytes(views[0]);
          });
      continue;
    }
    if (check_user_id) {
      user_id = property(parts, "User-Id");
      if (user_id != views[0]) {
        sig.impostors.fetch_add(1, std::memory_order_relaxed);
        routing_id.assign(views[0]);
        auto why = user_id.empty() ? "no known key" : "another peer's uuid";
        limiter.report(
            self->clock().now(), user_id.empty() ? routing_id : user_id,
            log_kinds::impostor, why, [&] {
              auto key = property(parts, zap_key_property);
              std::string line = "dropped a message whose previous "
                                 "hop claims to be " +
                                 quote_bytes(routing_id);
              line += key.empty()
                          ? ", but whose connection's key"
                          : ", but whose connection's key " + quote_bytes(key);
              line += user_id.empty() ? " belongs to no known peer"
                                      : " belongs to " + quote_bytes(user_id);
              return line;
            });
        continue;
      }
    }
    auto msg = decode(views, local_uuid);
    if (!msg) {
      auto code = static_cast<errc>(msg.error().code());
      count_malformed(sig, limiter, self, source(), code, [&] {
        return "dropped a message from " + quote_bytes(views[0]) + ": " +
               render(msg.error());
      });
      continue;
    }
    batch.emplace_back(std::move(*msg));
    if (batch.size() == max_batch || batch_bytes >= max_batch_bytes)
      hand_over();
  }
  if (!batch.empty())
    hand_over();
}

void receiver_loop(caf::blocking_actor* self,
                   std::shared_ptr<zmq::socket_t> socket,
                   std::shared_ptr<detail::stop_signal> sig,
                   std::string local_uuid, dispatcher_actor dispatcher,
                   receiver_options opts) {
  auto* credit = opts.credit.get();
  // While the credit is used up, the socket's entry waits on the credit's
  // descriptor instead.
  const zmq::pollitem_t read_socket{static_cast<void*>(*socket), 0, ZMQ_POLLIN,
                                    0};
  const zmq::pollitem_t await_credit{nullptr, credit ? credit->fd() : -1,
                                     ZMQ_POLLIN, 0};
  std::vector<zmq::pollitem_t> items{
      read_socket,
      {nullptr, sig->fd(), ZMQ_POLLIN, 0},
  };
  // Monitor sockets follow, in this order.
  std::vector<std::pair<zmq::socket_t*, detail::socket_role>> monitors;
  if (opts.receiver_monitor)
    monitors.emplace_back(opts.receiver_monitor.get(),
                          detail::socket_role::receiver);
  if (opts.sender_monitor)
    monitors.emplace_back(opts.sender_monitor.get(),
                          detail::socket_role::sender);
  for (auto& [monitor, role] : monitors)
    items.push_back({static_cast<void*>(*monitor), 0, ZMQ_POLLIN, 0});
  detail::handshake_log::lost_handler on_lost;
  if (opts.sender)
    on_lost = [self, sender = opts.sender](const std::string& endpoint) {
      self->send(sender, lost_atom::value, endpoint);
    };
  log_limiter limiter{opts.logging};
  inline_unit unit{self->system()};
  detail::handshake_log handshakes{local_uuid, opts.encryption, limiter,
                                   std::move(on_lost)};
  // The poll waits for input, or until the log has a summary to write.
  auto timeout = [&] {
    auto due = limiter.next_due();
    if (due == time_point::max())
      return std::chrono::milliseconds{-1};
    auto left = due - self->clock().now();
    if (left <= duration::zero())
      return std::chrono::milliseconds{0};
    return std::chrono::ceil<std::chrono::milliseconds>(left);
  };
  try {
    for (;;) {
      if (credit) {
        // A stale wake-up (the credit came back before we waited) only
        // costs one more turn.
        auto waited = items[0].socket == nullptr;
        if (waited)
          credit->clear();
        auto available = credit->available();
        if (!available && !waited)
          credit->pause();
        items[0] = available ? read_socket : await_credit;
      }
      try {
        zmq::poll(items.data(), items.size(), timeout());
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR)
          continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN)
        break;
      if (items[0].socket != nullptr && (items[0].revents & ZMQ_POLLIN)) {
        drain(*socket, *sig, local_uuid, opts.check_user_id, self, dispatcher,
              credit, limiter, opts.inline_resumes > 0 ? &unit : nullptr);
        unit.run(opts.inline_resumes);
      }
      for (std::size_t i = 0; i < monitors.size(); ++i)
        if (items[i + 2].revents & ZMQ_POLLIN) {
          auto& [monitor, role] = monitors[i];
          handshakes.drain(*monitor, role, self->clock().now());
        }
      sig->handshake_failures.store(handshakes.failures(),
                                    std::memory_order_relaxed);
      if (auto now = self->clock().now(); now >= limiter.next_due())
        limiter.flush(now);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM)
      log(log_level::error, log_category::wire, "receiver of ",
          short_uuid(local_uuid), " stops on a socket error: ", e.what());
  }
  for (auto& [monitor, role] : monitors)
    monitor->close();
  socket->close();
}

} // namespace

receive_credit::receive_credit(std::size_t limit)
    : limit_(limit == 0 ? 1 : limit),
      wake_(std::make_unique<detail::wake_fd>()) {
}

receive_credit::~receive_credit() = default;

void receive_credit::give() noexcept {
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == limit_)
    wake_->raise();
}

void receive_credit::take() noexcept {
  pending_.fetch_add(1, std::memory_order_acq_rel);
}

bool receive_credit::available() const noexcept {
  return pending_.load(std::memory_order_acquire) < limit_;
}

std::size_t receive_credit::pending() const noexcept {
  return pending_.load(std::memory_order_acquire);
}

int receive_credit::fd() const noexcept {
  return wake_->fd();
}

void receive_credit::clear() noexcept {
  wake_->clear();
}

void receive_credit::pause() noexcept {
  pauses_.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t receive_credit::pauses() const noexcept {
  return pauses_.load(std::memory_order_acquire);
}

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

std::map<std::string, std::uint64_t> receiver::malformed_by_reason() const {
  std::map<std::string, std::uint64_t> result;
  for (std::size_t i = 0; i < detail::malformed_codes; ++i) {
    auto code = static_cast<errc>(i + 1);
    result[log_reason(make_error(code))] =
        signal_ ? signal_->malformed_by_code[i].load() : 0;
  }
  return result;
}

std::uint64_t receiver::received() const noexcept {
  return signal_ ? signal_->received.load() : 0;
}

std::uint64_t receiver::impostors() const noexcept {
  return signal_ ? signal_->impostors.load() : 0;
}

std::uint64_t receiver::handshake_failures() const noexcept {
  return signal_ ? signal_->handshake_failures.load() : 0;
}

receiver spawn_receiver(caf::actor_system& sys, zmq::socket_t socket,
                        std::string local_uuid, dispatcher_actor dispatcher,
                        receiver_options opts) {
  auto sig = std::make_shared<detail::stop_signal>();
  auto sock = std::make_shared<zmq::socket_t>(std::move(socket));
  auto self = sys.spawn<caf::detached>(receiver_loop, std::move(sock), sig,
                                       std::move(local_uuid),
                                       std::move(dispatcher), std::move(opts));
  return receiver{std::move(self), std::move(sig)};
}

} // namespace p2p0mq
