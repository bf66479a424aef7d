#pragma once

// What the fuzz targets share: cutting the fuzzer's bytes into frames, and a
// check that aborts (the fuzzer then keeps the input as a crash).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace p2p0mq::fuzz {

/// Cuts `data` into frames, each a 2-byte little-endian length and that many
/// bytes; a length beyond the end takes what is left. At most `max_frames`
/// frames: the bytes after those are ignored.
inline std::vector<std::string> split_frames(const std::uint8_t* data,
                                             std::size_t size,
                                             std::size_t max_frames = 16) {
  std::vector<std::string> result;
  std::size_t pos = 0;
  while (pos + 2 <= size && result.size() < max_frames) {
    std::size_t len =
        data[pos] | (static_cast<std::size_t>(data[pos + 1]) << 8);
    pos += 2;
    if (len > size - pos)
      len = size - pos;
    result.emplace_back(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
  }
  return result;
}

/// The inverse of `split_frames`, to write seeds.
inline std::string join_frames(const std::vector<std::string>& frames) {
  std::string result;
  for (auto& x : frames) {
    result += static_cast<char>(x.size() & 0xff);
    result += static_cast<char>((x.size() >> 8) & 0xff);
    result += x;
  }
  return result;
}

} // namespace p2p0mq::fuzz

/// Aborts with a message naming the broken property.
#define P2P0MQ_FUZZ_CHECK(cond)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)
