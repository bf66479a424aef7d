#pragma once

// Concerns on other nodes, through CAF's middleman (BASP): a local peer's
// supervisor published on a port, and a concern in another process (or on
// another machine) that connects to it, registers for a command and then
// receives its requests and sends its replies like a local concern.
//
// The connections use TLS with mutual authentication by default (CAF's
// OpenSSL module): each process has a certificate and a private key, and
// accepts only the other ends whose certificate is in its trusted directory.
// Plain BASP, without encryption or authentication, is only on a loopback
// address and only when asked for (`remote_transport::plain`).
//
// Link `p2p0mq::remote` (it brings CAF's io and OpenSSL modules) and call
// `load_remote` on the actor system config of both processes, before the
// actor system is made (and instead of loading the middleman yourself):
//
// ~~~
// p2p0mq::system_config cfg;        // registers p2p0mq's message types
// auto certs = p2p0mq::remote_options::in_store("/srv/certs", "front-0001");
// if (auto err = p2p0mq::load_remote(cfg, certs))
//   ...;                            // a missing or broken certificate
// caf::actor_system sys{cfg};
// ~~~

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/local_peer.hpp"

namespace p2p0mq {

/// How the BASP connection between a published supervisor and a concern in
/// another process is made.
enum class remote_transport : std::uint8_t {
  /// TLS 1.3 (or 1.2) with mutual authentication: both ends present a
  /// certificate, and each accepts only one it trusts.
  tls,
  /// Plain BASP: neither encrypted nor authenticated. Only on a loopback
  /// address (127.0.0.0/8, ::1, `localhost`), where only processes of this
  /// machine can connect.
  plain,
};

/// The TLS identity and the trust of a process's remote concerns.
struct remote_options {
  /// Our certificate: a PEM file. Empty: no TLS, plain BASP on a loopback
  /// address only.
  std::string certificate;

  /// Its private key: a PEM file (mode 0600).
  std::string key;

  /// The passphrase of an encrypted key; empty for an unencrypted one.
  std::string passphrase;

  /// Whom we trust: a directory, whose files `*.crt` (PEM certificates) are
  /// trusted, read again before each connection (so a certificate copied
  /// there counts from the next connection); or a PEM file of trusted
  /// certificates. We always trust our own certificate too.
  std::string trusted;

  /// Where the certificates of a trusted directory are gathered into one
  /// file for OpenSSL; empty: the key's path followed by `.trusted`. The
  /// process must be able to write it.
  std::string trusted_bundle;

  /// The certificate `name` of the certificate directory `dir` (as
  /// `p2p0mq-keygen --tls` makes it): `dir/public/NAME.crt`, its key
  /// `dir/private/NAME.crt_secret`, trusting every `*.crt` in `dir/public`.
  static remote_options in_store(const std::string& dir,
                                 const std::string& name);
};

/// Loads CAF's middleman and, with a certificate, CAF's OpenSSL module into
/// `cfg`, configured from `opts` (the `openssl` options of CAF); call it
/// once, before the actor system is made, instead of loading the middleman. The
/// certificate and key are checked here, and the trusted directory
/// gathered, so that a mistake shows now rather than at the first
/// connection. Errors: `errc::missing_certificate`,
/// `errc::bad_certificate` (no PEM certificate or key, a key that needs
/// another passphrase, a key of another certificate),
/// `errc::certificate_io` (an unreadable trusted directory, a bundle that
/// cannot be written), `errc::invalid_config` (a key or a trust without a
/// certificate).
caf::error load_remote(caf::actor_system_config& cfg,
                       const remote_options& opts);

/// Makes a key and a self-signed certificate for `name` in the certificate
/// directory `dir`: `dir/public/NAME.crt` and `dir/private/NAME.crt_secret`
/// (directories made as needed, the private one with mode 0700), valid for
/// `days`. Refuses to replace existing files unless `force`. Errors:
/// `errc::invalid_uuid` (a name that cannot name a file),
/// `errc::certificate_io`.
caf::error make_remote_certificate(const std::string& dir,
                                   const std::string& name, bool force = false,
                                   int days = 3650);

/// Whether `host` is a loopback address (127.0.0.0/8, ::1) or `localhost`.
bool is_loopback_host(const std::string& host);

/// Publishes the supervisor of the running local peer `peer` with CAF's
/// middleman on `host:port` (port 0: the system picks one) and returns the
/// port it is bound to. Whoever connects and is trusted can register
/// concerns and make requests in the name of the local peer. Over TLS (the
/// default), a connection whose certificate is not trusted is refused and
/// the refusal logged (category `security`, with OpenSSL's reason).
/// Errors: `errc::not_started`; `errc::invalid_config` when the actor
/// system has no middleman (see `load_remote`), for TLS without a
/// certificate, and for plain BASP on an address that is not a loopback
/// one; the middleman's errors (e.g. the port is in use).
caf::expected<std::uint16_t>
publish_supervisor(local_peer& peer, std::uint16_t port = 0,
                   const std::string& host = "127.0.0.1",
                   remote_transport transport = remote_transport::tls);

/// Closes a port `publish_supervisor` opened for `peer` (every one for port 0),
/// TLS or plain.
caf::error unpublish_supervisor(local_peer& peer, std::uint16_t port = 0);

/// Connects to the supervisor published on `host:port`, spawns a concern from
/// `factory` in `sys` and registers it for `command`; returns the concern.
///
/// The concern's `concern_context` names the remote local peer (its uuid,
/// host, port and message time-to-live, its requester and peer table) and
/// has the supervisor as its `outlet`: its outgoing messages go through the
/// supervisor, which numbers new requests (leaving here with id 0) and times
/// them on the local peer's clock. It has no `sender` and no `ids`. A
/// `concern_base` exits when the supervisor goes down or becomes unreachable;
/// when this process ends, the supervisor notices, unregisters the concern and
/// drops (or, with `concern_grace_period`, holds) the messages for it.
///
/// Waits at most `timeout` for each answer of the supervisor. Errors:
/// `errc::invalid_config` (as for `publish_supervisor`); the middleman's
/// errors (connection refused, interface mismatch; a TLS handshake that
/// fails ends as `sec::disconnect_during_handshake`, and its reason is
/// logged on both ends); the supervisor's (`errc::duplicate_concern`; the
/// concern is stopped then).
caf::expected<concern_actor>
attach_concern(caf::actor_system& sys, const std::string& host,
               std::uint16_t port, const std::string& command,
               concern_factory factory,
               caf::timespan timeout = std::chrono::seconds{10},
               remote_transport transport = remote_transport::tls);

} // namespace p2p0mq
