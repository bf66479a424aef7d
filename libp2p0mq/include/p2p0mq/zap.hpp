#pragma once

// ZAP (ZeroMQ Authentication Protocol, RFC 27): reading a request, deciding on
// a CURVE client and writing the reply, as plain functions. The
// authenticator's actor and socket call them (`p2p0mq/actors/zap.hpp`), and
// so can tests and fuzzers without sockets or actors.

#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace p2p0mq {

/// The only ZAP version there is, the first frame of requests and replies.
inline constexpr const char* zap_version = "1.0";

/// One ZAP request as libzmq hands it to the handler.
struct zap_request {
  /// Chosen by libzmq; the reply repeats it.
  std::string request_id;
  /// The server socket's ZAP domain (a local peer's uuid).
  std::string domain;
  /// The client's IP address.
  std::string address;
  /// The client connection's routing id (unused).
  std::string identity;
  /// `NULL`, `PLAIN`, `CURVE`, ...
  std::string mechanism;
  /// The credentials frames: for CURVE, one frame holding the client's
  /// 32-byte public key.
  std::vector<std::string> credentials;
  /// Why the request cannot be read (answered with status 500), or empty.
  std::string malformed;

  /// The key of a CURVE client: the first credentials frame, or empty.
  const std::string& client_key() const noexcept {
    static const std::string none;
    return credentials.empty() ? none : credentials.front();
  }
};

/// Reads the frames of a ZAP request: version, request id, domain, address,
/// identity, mechanism, then zero or more credentials frames. A request of
/// fewer than 6 frames, or of another version than `zap_version`, is
/// malformed: `malformed` says why and `request_id` holds its second frame,
/// if any, to answer it.
zap_request parse_zap_request(const std::vector<std::string>& frames);

/// The authenticator's answer to one ZAP request.
struct zap_verdict {
  /// Whether the client may connect (ZAP status 200; else 400).
  bool accepted = false;
  /// When accepted: the uuid whose certificate holds the client's key, which
  /// becomes the `User-Id` of every message on the connection.
  std::string user_id;
  /// When rejected: why.
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, zap_verdict& x) {
  return f(caf::meta::type_name("zap_verdict"), x.accepted, x.user_id,
           x.reason);
}

/// The keys a ZAP domain trusts: the 32 raw bytes of each public key, mapped
/// to the uuid of the certificate that holds it.
using trusted_keys = std::unordered_map<std::string, std::string>;

/// Decides on a client of a domain that trusts `keys`, read from the
/// directory `where`: accepted, with the key's uuid as user id, if
/// `mechanism` is `CURVE` and `key` is one of `keys`; rejected otherwise,
/// the reason saying which rule failed.
zap_verdict decide_zap(const std::string& mechanism, const std::string& key,
                       const trusted_keys& keys, const std::string& where);

/// The frames of a ZAP reply: version, request id, status code, status text,
/// user id and metadata.
using zap_reply_frames = std::array<std::string, 6>;

/// The metadata property of an accepted CURVE connection that holds the
/// client's public key in Z85 (40 characters). libzmq attaches the metadata
/// of the ZAP reply to every message of the connection, so the receiver
/// reads it with `zmq_msg_gets` to name the key in its security log lines.
inline constexpr const char* zap_key_property = "X-Public-Key";

/// Encodes ZAP metadata as ZMTP properties: for each (name, value) the
/// name's length in one byte, the name, the value's length in four bytes
/// (big-endian) and the value. Names of more than 255 bytes are left out.
std::string
encode_zap_metadata(const std::vector<std::pair<std::string, std::string>>& xs);

/// The Z85 text of a 32-byte CURVE key (40 characters), or, for a value of
/// another size, its size in parentheses: `(31 bytes)`.
std::string z85_key(const std::string& raw);

/// Makes a ZAP reply.
zap_reply_frames make_zap_reply(const std::string& request_id,
                                const std::string& status_code,
                                const std::string& status_text,
                                const std::string& user_id,
                                std::string metadata = {});

/// The reply to `request`: status 500 when it is malformed, else 200 `OK`
/// with the user id and, as metadata, the client's key (`zap_key_property`)
/// when `verdict` accepts a CURVE client, 400 with its reason otherwise.
zap_reply_frames make_zap_reply(const zap_request& request,
                                const zap_verdict& verdict);

} // namespace p2p0mq
