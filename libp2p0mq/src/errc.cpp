#include "p2p0mq/errc.hpp"

#include <utility>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace p2p0mq {

std::string to_string(errc x) {
  // No default: -Wswitch flags a value added to the enum but not named here.
  switch (x) {
  case errc::malformed_frame_count:
    return "malformed_frame_count";
  case errc::malformed_routing_id:
    return "malformed_routing_id";
  case errc::malformed_kind:
    return "malformed_kind";
  case errc::malformed_command:
    return "malformed_command";
  case errc::malformed_message_id:
    return "malformed_message_id";
  case errc::malformed_payload:
    return "malformed_payload";
  case errc::missing_field:
    return "missing_field";
  case errc::wrong_field_type:
    return "wrong_field_type";
  case errc::invalid_config:
    return "invalid_config";
  case errc::send_queue_full:
    return "send_queue_full";
  case errc::unknown_peer:
    return "unknown_peer";
  case errc::invalid_peer:
    return "invalid_peer";
  case errc::duplicate_concern:
    return "duplicate_concern";
  case errc::socket_error:
    return "socket_error";
  case errc::peer_unreachable:
    return "peer_unreachable";
  case errc::message_expired:
    return "message_expired";
  case errc::local_peer_stopped:
    return "local_peer_stopped";
  case errc::not_started:
    return "not_started";
  case errc::already_started:
    return "already_started";
  case errc::unknown_command:
    return "unknown_command";
  case errc::bad_certificate:
    return "bad_certificate";
  case errc::missing_certificate:
    return "missing_certificate";
  case errc::certificate_io:
    return "certificate_io";
  case errc::invalid_uuid:
    return "invalid_uuid";
  case errc::store_io:
    return "store_io";
  case errc::store_corrupt:
    return "store_corrupt";
  case errc::store_locked:
    return "store_locked";
  case errc::store_schema:
    return "store_schema";
  case errc::store_uuid_mismatch:
    return "store_uuid_mismatch";
  case errc::request_timeout:
    return "request_timeout";
  case errc::rejected:
    return "rejected";
  case errc::concern_failed:
    return "concern_failed";
  case errc::invalid_request:
    return "invalid_request";
  case errc::peer_table_full:
    return "peer_table_full";
  case errc::not_a_relay:
    return "not_a_relay";
  case errc::concern_busy:
    return "concern_busy";
  }
  return "<unknown errc>";
}

caf::error make_error(errc x) {
  return caf::error{static_cast<std::uint8_t>(x), error_category};
}

caf::error make_error(errc x, std::string context) {
  return caf::error{static_cast<std::uint8_t>(x), error_category,
                    caf::make_message(std::move(context))};
}

std::string context_of(const caf::error& x) {
  if (!x)
    return {};
  const auto& ctx = x.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

std::string render(const caf::error& x) {
  if (!x)
    return "none";
  if (x.category() != error_category)
    return caf::to_string(x);
  auto result = "p2p0mq." + to_string(static_cast<errc>(x.code()));
  auto ctx = context_of(x);
  if (!ctx.empty()) {
    result += ": ";
    result += ctx;
  }
  return result;
}

} // namespace p2p0mq
