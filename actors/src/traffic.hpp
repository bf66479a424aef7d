#pragma once

// Counting traffic by peer or command, with a bounded number of keys.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/message.hpp"

namespace p2p0mq::detail {

/// The counters of `key` in `xs`: its own while `xs` has fewer than
/// `max_traffic_keys` keys, else those of `other_traffic_key`.
template <class T>
T& tally(std::map<std::string, T>& xs, const std::string& key) {
  if (auto i = xs.find(key); i != xs.end())
    return i->second;
  if (xs.size() >= max_traffic_keys)
    return xs[other_traffic_key];
  return xs[key];
}

/// The bytes of a message id in its smallest msgpack form (frame 5).
inline std::uint64_t id_bytes(std::uint64_t id) {
  if (id < 0x80)
    return 1;
  if (id <= 0xff)
    return 2;
  if (id <= 0xffff)
    return 3;
  if (id <= 0xffffffff)
    return 5;
  return 9;
}

/// The bytes of frames 1 to 6 of `msg` as received by `local_uuid`, laid out
/// as docs/PROTOCOL.md says every peer sends them: the source frame empty when
/// the source is the previous hop, the destination frame empty when it is us,
/// the message id in its smallest msgpack form.
inline std::uint64_t traffic_bytes(const message& msg,
                                   const std::string& local_uuid) {
  std::uint64_t result = 1 + msg.command.size() + msg.payload.bytes().size();
  if (msg.source != msg.previous_hop)
    result += msg.source.size();
  if (msg.to != local_uuid)
    result += msg.to.size();
  return result + id_bytes(msg.id);
}

/// The bytes of frames 1 to 6 of `msg` as `local_uuid` sends it
/// (`message::encode`).
inline std::uint64_t sent_bytes(const message& msg,
                                std::string_view local_uuid) {
  std::string id_frame;
  auto views = msg.frame_views(local_uuid, id_frame);
  std::uint64_t result = 0;
  for (std::size_t i = 1; i < views.size(); ++i)
    result += views[i].size();
  return result;
}

} // namespace p2p0mq::detail
