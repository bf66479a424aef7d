#include "p2p0mq/zap.hpp"

#include <cstdint>
#include <utility>

#include <zmq.h>

namespace p2p0mq {

namespace {

/// Frames before the credentials: version, request id, domain, address,
/// identity, mechanism.
constexpr std::size_t zap_header_frames = 6;

} // namespace

zap_request parse_zap_request(const std::vector<std::string>& frames) {
  zap_request result;
  if (frames.size() > 1)
    result.request_id = frames[1];
  if (frames.size() < zap_header_frames) {
    result.malformed = "a ZAP request of " + std::to_string(frames.size()) +
                       " frames, expected at least " +
                       std::to_string(zap_header_frames);
    return result;
  }
  if (frames[0] != zap_version) {
    result.malformed =
        std::string{"a ZAP version other than \""} + zap_version + "\"";
    return result;
  }
  result.domain = frames[2];
  result.address = frames[3];
  result.identity = frames[4];
  result.mechanism = frames[5];
  result.credentials.assign(frames.begin() + zap_header_frames, frames.end());
  return result;
}

zap_verdict decide_zap(const std::string& mechanism, const std::string& key,
                       const trusted_keys& keys, const std::string& where) {
  if (mechanism != "CURVE")
    return {
        false, {}, "mechanism " + mechanism + " is not allowed, only CURVE"};
  auto i = keys.find(key);
  if (i == keys.end())
    return {false, {}, "no certificate in " + where + " holds it"};
  return {true, i->second, {}};
}

std::string encode_zap_metadata(
    const std::vector<std::pair<std::string, std::string>>& xs) {
  std::string result;
  for (auto& [name, value] : xs) {
    if (name.empty() || name.size() > 255)
      continue;
    result += static_cast<char>(name.size());
    result += name;
    auto n = static_cast<std::uint32_t>(value.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      result += static_cast<char>((n >> shift) & 0xff);
    result += value;
  }
  return result;
}

std::string z85_key(const std::string& raw) {
  if (raw.size() != 32)
    return "(" + std::to_string(raw.size()) + " bytes)";
  char text[41];
  zmq_z85_encode(text, reinterpret_cast<const std::uint8_t*>(raw.data()),
                 raw.size());
  return std::string(text, 40);
}

zap_reply_frames make_zap_reply(const std::string& request_id,
                                const std::string& status_code,
                                const std::string& status_text,
                                const std::string& user_id,
                                std::string metadata) {
  return {zap_version, request_id, status_code,
          status_text, user_id,    std::move(metadata)};
}

zap_reply_frames make_zap_reply(const zap_request& request,
                                const zap_verdict& verdict) {
  if (!request.malformed.empty())
    return make_zap_reply(request.request_id, "500", "malformed request", "");
  if (verdict.accepted) {
    std::string metadata;
    if (request.client_key().size() == 32)
      metadata = encode_zap_metadata(
          {{zap_key_property, z85_key(request.client_key())}});
    return make_zap_reply(request.request_id, "200", "OK", verdict.user_id,
                          std::move(metadata));
  }
  return make_zap_reply(request.request_id, "400", verdict.reason, "");
}

} // namespace p2p0mq
