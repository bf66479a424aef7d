#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/discovery.hpp"

namespace p2p0mq {

namespace detail {
struct beacon_signal;
} // namespace detail

/// The LAN beacon of a local peer (docs/PROTOCOL.md, "Beacons"): one UDP
/// socket that broadcasts our beacon every `discovery_settings::interval`
/// and hears those of the other peers on the LAN.
///
/// It runs on a thread of its own that blocks on the socket (and on a
/// wake-up descriptor used only to stop it) until a datagram arrives or the
/// next beacon is due: no polling at a fixed tick. Every datagram goes
/// through a `beacon_filter` (rate per source, format, trust, a budget of
/// new peers per interval); a beacon that passes has the peer table learn
/// the peer at the datagram's source address and the beacon's port
/// (`learn_atom` with `peer_origin::beacon`): a new peer is greeted, a known
/// one keeps its address. A peer that stops beaconing is left to the
/// heart-beat rules.
///
/// A socket error while running is logged and ends the beacon; the local
/// peer keeps running.
class beacon_station {
public:
  beacon_station() = default;

  /// What the filter did with the datagrams so far, and the beacons sent.
  struct stats {
    beacon_filter::counters filter;
    std::uint64_t sent = 0;
  };

  /// Whether it runs (or ran).
  explicit operator bool() const noexcept {
    return static_cast<bool>(handle_);
  }

  /// The thread's actor: it exits once stopped.
  const caf::actor& handle() const noexcept {
    return handle_;
  }

  /// Asks the thread to close the socket and exit; returns at once.
  void stop();

  /// A snapshot of its counters.
  stats counters() const;

private:
  friend caf::expected<beacon_station>
  spawn_beacon(caf::actor_system&, std::shared_ptr<const config>, std::uint16_t,
               peer_table_actor);

  caf::actor handle_;
  std::shared_ptr<detail::beacon_signal> signal_;
};

/// Opens the beacon socket on `settings->discovery.interface` and port, and
/// starts the beacon of the local peer `settings->uuid`, whose receiver is
/// bound to `port`, learning peers into `peers`. With encryption on, only
/// peers whose public certificate is in the public certificate directory
/// are learnt; any other is logged once. Fails with `errc::socket_error`
/// (no such interface, none that can broadcast, the port taken without
/// `SO_REUSEADDR`, ...).
caf::expected<beacon_station>
spawn_beacon(caf::actor_system& sys, std::shared_ptr<const config> settings,
             std::uint16_t port, peer_table_actor peers);

} // namespace p2p0mq
