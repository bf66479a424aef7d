#pragma once

// Hex spelling of bytes, for golden-bytes tests.

#include <cstddef>
#include <string>
#include <string_view>

namespace p2p0mq::testing {

/// Turns `"82a4"` into the bytes 0x82 0xa4 (lowercase digits).
inline std::string unhex(std::string_view hex) {
  auto nibble = [](char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    return c - 'a' + 10;
  };
  std::string result;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    result += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  return result;
}

/// Turns bytes into lowercase hex digits.
inline std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  for (auto c : bytes) {
    auto x = static_cast<unsigned char>(c);
    result += digits[x >> 4];
    result += digits[x & 0x0f];
  }
  return result;
}

} // namespace p2p0mq::testing
