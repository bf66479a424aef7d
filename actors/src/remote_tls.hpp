#pragma once

// The TLS side of p2p0mq::remote: CAF's OpenSSL module (libcaf_openssl) made
// to say why a connection was refused. Only remote_tls.cpp includes CAF's
// OpenSSL headers.

#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

namespace p2p0mq::detail {

/// Adds CAF's OpenSSL module to `cfg`, after the middleman.
void load_openssl_module(caf::actor_system_config& cfg);

/// The middleman actor of `sys` that publishes and connects over TLS, with
/// the identity and trust of CAF's `openssl.*` options; spawned at the first
/// call. A TLS handshake that fails is logged (category `security`, level
/// warning) with the other end's address and OpenSSL's reason. Before each
/// connection, the bundle of trusted certificates is gathered again from the
/// trusted directory (`refresh_trusted`).
caf::io::middleman_actor tls_middleman(caf::actor_system& sys);

/// Gathers the trusted directory named in `sys`'s config into the bundle
/// that CAF's OpenSSL module reads (`openssl.cafile`), when the config names
/// a directory; logs the number of certificates when the bundle changed.
caf::error refresh_trusted(caf::actor_system& sys);

} // namespace p2p0mq::detail
