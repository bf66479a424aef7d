#pragma once

// The authenticator: answers libzmq's ZAP requests (RFC 27) for the CURVE
// servers (receivers) of the local peers in one ZeroMQ context.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/time.hpp"
#include "p2p0mq/zap.hpp"

namespace zmq {
class context_t;
} // namespace zmq

namespace p2p0mq {

/// Read the certificates of a domain again.
using reload_atom = caf::atom_constant<caf::atom("reload")>;

/// Decide on a client (a ZAP request).
using authenticate_atom = caf::atom_constant<caf::atom("auth")>;

/// The authenticator's decisions, one actor per ZeroMQ context. Each local
/// peer registers its receiver's ZAP domain (its uuid) with the directory of
/// the public certificates it trusts. The actor keeps, per domain, the keys of
/// the `<uuid>.key` files found there, read again every reload interval, on
/// `reload_atom`, and when a client's key is unknown and either the listing
/// of the directory changed (a file came, went, or changed size or time) or
/// the last reading is more than `zap_min_reload_gap` old: a certificate
/// added before its peer connects is honoured at once.
///
/// | message | reply |
/// |---|---|
/// | `(add_atom, domain, public_dir, reload_interval)` | none: trust the certificates in `public_dir` for `domain` (read at once) |
/// | `(subscribe_atom, domain, trust_watcher_actor)` | none: tell it `(trusted_atom, uuid)` for each certificate that a later reading of `domain`'s directory finds and the one before did not (the local peer's peer table, which greets a peer given up for want of its certificate at once) |
/// | `(remove_atom, domain)` | none: forget `domain` |
/// | `(reload_atom, domain)` | the number of certificates trusted after reading `public_dir` again; `errc::unknown_peer` for an unknown domain |
/// | `(authenticate_atom, domain, address, mechanism, client_key)` | `zap_verdict`: accepted if `mechanism` is `CURVE` and `client_key` (32 bytes) is in a certificate of `domain`'s directory; rejections are logged (see below) |
///
/// A key found in several certificates belongs to the first by file name
/// (logged as a warning): a connection has one identity.
///
/// Rejections are logged through a `log_limiter` per domain, keyed by the
/// client's address (a client chooses its key, its address much less): the
/// first in full, with the address, the key (Z85) and the domain, quoted;
/// then one summary per interval counting the rejections by reason
/// (`unknown key`, `not CURVE`, `unknown domain`).
using zap_actor = caf::typed_actor<
    caf::reacts_to<add_atom, std::string, std::string, duration>,
    caf::reacts_to<subscribe_atom, std::string, trust_watcher_actor>,
    caf::reacts_to<remove_atom, std::string>,
    caf::replies_to<reload_atom, std::string>::with<std::uint64_t>,
    caf::replies_to<authenticate_atom, std::string, std::string, std::string,
                    std::string>::with<zap_verdict>>;

/// The least time between two readings of a domain's directory triggered by
/// unknown keys while its listing looks unchanged (a flood of unknown
/// clients then costs a listing each, and a reading at most this often).
inline constexpr duration zap_min_reload_gap = std::chrono::seconds{1};

/// Spawns an authenticator actor (without socket: see `zap_service`), whose
/// rejection log follows `limits`.
zap_actor spawn_zap(caf::actor_system& sys, log_limits limits = {});

/// The ZAP handler of one ZeroMQ context: the authenticator actor and a
/// detached actor that owns the socket bound to `inproc://zeromq.zap.01`,
/// blocks on it, asks the authenticator about each request and answers
/// libzmq. Local peers sharing a context share it (`attach`); it stops when
/// the last of them lets go.
///
/// libzmq lets a CURVE server accept every client while no handler is bound,
/// so a local peer attaches before binding its receiver and lets go after
/// its receiver stopped.
class zap_service {
public:
  /// Returns the service of `context`, starting it if none runs (its
  /// authenticator's log follows `limits`; a running service keeps its
  /// own). Fails with `errc::socket_error` if another ZAP handler is bound
  /// in `context`.
  static caf::expected<std::shared_ptr<zap_service>>
  attach(caf::actor_system& sys, std::shared_ptr<zmq::context_t> context,
         log_limits limits = {});

  /// Stops the socket's actor (waiting for it to close the socket) and the
  /// authenticator.
  ~zap_service();

  zap_service(const zap_service&) = delete;
  zap_service& operator=(const zap_service&) = delete;

  /// The authenticator.
  const zap_actor& authenticator() const noexcept {
    return zap_;
  }

  /// Requests answered so far.
  std::uint64_t requests() const noexcept;

  struct impl;

  explicit zap_service(std::unique_ptr<impl> x);

private:
  zap_actor zap_;
  std::unique_ptr<impl> impl_;
};

} // namespace p2p0mq
