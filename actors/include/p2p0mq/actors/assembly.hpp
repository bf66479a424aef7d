#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/fwd.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/actors/groups.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"
#include "p2p0mq/actors/store.hpp"
#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/config.hpp"

namespace p2p0mq {

class receive_credit;

/// What one local peer's actors are built from (see `assembly`).
struct assembly_parts {
  /// The settings, the uuid filled in.
  std::shared_ptr<const config> settings;
  /// The address `hello` announces: host, and the port the receiver is
  /// bound to.
  std::string host;
  std::uint16_t port = 0;
  /// The sending side of the wire: ZeroMQ's (`make_zmq_transport`), or a
  /// simulated one. The sender is its only user.
  std::unique_ptr<transport> wire;
  /// Instead of `wire`, a sender that runs already (a test's fake).
  sender_actor sender;
  /// The peer store, if any, and how to run it.
  store_setup store;
  /// The receiver's credit, given back batch by batch by the dispatcher; or
  /// null (no limit).
  std::shared_ptr<receive_credit> credit;
  /// Start the built-in concerns `hello`, `hb` and `r`.
  bool built_in_concerns = true;
  /// Run the group concern (`g`, see `groups.hpp`) with these settings, and
  /// announce `capability::groups`; none: no groups. Ignored for a legacy
  /// peer.
  std::optional<group_settings> groups;
  /// Behave as a legacy peer (the Python p2p0mq) does, for simulations of
  /// mixed networks: announce no capabilities in `hello`, forward nothing
  /// (no router: messages for other peers are dropped with a log line) and
  /// answer no request for an unknown command.
  bool legacy = false;
};

/// The actors of one local peer, built, connected and stopped in one place:
/// `local_peer` (ZeroMQ), the simulated network and the test fixtures all
/// build peers with it, so what the tests run is what runs in production.
///
///   receiver (given the dispatcher) --> dispatcher --> concerns
///                                          |--> router --> sender --> wire
///                                          \--> requester
///   peer table (and its store actor) <--> concerns, sender
///   supervisor: starts the concerns, keeps the dispatcher's table
///
/// The source of inbound messages (the ZeroMQ receiver, or the simulated
/// wire) hands its batches to `dispatcher()`; it is not part of the
/// assembly, and must be stopped before `stop`.
///
/// A plain value of actor handles: copying it copies the handles.
class assembly {
public:
  assembly() = default;

  /// Spawns and connects the actors of a local peer in `sys`, and starts
  /// the built-in concerns unless `parts` says otherwise.
  static assembly spawn(caf::actor_system& sys, assembly_parts parts);

  /// Runs the stop sequence, an ordered exchange of messages:
  ///
  /// 1. the sender drops what it holds and tells each owner, closes the
  ///    socket, and from then on drops every message at once;
  /// 2. the supervisor (with the concerns it spawned), the requester (whose
  ///    callers learn `errc::local_peer_stopped`), the router and the
  ///    dispatcher exit;
  /// 3. the peer table has its store sync a last time, and exits;
  /// 4. the sender exits.
  ///
  /// Returns an actor that exits once the sequence is done (to wait for, or
  /// to monitor). Call it once, after stopping the inbound source.
  caf::actor stop(caf::actor_system& sys) const;

  /// Ends every actor at once with `reason`, settling nothing: a crash.
  void kill(caf::exit_reason reason = caf::exit_reason::kill) const;

  /// What its concerns work with: uuid, address, settings, sender, peer
  /// table, requester, message ids.
  const concern_context& context() const noexcept {
    return ctx_;
  }

  const sender_actor& sender() const noexcept {
    return ctx_.sender;
  }

  const peer_table_actor& peer_table() const noexcept {
    return ctx_.peers;
  }

  const requester_actor& requester() const noexcept {
    return ctx_.requester;
  }

  const router_actor& router() const noexcept {
    return router_;
  }

  const dispatcher_actor& dispatcher() const noexcept {
    return dispatcher_;
  }

  const supervisor_actor& supervisor() const noexcept {
    return supervisor_;
  }

  /// The group concern; an invalid handle without `assembly_parts::groups`.
  const group_actor& groups() const noexcept {
    return groups_;
  }

private:
  concern_context ctx_;
  router_actor router_;
  dispatcher_actor dispatcher_;
  supervisor_actor supervisor_;
  group_actor groups_;
};

} // namespace p2p0mq
