#pragma once

// X.509 certificates for the TLS of remote concerns, with OpenSSL's libcrypto
// and no CAF beyond its error type: making a self-signed certificate,
// checking that a certificate and a key belong together, and gathering the
// certificates of a trusted directory into one file that OpenSSL reads.

#include <cstddef>
#include <string>

#include <caf/error.hpp>

namespace p2p0mq::detail {

/// Makes a P-256 key and a self-signed certificate whose common name is
/// `name`, valid from now for `days`; writes the certificate to `cert_path`
/// (mode 0644) and the unencrypted key to `key_path` (mode 0600), each
/// through a temporary file renamed into place. Errors:
/// `errc::certificate_io`.
caf::error make_tls_certificate(const std::string& cert_path,
                                const std::string& key_path,
                                const std::string& name, int days);

/// Checks that `cert_path` holds a PEM certificate, `key_path` a PEM private
/// key (decrypted with `passphrase` when not empty) and that they match.
/// Errors: `errc::missing_certificate`, `errc::bad_certificate`.
caf::error check_tls_identity(const std::string& cert_path,
                              const std::string& key_path,
                              const std::string& passphrase);

/// The common name of the certificate in `cert_path`, or empty.
std::string tls_common_name(const std::string& cert_path);

/// What `gather_trusted` did.
struct trusted_gathered {
  /// Certificates written to the bundle.
  std::size_t certificates = 0;
  /// Files ending in `.crt` skipped because they hold no valid certificate.
  std::size_t skipped = 0;
  /// Whether the bundle file was written (its content changed).
  bool written = false;
};

/// Writes every valid PEM certificate of the files `*.crt` in the directory
/// `trusted`, and the one in `own_cert`, into `bundle` (mode 0644, renamed
/// into place, so a reader sees the old or the new one); leaves `bundle`
/// untouched when its content would not change. A process always trusts its
/// own certificate, so the bundle is never empty. Errors:
/// `errc::certificate_io` (a directory or file that cannot be read or
/// written).
caf::error gather_trusted(const std::string& trusted,
                          const std::string& own_cert,
                          const std::string& bundle, trusted_gathered& out);

/// The OpenSSL errors queued in this thread, oldest first, separated by
/// "; " (each as "reason" or "reason (details)"); clears the queue.
std::string drain_tls_errors();

} // namespace p2p0mq::detail
