#pragma once

#include <string>

namespace p2p0mq {

/// Returns a new uuid: 32 lowercase hexadecimal characters holding 128 bits
/// from the operating system's random source (`getrandom`), the form the
/// Python p2p0mq uses (`uuid4().hex`). Throws `std::system_error` only if the
/// kernel has no random source at all.
std::string make_uuid();

/// Returns a short, stable form of `uuid` for logs and tables: its first 8
/// bytes, printable characters only.
std::string short_uuid(const std::string& uuid);

} // namespace p2p0mq
