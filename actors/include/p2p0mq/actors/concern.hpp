#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/send_queues.hpp"

namespace p2p0mq {

/// How many messages wait in the mailbox of a concern of this process: the
/// dispatcher adds one for each message it hands over, and a concern that
/// counts (every `concern_base`) marks `counted` and takes one off for each
/// message it has handled. The dispatcher bounds only concerns that count,
/// at `config::concern_queue_limit`.
struct concern_backlog {
  std::atomic<std::size_t> waiting{0};
  std::atomic<bool> counted{false};
};

/// What a concern of one local peer works with. The supervisor hands a copy
/// to every concern it spawns; it never changes while the local peer runs.
struct concern_context {
  /// The local peer's uuid.
  std::string local_uuid;

  /// Host our receiver announces (what `hello` carries).
  std::string host;

  /// Port our receiver is bound to.
  std::uint16_t port = 0;

  /// What the local peer announces it speaks in its `hello` (see
  /// `capabilities`).
  capabilities speaks;

  /// Where outgoing messages go (on another node: for anything but outgoing
  /// messages, which go to `outlet`).
  sender_actor sender;

  /// The owner of the peer records.
  peer_table_actor peers;

  /// The local peer's settings.
  std::shared_ptr<const config> settings;

  /// The local peer's message numbers, shared by its concerns. Null for a
  /// concern on another node: its new requests leave with id 0 and the
  /// supervisor numbers them.
  std::shared_ptr<message_id_counter> ids;

  /// The command id the concern serves, set by whoever spawns it from its
  /// factory (the supervisor, or `attach_concern`); empty elsewhere.
  std::string command;

  /// The local peer's requester: for requests whose reply a caller waits for.
  requester_actor requester;

  /// For a concern on another node: the supervisor it serves, which takes
  /// its outgoing messages (numbering new requests and timing them on the
  /// local peer's clock). Empty for a concern on the local peer's node,
  /// which hands them to `sender`.
  outgoing_actor outlet;

  /// The count of what waits in this concern's mailbox, set by the
  /// supervisor for each concern it spawns; null elsewhere (a concern in
  /// another process is not bounded this way). Never sent to another node.
  std::shared_ptr<concern_backlog> backlog;

  /// Makes a request from us to `to`, numbered (0 without `ids`) and with its
  /// deadline one time-to-live after `now`. Its next hop is left empty: the
  /// sender picks it from the peer's route.
  message make_request(std::string to, std::string command_id, payload body,
                       time_point now) const;

  /// Makes the reply to `request`, with its deadline one time-to-live after
  /// `now`.
  message make_reply(const message& request, payload body,
                     time_point now) const;
};

/// Spawns one concern for a local peer. The supervisor calls it at start and
/// again after the concern failed, so it must make a fresh actor each time.
/// `parent` is the supervisor, for spawning in the same actor system.
using concern_factory =
    std::function<concern_actor(caf::local_actor* parent, concern_context ctx)>;

} // namespace p2p0mq

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2p0mq::concern_factory)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<p2p0mq::concern_backlog>)
