// Fuzz target: the ZAP handler (RFC 27): reading a request libzmq hands the
// authenticator, deciding on the client and writing the reply.
//
// Input: the request's frames, cut by `split_frames` (2-byte little-endian
// length, bytes).
// Properties: nothing throws or crashes; every request gets a reply of six
// frames with version 1.0 and its request id; 200 only for a well-formed
// CURVE request of the known domain whose key is trusted, with that key's
// uuid as user id and the key as metadata; 500 exactly for a malformed
// request.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "p2p0mq/zap.hpp"

namespace {

using namespace p2p0mq;

constexpr const char* domain = "fuzz-local-0001";

/// The domain's trusted key: 32 bytes, as libzmq hands CURVE keys over.
const std::string trusted_key = "0123456789abcdef0123456789abcdef";

const trusted_keys& keys() {
  static const trusted_keys result{{trusted_key, "fuzz-peer-0002"}};
  return result;
}

/// What the authenticator decides: unknown domains are rejected, the rest
/// as `decide_zap` says.
zap_verdict judge(const zap_request& request) {
  if (request.domain != domain)
    return zap_verdict{false, {}, "unknown domain"};
  return decide_zap(request.mechanism, request.client_key(), keys(),
                    "/fuzz/public");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto frames = fuzz::split_frames(data, size);
  auto request = parse_zap_request(frames);
  auto malformed = !request.malformed.empty();
  P2P0MQ_FUZZ_CHECK(malformed == (frames.size() < 6 || frames[0] != "1.0"));
  P2P0MQ_FUZZ_CHECK(request.request_id ==
                    (frames.size() > 1 ? frames[1] : std::string{}));
  auto verdict = malformed ? zap_verdict{} : judge(request);
  auto reply = make_zap_reply(request, verdict);
  P2P0MQ_FUZZ_CHECK(reply[0] == "1.0");
  P2P0MQ_FUZZ_CHECK(reply[1] == request.request_id);
  auto accepted = !malformed && request.domain == domain &&
                  request.mechanism == "CURVE" &&
                  request.client_key() == trusted_key;
  P2P0MQ_FUZZ_CHECK(verdict.accepted == accepted);
  if (malformed) {
    P2P0MQ_FUZZ_CHECK(reply[2] == "500" && reply[4].empty() &&
                      reply[5].empty());
  } else if (accepted) {
    P2P0MQ_FUZZ_CHECK(
        reply[2] == "200" && reply[4] == "fuzz-peer-0002" &&
        reply[5] ==
            encode_zap_metadata({{zap_key_property, z85_key(trusted_key)}}));
  } else {
    P2P0MQ_FUZZ_CHECK(reply[2] == "400" && reply[4].empty() &&
                      !reply[3].empty() && reply[5].empty());
  }
  return 0;
}
