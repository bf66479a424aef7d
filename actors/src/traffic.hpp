#pragma once

// Counting traffic by peer or command, with a bounded number of keys.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

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

/// The bytes of frames 1 to 6 of `xs`: what `traffic` counts.
inline std::uint64_t traffic_bytes(const frames& xs) {
  std::uint64_t result = 0;
  for (std::size_t i = 1; i < xs.size(); ++i)
    result += xs[i].size();
  return result;
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
  if (msg.id < 0x80)
    result += 1;
  else if (msg.id <= 0xff)
    result += 2;
  else if (msg.id <= 0xffff)
    result += 3;
  else if (msg.id <= 0xffffffff)
    result += 5;
  else
    result += 9;
  return result;
}

} // namespace p2p0mq::detail
