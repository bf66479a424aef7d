#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace p2p0mq {

/// A CURVE key pair in its 40-character Z85 text form. `secret_key` is empty
/// when only the public half is known (a public certificate).
struct curve_key_pair {
  std::string public_key;
  std::string secret_key;
};

/// A public certificate of the store: whose it is and its key.
struct public_certificate {
  std::string uuid;
  std::string public_key;

  friend bool operator==(const public_certificate& x,
                         const public_certificate& y) {
    return x.uuid == y.uuid && x.public_key == y.public_key;
  }
};

/// Generates a new CURVE key pair with libzmq's `zmq_curve_keypair`. Fails
/// with `errc::socket_error` if libzmq was built without CURVE support.
caf::expected<curve_key_pair> make_curve_key_pair();

/// Whether `key` is a valid Z85 CURVE key: exactly 40 Z85 characters that
/// decode to 32 bytes.
bool is_z85_key(const std::string& key);

/// Parses the text of a certificate in ZPL, the czmq format pyzmq's
/// `zmq.auth` reads and writes: `#` comment lines, a `metadata` section and a
/// `curve` section holding, indented by 4 spaces, `public-key = "<key>"` and,
/// in a secret certificate, `secret-key = "<key>"`. Values are read between
/// their quotes, so keys holding `=` or `#` parse as they are. Fails with
/// `errc::bad_certificate`, whose context starts with `name`, when the text
/// has no `curve` section, no public key, an invalid key, or (with
/// `want_secret`) no secret key or one that does not match the public key.
caf::expected<curve_key_pair> parse_certificate(const std::string& text,
                                                const std::string& name,
                                                bool want_secret);

/// Renders a certificate the way pyzmq's `zmq.auth.create_certificates` does
/// (its banner names p2p0mq as the generator): a secret certificate if
/// `keys.secret_key` is not empty, a public one otherwise.
std::string format_certificate(const curve_key_pair& keys);

/// Reads and parses the certificate file at `path`. Fails with
/// `errc::missing_certificate` if the file does not exist, with
/// `errc::certificate_io` if it cannot be read, and as `parse_certificate`
/// otherwise. Every error's context starts with `path`.
caf::expected<curve_key_pair> read_certificate(const std::string& path,
                                               bool want_secret);

/// Writes `format_certificate(keys)` to `path` with permissions `mode` (the
/// mode applies also when the file exists already). Fails with
/// `errc::certificate_io`, naming `path`.
caf::error write_certificate(const std::string& path,
                             const curve_key_pair& keys, unsigned mode);

/// The certificates of the local peers and of the peers they trust, laid out
/// like pyzmq's `zmq.auth`: `PUBLIC_DIR/<uuid>.key` holds a public
/// certificate, `PRIVATE_DIR/<uuid>.key_secret` the secret certificate of a
/// local peer. A plain value without state besides the two paths: it reads
/// the files anew on every call and is not synchronised with other writers.
///
/// Uuids are opaque bytes, but they name files here: an empty uuid, `"."`,
/// `".."` or a uuid holding `'/'` or NUL fails with `errc::invalid_uuid`.
class cert_store {
public:
  /// Makes a store over `public_dir` and `private_dir`; touches no file.
  cert_store(std::string public_dir, std::string private_dir);

  /// The directory of public certificates.
  const std::string& public_dir() const noexcept {
    return public_dir_;
  }

  /// The directory of secret certificates.
  const std::string& private_dir() const noexcept {
    return private_dir_;
  }

  /// Creates both directories (and their parents) if missing. A private
  /// directory created here gets mode 0700; an existing one is left as it
  /// is. Fails with `errc::certificate_io`.
  caf::error ensure_dirs() const;

  /// Returns the public key in `PUBLIC_DIR/<uuid>.key`. Errors as
  /// `read_certificate`, or `errc::invalid_uuid`.
  caf::expected<std::string> public_key(const std::string& uuid) const;

  /// Returns the key pair in `PRIVATE_DIR/<uuid>.key_secret`. Errors as
  /// `read_certificate`, or `errc::invalid_uuid`.
  caf::expected<curve_key_pair> load_own(const std::string& uuid) const;

  /// Returns the key pair of the local peer `uuid`. If neither of its files
  /// exists, creates the directories, generates a pair and writes both files
  /// (the secret one with mode 0600), and says so in a warning of the
  /// `security` log naming both files. If only the secret file exists, writes
  /// the public file from it. Fails with `errc::missing_certificate` if the
  /// public file exists without its secret file, with
  /// `errc::bad_certificate` if the two files hold different public keys, and
  /// as `load_own` or `write_certificate` otherwise.
  caf::expected<curve_key_pair>
  load_or_create_own(const std::string& uuid) const;

  /// Returns every parsable `<uuid>.key` file in the public directory, as
  /// the uuid (the file name without `.key`) and its public key, ordered by
  /// file name: what the authenticator trusts. Files that do not parse are
  /// skipped with a warning in the `security` log; a missing directory gives
  /// an empty list.
  std::vector<public_certificate> public_certificates() const;

  /// Returns `PUBLIC_DIR/<uuid>.key`, or `errc::invalid_uuid`.
  caf::expected<std::string> public_path(const std::string& uuid) const;

  /// Returns `PRIVATE_DIR/<uuid>.key_secret`, or `errc::invalid_uuid`.
  caf::expected<std::string> secret_path(const std::string& uuid) const;

  /// Copies the public certificate of `uuid` from this store into `other`'s
  /// public directory (creating it if missing), so that `other` trusts
  /// `uuid`. Does nothing when both stores share the public directory.
  /// Errors as `public_key`, or `errc::certificate_io`.
  caf::error share_with(const std::string& uuid, const cert_store& other) const;

private:
  std::string public_dir_;
  std::string private_dir_;
};

} // namespace p2p0mq
