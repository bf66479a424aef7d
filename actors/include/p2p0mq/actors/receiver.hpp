#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/log_limiter.hpp"

namespace zmq {
class socket_t;
} // namespace zmq

namespace p2p0mq {

namespace detail {
class stop_signal;
class wake_fd;
} // namespace detail

/// Flow control between the receiver and the dispatcher: the receiver takes a
/// credit for each batch it hands over, the dispatcher gives it back once it
/// has processed the batch. While every credit is taken the receiver reads
/// nothing from its socket: ZeroMQ's receive high-water mark and then TCP
/// hold the sending peers back, and the dispatcher's mailbox holds at most
/// `limit` batches (of at most 1024 messages or 4 MiB each).
///
/// Thread-safe: the receiver's thread takes, the dispatcher's gives.
class receive_credit {
public:
  /// A credit of `limit` batches (at least 1).
  explicit receive_credit(std::size_t limit);

  ~receive_credit();

  receive_credit(const receive_credit&) = delete;
  receive_credit& operator=(const receive_credit&) = delete;

  /// Gives one credit back: the dispatcher processed a batch.
  void give() noexcept;

  /// Takes one credit: the receiver handed a batch over.
  void take() noexcept;

  /// Whether a credit is left.
  bool available() const noexcept;

  /// Batches handed over and not yet processed.
  std::size_t pending() const noexcept;

  /// The most batches handed over and not yet processed.
  std::size_t limit() const noexcept {
    return limit_;
  }

  /// Readable after `give` made a credit available again; `clear` resets it.
  int fd() const noexcept;

  /// Counts a pause: the receiver found every credit taken and waits for
  /// one before it reads again.
  void pause() noexcept;

  /// The pauses so far.
  std::uint64_t pauses() const noexcept;

  /// Resets `fd`.
  void clear() noexcept;

private:
  std::size_t limit_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> pauses_{0};
  std::unique_ptr<detail::wake_fd> wake_;
};

/// How a receiver checks messages and what else it watches.
struct receiver_options {
  /// The socket is a CURVE server: drop (and log) every message whose
  /// `User-Id`, the uuid the authenticator bound to the client's key, is not
  /// its previous hop (frame 0), so that no peer speaks under another's uuid.
  /// The log lines about a connection's messages are then keyed by that
  /// `User-Id`, which its client cannot change, rather than by the routing
  /// id it announces.
  bool check_user_id = false;

  /// Whether encryption is on, for the log lines about handshakes.
  bool encryption = false;

  /// PAIR sockets that receive the socket monitor events of the receiver's
  /// and of the sender's socket (see `detail::monitor_socket`), or null.
  /// Failed handshakes are logged with their reason in the `security`
  /// category, through the receiver's log limiter, keyed by endpoint.
  std::shared_ptr<zmq::socket_t> receiver_monitor;
  std::shared_ptr<zmq::socket_t> sender_monitor;

  /// Told `(lost_atom, endpoint)` when a handshake of the sender's socket
  /// fails in a way libzmq does not retry.
  sender_actor sender;

  /// The credit the dispatcher gives back batch by batch (the same object
  /// goes to `spawn_dispatcher`), or null: no limit.
  std::shared_ptr<receive_credit> credit;

  /// The most actors the receiver runs on its own thread after a turn of
  /// reading (see `receiver`); 0: none, the dispatcher waits for a worker
  /// of CAF's scheduler (`config::receiver_inline_resumes`).
  std::size_t inline_resumes = 256;

  /// How the receiver limits its log lines about what it receives
  /// (malformed messages, impostors, failed handshakes): a local peer
  /// passes `log_limits_of(settings)`.
  log_limits logging;
};

/// A running receiver and the means to stop it.
///
/// The receiver owns the bound ROUTER socket. It is a detached actor whose
/// thread blocks on the socket and on a stop signal, with no timeout but the
/// time its log limiter's next summary is due. After each wake-up it reads
/// every message waiting, decodes each (a malformed one is dropped and
/// counted; the receiver never dies of bad input) and hands them to the
/// dispatcher in `(incoming_atom, std::vector<message>)` batches of at most 1024
/// messages or 4 MiB of frames. After a light turn (at most 8 messages
/// read) the actors its hand-over wakes up (the dispatcher, then the
/// concerns, router and sender it hands messages to, and what they wake in
/// turn) run on the receiver's thread, as on a worker of CAF's scheduler,
/// before it reads again: at most `receiver_options::inline_resumes` of them
/// (256), the rest going to the scheduler. A message so goes from the socket
/// to its concern, and a reply from there to the wire, without waiting for
/// an idle worker to wake up. After a heavier turn they go to the scheduler,
/// whose workers are awake under such a load and work beside the receiver.
/// With a `receive_credit` it stops reading
/// while the dispatcher has as many unprocessed batches as the credit allows,
/// and goes on when it gives one back.
///
/// Its log lines about malformed messages (`log_kinds::malformed_message`),
/// impostors (`log_kinds::impostor`, naming both uuids and the key in full)
/// and failed handshakes go through one `log_limiter`: per source and kind,
/// the first in full, then at most one summary per interval; the counters
/// below stay exact.
///
/// Stop sequence: `stop()` raises the stop signal; the thread finishes the
/// batch in hand (it reads at most 4096 messages or 4 MiB between two looks
/// at the signal, so a flood does not hold it up), closes the socket and the
/// actor exits. `stop()` is idempotent; the destructor does not stop the
/// receiver.
class receiver {
public:
  receiver() = default;
  receiver(caf::actor self, std::shared_ptr<detail::stop_signal> signal);

  /// Asks the receiver to stop; returns at once.
  void stop();

  /// The receiver's actor (detached), e.g. to monitor or await it.
  const caf::actor& handle() const noexcept {
    return self_;
  }

  /// Messages that were malformed and dropped so far.
  std::uint64_t malformed() const noexcept;

  /// The same by reason (`log_reason` of their error: "bad frame count",
  /// "empty routing id", "bad kind", "empty command", "bad message id",
  /// "bad payload"), every reason listed.
  std::map<std::string, std::uint64_t> malformed_by_reason() const;

  /// Messages decoded and handed to the dispatcher so far.
  std::uint64_t received() const noexcept;

  /// Messages dropped because their previous hop was not the peer the
  /// authenticator bound their connection's key to.
  std::uint64_t impostors() const noexcept;

  /// Failed handshakes seen on the monitored sockets so far.
  std::uint64_t handshake_failures() const noexcept;

private:
  caf::actor self_;
  std::shared_ptr<detail::stop_signal> signal_;
};

/// Starts the receiver of `local_uuid` on `socket`, a ROUTER socket already
/// bound (and set up for CURVE when encryption is on). Takes the socket and
/// the monitor sockets over: the receiver's thread is their only user.
receiver spawn_receiver(caf::actor_system& sys, zmq::socket_t socket,
                        std::string local_uuid, dispatcher_actor dispatcher,
                        receiver_options opts = {});

} // namespace p2p0mq
