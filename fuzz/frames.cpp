// Fuzz target: decoding the frames of a received message (docs/PROTOCOL.md), as
// the receiver does with every message a socket hands it.
//
// Input: frames cut by `split_frames` (2-byte little-endian length, bytes).
// Properties: decode never throws nor crashes; a decoded message has a
// non-empty previous hop, source, destination and command, a kind of request
// or reply, and a payload that parses again to the same bytes; its id
// encodes to a frame that decodes to the same id; a reply made from it
// encodes and decodes back to the same path.

#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

namespace {

constexpr std::string_view local_uuid = "fuzz-local-0001";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace p2p0mq;
  auto frames = fuzz::split_frames(data, size);
  auto msg = decode(frames, local_uuid);
  if (!msg)
    return 0;
  P2P0MQ_FUZZ_CHECK(frames.size() == frame_count);
  P2P0MQ_FUZZ_CHECK(!msg->previous_hop.empty());
  P2P0MQ_FUZZ_CHECK(!msg->source.empty());
  P2P0MQ_FUZZ_CHECK(!msg->to.empty());
  P2P0MQ_FUZZ_CHECK(!msg->command.empty());
  P2P0MQ_FUZZ_CHECK(msg->is_request() != msg->is_reply());
  P2P0MQ_FUZZ_CHECK(msg->payload.bytes() == frames[6]);
  auto again = payload::parse(msg->payload.bytes());
  P2P0MQ_FUZZ_CHECK(again && *again == msg->payload);
  P2P0MQ_FUZZ_CHECK(again->size() == msg->payload.size());
  // The id survives our own encoding.
  auto id_frames = frames;
  id_frames[5] = encode_message_id(msg->id);
  auto with_id = decode(id_frames, local_uuid);
  P2P0MQ_FUZZ_CHECK(with_id && with_id->id == msg->id);
  // The views and the strings overloads agree.
  std::vector<std::string_view> views(frames.begin(), frames.end());
  auto from_views = decode(views, local_uuid);
  P2P0MQ_FUZZ_CHECK(from_views && *from_views == *msg);
  // A reply from the destination goes back along the path: decoded by the
  // source as its previous hop sends it.
  auto reply = msg->make_reply(msg->payload, time_point::max());
  auto out = reply.encode(msg->to);
  P2P0MQ_FUZZ_CHECK(out[0] == msg->previous_hop);
  out[0] = msg->to; // What the previous hop's receiver sees as frame 0.
  auto back = decode(std::vector<std::string>(out.begin(), out.end()),
                     msg->previous_hop);
  P2P0MQ_FUZZ_CHECK(back);
  P2P0MQ_FUZZ_CHECK(back->source == msg->to);
  P2P0MQ_FUZZ_CHECK(back->to == msg->source);
  P2P0MQ_FUZZ_CHECK(back->id == msg->id && back->is_reply());
  P2P0MQ_FUZZ_CHECK(back->command == msg->command);
  P2P0MQ_FUZZ_CHECK(back->payload == msg->payload);
  return 0;
}
