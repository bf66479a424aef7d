// Fuzz target: parsing certificate files (pyzmq's ZPL format), as the
// certificate store does with every `*.key` and `*.key_secret` file it reads.
//
// Input: the text of a certificate file.
// Properties: nothing throws or crashes; a certificate that parses holds
// valid Z85 keys (a secret one: a matching pair); written again as we write
// certificates, it parses to the same keys.

#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "p2p0mq/cert_store.hpp"

namespace {

void check(const std::string& text, bool want_secret) {
  using namespace p2p0mq;
  auto keys = parse_certificate(text, "fuzz.key", want_secret);
  if (!keys)
    return;
  P2P0MQ_FUZZ_CHECK(is_z85_key(keys->public_key));
  P2P0MQ_FUZZ_CHECK(want_secret ? is_z85_key(keys->secret_key)
                                : keys->secret_key.empty());
  auto again =
      parse_certificate(format_certificate(*keys), "again.key", want_secret);
  P2P0MQ_FUZZ_CHECK(again && again->public_key == keys->public_key &&
                    again->secret_key == keys->secret_key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  check(text, false);
  check(text, true);
  return 0;
}
