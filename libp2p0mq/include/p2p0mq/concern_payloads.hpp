#pragma once

// The payloads of the built-in concerns (docs/PROTOCOL.md), read and written by
// plain functions: the concerns' actors call them, and so can tests and fuzzers
// without an actor system. `hb` carries `{}` both ways and `echo` answers
// its request's payload as it came: neither reads its payload, so they have
// no functions here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "p2p0mq/payload.hpp"
#include "p2p0mq/peer.hpp"

namespace p2p0mq {

/// What a `hello` request or reply carries: the address of its sender's
/// receiver.
struct hello_body {
  std::string host;
  std::uint16_t port = 0;
  /// What it speaks: `announced` false for a `hello` without the field.
  capabilities speaks;
};

/// The payload key of the capabilities in a `hello`: an array of str.
inline constexpr const char* speaks_field = "speaks";

/// The payload key of the version of the capability field: an integer.
inline constexpr const char* speaks_version_field = "speaks_version";

/// Encodes `{"host": str, "port": int}`, and with `speaks` announced also
/// `"speaks": [str, ...]` and `"speaks_version": 1` (a Python peer reads
/// only `host` and `port`).
payload make_hello_payload(const std::string& host, std::uint16_t port,
                           const capabilities& speaks = {});

/// Reads a `hello` payload. Fails with `errc::missing_field` without a
/// `host` or `port`, with `errc::wrong_field_type` when `host` is not a str
/// or is empty, or `port` is not an integer within 1..65535. Without a
/// `speaks` field, `speaks.announced` is false (a legacy peer); names it
/// does not know are ignored, and a `speaks` that is not an array of str or
/// bin counts as announcing nothing.
caf::expected<hello_body> parse_hello_payload(const payload& body);

/// What an `r` (ask-around) request asks or its reply answers: the peer
/// looked for and the peers the question went through, the one who asked
/// first at the front.
struct ask_around_body {
  std::string target;
  std::vector<std::string> breadcrumbs;
};

/// Encodes `{"target": bin, "breadcrumbs": [bin, ...]}`.
payload make_ask_around_payload(const std::string& target,
                                const std::vector<std::string>& breadcrumbs);

/// The most breadcrumbs a question may carry: one that has passed more peers
/// is refused as malformed (each peer on its way checks every breadcrumb,
/// and passes them all on to each peer it asks).
inline constexpr std::size_t max_breadcrumbs = 64;

/// Reads an `r` payload; uuids may come as bin or str. Fails with
/// `errc::missing_field` without `target` or `breadcrumbs`, with
/// `errc::wrong_field_type` when either has another type, when there are
/// more than `max_breadcrumbs` breadcrumbs, or when the target or a
/// breadcrumb is shorter than `min_uuid_size`. Empty breadcrumbs
/// are valid here (a reply saying the question was invalid); whether a
/// request may have them is the concern's rule.
caf::expected<ask_around_body> parse_ask_around_payload(const payload& body);

/// The payload key of a rejection: a reply whose payload holds this key with
/// a str value rejects its request, the value saying why. A requester hands
/// its caller `errc::rejected` with that text instead of the reply.
/// (`concern_base` replies so when its request handler returns an error.)
inline constexpr const char* rejection_field = "_rejected";

/// The payload key of the kind of a rejection, beside `rejection_field`:
/// a str, e.g. `unknown_command` (absent: the concern rejected the request).
inline constexpr const char* rejection_code_field = "_code";

/// The rejection code of a request for a command the peer does not serve.
inline constexpr const char* unknown_command_code = "unknown_command";

/// The rejection code of a request its concern had no room for (see
/// `config::concern_queue_limit`).
inline constexpr const char* concern_busy_code = "concern_busy";

/// Encodes a rejection saying `why`, of the kind `code` when not empty.
payload make_rejection_payload(const std::string& why,
                               const std::string& code = {});

/// The kind of a rejection (`rejection_code_field`); empty when it has none.
std::string rejection_code_of(const payload& body);

/// Whether a reply's payload rejects its request: `std::nullopt` when it has
/// no `rejection_field`, otherwise the reason it gives (empty when the
/// value is not a str).
std::optional<std::string> rejection_of(const payload& body);

} // namespace p2p0mq
