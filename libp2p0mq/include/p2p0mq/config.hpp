#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "p2p0mq/discovery.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// Every tunable of a local peer, with its default. Durations are in the
/// units of `p2p0mq::duration`; defaults follow the Python p2p0mq.
struct config {
  /// The local peer's uuid (at least 4 bytes); empty means "generate one".
  std::string uuid;

  /// Host the receiver binds to and announces to peers in `hello`.
  std::string host = "127.0.0.1";

  /// Port the receiver binds to; 0 lets the operating system choose.
  std::uint16_t port = 0;

  /// Whether both sockets use CURVE (encryption and authentication,
  /// docs/PROTOCOL.md "CURVE and ZAP"). Peers with it on and peers with it
  /// off cannot talk.
  bool encryption = true;

  /// Directory of public certificates (`<uuid>.key`): the local peer's own,
  /// and those of the peers it trusts. Empty: `default_public_cert_dir()`.
  std::string public_cert_dir;

  /// Directory of secret certificates (`<uuid>.key_secret`) of local peers.
  /// Empty: `default_private_cert_dir()`.
  std::string private_cert_dir;

  /// Path of the peer store's SQLite database; empty keeps the store in
  /// memory (nothing survives a restart).
  std::string database;

  /// Time between two heart-beats of a peer that answers.
  duration heart_beat_interval = std::chrono::seconds{4};

  /// What each unanswered heart-beat adds to the next interval.
  duration heart_beat_slow_down = std::chrono::seconds{2};

  /// The most the slow-down can add to the interval.
  duration heart_beat_max_slow_down = std::chrono::seconds{10};

  /// Silence after which a peer becomes UNREACHABLE, and after which a
  /// CONNECTING peer that did not answer its `hello` becomes NO_CONNECTION.
  duration unresponsive_threshold = std::chrono::seconds{40};

  /// Silence after which a peer becomes NO_CONNECTION.
  duration no_connection_threshold = std::chrono::seconds{240};

  /// Wait before a NO_CONNECTION peer is tried again.
  duration reconnect_wait = std::chrono::seconds{120};

  /// The least time between two ask-arounds for the same target.
  duration ask_around_interval = std::chrono::seconds{60};

  /// Time an outgoing message may wait to be sent before it is dropped.
  duration message_ttl = std::chrono::seconds{30};

  /// Time between two syncs of the peer table with the peer store.
  duration store_sync_interval = std::chrono::seconds{10};

  /// The longest the peer store waits for a lock another program holds on
  /// its database, at start and at the last sync when the peer stops (then
  /// `errc::store_locked`). Periodic syncs wait less and try again later.
  duration store_lock_wait = std::chrono::seconds{5};

  /// The most messages the send queues hold; a message beyond is dropped.
  std::size_t send_queue_limit = 100000;

  /// Time between two ticks of the concerns (when they look at their peers).
  duration tick_interval = std::chrono::seconds{1};

  /// Wait before a message is tried again after its next hop was unreachable
  /// and its concern asked for a retry.
  duration send_retry_delay = std::chrono::milliseconds{250};

  /// Wait before the first message in line for a next hop whose pipe was
  /// full (the high-water mark) is tried again; the others wait behind it
  /// untried. Short, as the pipe drains at wire speed.
  duration send_blocked_delay = std::chrono::milliseconds{1};

  /// The most messages ZeroMQ queues for one peer on the sending side
  /// (`ZMQ_SNDHWM`); beyond it the sender waits and tries again.
  int send_high_water_mark = 10000;

  /// The most messages ZeroMQ queues from one peer on the receiving side
  /// (`ZMQ_RCVHWM`).
  int receive_high_water_mark = 10000;

  /// The most batches of received messages (up to 1024 messages or 4 MiB
  /// each) the dispatcher may have in its mailbox, not yet handled; while it
  /// has that many the receiver reads nothing, and ZeroMQ's receive
  /// high-water mark, then TCP, hold the sending peers back. 0: no limit.
  std::size_t unprocessed_batch_limit = 8;

  /// The most actors the receiver runs on its own thread after a light turn
  /// of reading (at most 8 messages): the dispatcher its batches wake up,
  /// the concerns, router and sender the dispatcher hands messages to, and
  /// what they wake in turn. The rest, and all after a heavier turn, go to
  /// CAF's scheduler. A message so reaches its concern, and a reply the
  /// wire, without waiting for an idle worker to wake up. 0: none, every
  /// actor waits for a worker (for concerns whose hooks block).
  std::size_t receiver_inline_resumes = 256;

