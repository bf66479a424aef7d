#pragma once

#include <string>

namespace p2p0mq {

/// Returns a new uuid: 32 lowercase hexadecimal characters holding 128 bits
/// from the operating system's random source (`getrandom`), the form the
/// Python p2p0mq uses (`uuid4().hex`). Throws `std::system_error` only if the
/// kernel has no random source at all.
std::string make_uuid();

/// Whether `uuid` has the form `make_uuid` generates: 32 lowercase
/// hexadecimal digits.
bool is_generated_uuid(const std::string& uuid) noexcept;

/// Returns a form of `uuid` for logs and tables that tells it apart from
/// every other uuid: a generated uuid (`is_generated_uuid`) is shortened to
/// its first 8 digits, which differ between peers unless a network holds
/// tens of thousands of them; any other uuid, a name someone chose such as
/// `alice-0001`, is shown whole, each byte that is not printable ASCII (and
/// the backslash) written as `\xNN`.
std::string short_uuid(const std::string& uuid);

} // namespace p2p0mq
