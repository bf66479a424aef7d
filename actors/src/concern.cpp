#include "p2p0mq/actors/concern.hpp"

#include <utility>

namespace p2p0mq {

message concern_context::make_request(std::string to, std::string command_id,
                                      payload body, time_point now) const {
  auto result = p2p0mq::make_request(
      local_uuid, std::move(to), std::move(command_id), ids ? ids->next() : 0,
      std::move(body), now + settings->message_ttl);
  // The sender picks the next hop from the peer's route.
  result.next_hop.clear();
  return result;
}

message concern_context::make_reply(const message& request, payload body,
                                    time_point now) const {
  return request.make_reply(std::move(body), now + settings->message_ttl);
}

} // namespace p2p0mq
