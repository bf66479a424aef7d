// Fuzz target: the payloads of the group command `g`, read as the group
// concern reads them (membership records, publications and
// acknowledgements).
//
// Input: the bytes of a payload frame.
// Properties: nothing throws or crashes; what decodes keeps to the bounds
// the protocol sets (names, counts, hops, payload size); encoding what
// decoded and decoding it again gives the same records or publication.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "p2p0mq/groups.hpp"
#include "p2p0mq/payload.hpp"

namespace {

using namespace p2p0mq;

void membership(const payload& body) {
  auto xs = decode_membership(body);
  if (!xs)
    return;
  P2P0MQ_FUZZ_CHECK(xs->size() <= max_records_per_message);
  for (auto& x : *xs) {
    P2P0MQ_FUZZ_CHECK(!x.origin.empty());
    P2P0MQ_FUZZ_CHECK(x.groups.size() <= max_groups_per_peer);
    for (auto& g : x.groups)
      P2P0MQ_FUZZ_CHECK(!check_group_name(g));
  }
  auto ys = decode_membership(encode_membership(*xs));
  P2P0MQ_FUZZ_CHECK(ys && *ys == *xs);
}

void publication(const payload& body) {
  auto x = decode_publication(body);
  if (!x)
    return;
  P2P0MQ_FUZZ_CHECK(!check_group_name(x->group));
  P2P0MQ_FUZZ_CHECK(!x->publisher.empty() && x->seq > 0);
  P2P0MQ_FUZZ_CHECK(x->hops_left <= max_group_hops);
  P2P0MQ_FUZZ_CHECK(x->targets.size() == x->previous.size());
  P2P0MQ_FUZZ_CHECK(x->targets.size() <= max_group_members);
  for (auto p : x->previous)
    P2P0MQ_FUZZ_CHECK(p < x->seq);
  P2P0MQ_FUZZ_CHECK(x->body.size() <= max_group_payload_size);
  P2P0MQ_FUZZ_CHECK(static_cast<bool>(payload::parse(x->body)));
  auto y = decode_publication(encode_publication(*x));
  P2P0MQ_FUZZ_CHECK(y && *y == *x);
}

void acknowledgement(const payload& body) {
  auto ids = decode_acknowledgement(body, 1);
  if (!ids)
    return;
  P2P0MQ_FUZZ_CHECK(ids->size() <= max_acknowledged_ids);
  if (!body.contains("a"))
    return;
  auto again = decode_acknowledgement(encode_acknowledgement(*ids), 1);
  P2P0MQ_FUZZ_CHECK(again && *again == *ids);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto body = payload::parse(
      std::string_view{reinterpret_cast<const char*>(data), size});
  if (!body)
    return 0;
  if (auto op = group_op_of(*body))
    P2P0MQ_FUZZ_CHECK(body->contains("op"));
  // The concern decodes by op; read each payload both ways all the same.
  membership(*body);
  publication(*body);
  acknowledgement(*body);
  return 0;
}
