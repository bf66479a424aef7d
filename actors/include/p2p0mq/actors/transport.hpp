#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "p2p0mq/message.hpp"

namespace p2p0mq {

/// What became of one attempt to hand a message to the wire.
enum class send_status : std::uint8_t {
  /// Handed to ZeroMQ (not necessarily delivered).
  sent,
  /// No connection to the next hop: never connected, or unknown routing id.
  unreachable,
  /// The next hop's pipe is full (high-water mark): try again later.
  would_block,
  /// Any other failure; the error says which.
  failed,
};

/// The sending side of the wire, as the sender actor sees it: connect to
/// peers and hand them frames without blocking. The sender owns its
/// transport and is its only user. Implementations: the ZeroMQ ROUTER socket
/// (`make_zmq_transport`), and fakes that record frames in tests.
class transport {
public:
  virtual ~transport() = default;

  /// Connects to the receiver of peer `uuid` at `endpoint`
  /// (`tcp://host:port`). On the first connect to `uuid` the connection is
  /// named `uuid` at once (connect routing id), so messages can be sent right
  /// away. Connecting again to the same endpoint does nothing; to another
  /// endpoint, the old connection is dropped first and the new one is named
  /// by the routing id the peer announces (docs/PROTOCOL.md: the connect
  /// routing id is set on the first connect only), so sends report
  /// `unreachable` until its handshake is done. Fails with
  /// `errc::socket_error`, leaving the connections as they were, for an
  /// endpoint that is not acceptable.
  ///
  /// One connection per endpoint: connecting `uuid` to an endpoint another
  /// peer is connected to closes that peer's connection (it connects anew
  /// on its next `connect`). An endpoint whose connection was closed so
  /// (or by `forget`) is not connected again for a second: the other side
  /// may still hold the old connection. Meanwhile `connect` fails with
  /// `errc::peer_unreachable`.
  virtual caf::error connect(const std::string& uuid,
                             const std::string& endpoint) = 0;

  /// Tells the transport that its connection to `endpoint` ended for good
  /// (a failed handshake, which libzmq does not retry): the next `connect`
  /// to that endpoint connects anew. By default, nothing.
  virtual void lost(const std::string& endpoint) {
    static_cast<void>(endpoint);
  }

  /// Forgets peer `uuid`, which left the peer table: closes its connection
  /// and its endpoint. A later `connect` for it starts afresh. By default,
  /// nothing.
  virtual void forget(const std::string& uuid) {
    static_cast<void>(uuid);
  }

  /// Hands the 7 frames of one message to the wire without blocking; frame 0
  /// is the next hop's routing id. On anything but `sent`, `err` says why:
  /// `errc::peer_unreachable` for `unreachable`, `errc::socket_error`
  /// otherwise. Never throws.
  virtual send_status send(const frames& xs, caf::error& err) = 0;

  /// Hands `msg` to the wire as the frames `msg.encode(local_uuid)` makes,
  /// with the same outcomes as `send`. By default it encodes them
  /// and calls that; the ZeroMQ transport writes the fields straight into
  /// ZeroMQ's frames instead.
  virtual send_status send_message(const message& msg,
                                   std::string_view local_uuid,
                                   caf::error& err) {
    return send(msg.encode(local_uuid), err);
  }
};

} // namespace p2p0mq