  /// The largest message part the receiver accepts (`ZMQ_MAXMSGSIZE`); a
  /// peer sending a larger one is disconnected.
  std::int64_t max_frame_size = 1 << 20;

  /// The most peer records the peer table keeps (0: no limit). When it is
  /// full, a new peer takes the place of the peer that has longest been
  /// evictable: one learned from the network (its own `hello`, or a route
  /// hint), not added by the user or from the peer store, and now INITIAL,
  /// CONNECTING or NO_CONNECTION (never answered, or silent for the
  /// no-connection threshold). With none evictable the new peer is refused
  /// (`errc::peer_table_full`, a warning at most every 10 s). Each directly
  /// connected peer holds two TCP connections: raise the process's file
  /// descriptor limit with this one.
  std::size_t max_peers = 1000;

  /// The most restarts of a failing concern within `concern_restart_window`;
  /// after that it stays down.
  std::size_t concern_max_restarts = 5;

  /// The window over which concern restarts are counted.
  duration concern_restart_window = std::chrono::seconds{60};

  /// The longest a blocking call of `local_peer` waits for its answer.
  duration call_timeout = std::chrono::seconds{10};

  /// Time between two reloads of the public certificate directory by the
  /// authenticator (a certificate added to it is honoured by then at the
  /// latest; an unknown key triggers an earlier reload).
  duration certificate_reload_interval = std::chrono::seconds{10};

  /// The peer that messages go through when their destination has no route
  /// of its own (neither CONNECTED nor ROUTED through a `via`); empty: none,
  /// such messages are held while the ask-around looks for their destination.
  /// Never the local peer's own uuid.
  std::string default_route;

  /// Whether the ask-around concern asks peers that did not announce it in
  /// their `hello` (legacy peers such as the Python p2p0mq, and peers whose
  /// `hello` never came): set it when the network's Python peers run their
  /// optional ask-around concern. Off, they are never asked: each question
  /// would cost such a peer an error line and the asker the wait.
  bool ask_around_legacy_peers = false;

  /// How long the messages for a command whose concern went down (one
  /// registered as a running actor, e.g. from another process) are held for
  /// a concern that registers for that command again; they are delivered to
  /// it in order, or dropped with a log line when the period ends. Zero: they
  /// are dropped at once, like those of a command no concern ever served.
  duration concern_grace_period = std::chrono::seconds{0};

  /// The most messages held for one command during its grace period; those
  /// beyond are dropped (and counted in the log line).
  std::size_t concern_grace_limit = 1000;

  /// The most messages handed to one concern of this process and not yet
  /// handled by it (its mailbox): a message beyond is dropped, counted and
  /// logged, and a request's sender is told with a rejection of code
  /// `concern_busy` when its `hello` announced that it reads rejections.
  /// Applies to the concerns that count what they handled (every
  /// `concern_base`). Zero: no bound.
  std::size_t concern_queue_limit = 10000;

  /// Log lines caused by remote input (malformed messages, impostors, failed
  /// handshakes, rejected clients, messages dropped on their way to other
  /// peers, ...): per source and kind, the first is written in full, then at
  /// most one summary line per this interval counts the rest, by reason
  /// (see `log_limiter`). The counters stay exact.
  duration log_summary_interval = std::chrono::seconds{10};

  /// The most sources each log limiter follows at once (at least 1); the
  /// events of others are summarised together, as from `*`. In any span of
  /// `log_summary_interval`, a limiter writes at most this many lines plus
  /// one per kind, however many sources there are.
  std::size_t log_max_sources = 64;

  /// LAN beacons and peer exchange (the `discovery` group; both off by
  /// default).
  discovery_settings discovery;

  /// The public certificate directory in force: `public_cert_dir`, or the
  /// default when it is empty.
  std::string public_certs() const;

  /// The private certificate directory in force.
  std::string private_certs() const;

  /// Checks every value; returns `errc::invalid_config` naming the first
  /// offending setting, or no error.
  caf::error validate() const;
};

/// The certificate directory used when the config names none:
/// `$XDG_DATA_HOME/p2p0mq/certificates`, or
/// `$HOME/.local/share/p2p0mq/certificates` when `XDG_DATA_HOME` is unset;
/// empty when neither variable is set.
std::string default_cert_dir();

/// `default_cert_dir() + "/public"`, or empty.
std::string default_public_cert_dir();

/// `default_cert_dir() + "/private"`, or empty.
std::string default_private_cert_dir();

/// The least length of a uuid, in bytes.
inline constexpr std::size_t min_uuid_size = 4;

} // namespace p2p0mq
