#include "p2p0mq/uuid.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <system_error>

#include <sys/random.h>

namespace p2p0mq {

namespace {

/// Fills `buf` with `size` bytes from the kernel's random source.
void fill_random(unsigned char* buf, std::size_t size) {
  std::size_t filled = 0;
  while (filled < size) {
    auto n = ::getrandom(buf + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::system_error{errno, std::system_category(), "getrandom"};
    }
    filled += static_cast<std::size_t>(n);
  }
}

} // namespace

std::string make_uuid() {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<unsigned char, 16> bytes;
  fill_random(bytes.data(), bytes.size());
  std::string result;
  result.reserve(bytes.size() * 2);
  for (auto byte : bytes) {
    result += digits[byte >> 4];
    result += digits[byte & 0x0F];
  }
  return result;
}

bool is_generated_uuid(const std::string& uuid) noexcept {
  if (uuid.size() != 32)
    return false;
  for (auto c : uuid)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::string short_uuid(const std::string& uuid) {
  // 8 of 32 random hexadecimal digits tell peers apart (a clash needs tens
  // of thousands of peers); a chosen name is shown whole.
  if (is_generated_uuid(uuid))
    return uuid.substr(0, 8);
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(uuid.size());
  for (auto c : uuid) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7E || c == '\\') {
      result += "\\x";
      result += digits[byte >> 4];
      result += digits[byte & 0x0F];
    } else {
      result += c;
    }
  }
  return result;
}

} // namespace p2p0mq
