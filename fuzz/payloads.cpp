// Fuzz target: the payloads of every built-in concern, read as the concerns
// read them: `hello` (host and port), `r` (target and breadcrumbs), a
// requester's replies (rejections), and `hb` and `echo`, whose payloads are
// only parsed (hb answers `{}`, echo its request's payload as it came).
//
// Input: the bytes of a payload frame.
// Properties: nothing throws or crashes; whatever a concern reads from a
// payload encodes again into a payload that reads back the same; the typed
// getters agree with each other.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/field.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"

namespace {

using namespace p2p0mq;

/// Keys our concerns and the examples look up, and one that is never there.
const char* const keys[] = {"host", "port",      "target", "breadcrumbs",
                            "text", "_rejected", "no-such"};

void read_every_field(const payload& body) {
  for (auto key : keys) {
    auto str = body.get_string(key);
    auto bytes = body.get_bytes(key);
    auto integer = body.get_integer(key);
    auto array = body.get_bytes_array(key);
    auto u16 = field<std::uint16_t>(body, key);
    auto i8 = field<std::int8_t>(body, key);
    auto u64 = field<std::uint64_t>(body, key);
    if (!body.contains(key)) {
      P2P0MQ_FUZZ_CHECK(!str && !bytes && !integer && !array && !u16);
      continue;
    }
    // A str is also bytes; an integer within a narrower range is the same.
    if (str)
      P2P0MQ_FUZZ_CHECK(bytes && *bytes == *str);
    if (u16)
      P2P0MQ_FUZZ_CHECK(integer && *integer == *u16);
    if (i8)
      P2P0MQ_FUZZ_CHECK(integer && *integer == *i8);
    if (u64)
      P2P0MQ_FUZZ_CHECK(integer && *integer >= 0 &&
                        static_cast<std::uint64_t>(*integer) == *u64);
    // A value has one type.
    P2P0MQ_FUZZ_CHECK(!(bytes && (integer || array)));
    P2P0MQ_FUZZ_CHECK(!(integer && array));
  }
  auto pair = fields<std::string, std::int64_t>(body, "host", "port");
  P2P0MQ_FUZZ_CHECK(static_cast<bool>(pair) ==
                    (body.get_string("host") && body.get_integer("port")));
}

void hello(const payload& body) {
  auto x = parse_hello_payload(body);
  if (!x)
    return;
  P2P0MQ_FUZZ_CHECK(!x->host.empty() && x->port > 0);
  auto y = parse_hello_payload(make_hello_payload(x->host, x->port));
  P2P0MQ_FUZZ_CHECK(y && y->host == x->host && y->port == x->port);
}

void ask_around(const payload& body) {
  auto x = parse_ask_around_payload(body);
  if (!x)
    return;
  P2P0MQ_FUZZ_CHECK(x->target.size() >= min_uuid_size);
  for (auto& crumb : x->breadcrumbs)
    P2P0MQ_FUZZ_CHECK(crumb.size() >= min_uuid_size);
  auto y = parse_ask_around_payload(
      make_ask_around_payload(x->target, x->breadcrumbs));
  P2P0MQ_FUZZ_CHECK(y && y->target == x->target &&
                    y->breadcrumbs == x->breadcrumbs);
}

void reply(const payload& body) {
  auto why = rejection_of(body);
  P2P0MQ_FUZZ_CHECK(why.has_value() == body.contains(rejection_field));
  if (why && !why->empty()) {
    auto again = rejection_of(make_rejection_payload(*why));
    P2P0MQ_FUZZ_CHECK(again && *again == *why);
  }
}

void echo(const payload& body) {
  // The echo concern answers with the request's payload: the reply carries
  // the very bytes, which parse as they did.
  message request;
  request.source = request.previous_hop = "fuzz-peer-0002";
  request.to = "fuzz-local-0001";
  request.command = "echo";
  request.id = 1;
  request.payload = body;
  auto answer = request.make_reply(request.payload, time_point::max());
  auto frames = answer.encode("fuzz-local-0001");
  P2P0MQ_FUZZ_CHECK(frames[0] == "fuzz-peer-0002");
  P2P0MQ_FUZZ_CHECK(frames[6] == body.bytes());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto body = payload::parse(
      std::string_view{reinterpret_cast<const char*>(data), size});
  if (!body)
    return 0;
  P2P0MQ_FUZZ_CHECK(body->bytes().size() == size);
  P2P0MQ_FUZZ_CHECK(body->empty() == (body->size() == 0));
  read_every_field(*body);
  hello(*body);
  ask_around(*body);
  reply(*body);
  echo(*body);
  return 0;
}
