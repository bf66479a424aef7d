#include "monitor.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <zmq.hpp>

#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq::detail {

const int handshake_events =
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;

namespace {

/// A protocol error in a few words, for the log's counters.
std::string_view protocol_error_reason(std::uint32_t code) {
  switch (code) {
  case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
    return "mechanism mismatch";
  case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
    return "key exchange";
  case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
    return "cryptographic error";
  case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED:
  case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY:
  case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID:
  case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION:
  case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE:
  case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
    return "authenticator error";
  default:
    return "ZMTP error";
  }
}

std::string_view protocol_error_name(std::uint32_t code) {
  switch (code) {
  case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND:
    return "unexpected ZMTP command";
  case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE:
    return "invalid ZMTP sequence";
  case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
    return "CURVE key exchange failed";
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY:
  case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME:
    return "malformed ZMTP command";
  case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA:
    return "invalid ZMTP metadata";
  case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
    return "cryptographic error: the client does not hold the server's "
           "public key, or the server's certificate changed";
  case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED:
  case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY:
  case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID:
  case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION:
  case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE:
  case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
    return "the authenticator answered badly";
  default:
    return "protocol error";
  }
}

std::string on_off(bool x) {
  return x ? "on" : "off";
}

/// What to do about peers that disagree on encryption.
constexpr const char* same_setting =
    "give both peers the same setting: encryption is on by default, off "
    "with --no-encryption (p2p0mq-node) or p2p0mq.encryption=false";

} // namespace

std::shared_ptr<zmq::socket_t> monitor_socket(zmq::context_t& context,
                                              zmq::socket_t& socket) {
  static std::atomic<std::uint64_t> next_id{1};
  auto endpoint = "inproc://p2p0mq.monitor." + std::to_string(next_id++);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), handshake_events) !=
      0)
    throw zmq::error_t{};
  auto result =
      std::make_shared<zmq::socket_t>(context, zmq::socket_type::pair);
  result->set(zmq::sockopt::linger, 0);
  result->connect(endpoint);
  return result;
}

handshake_log::handshake_log(std::string local_uuid, bool encryption,
                             log_limiter& log, lost_handler on_lost)
    : local_uuid_(std::move(local_uuid)),
      encryption_(encryption),
      log_(&log),
      on_lost_(std::move(on_lost)) {
}

void handshake_log::drain(zmq::socket_t& monitor, socket_role role,
                          time_point now) {
  // An event is two parts: the event number (16 bits) and its value (32
  // bits), then the endpoint.
  zmq::message_t head;
  zmq::message_t address;
  while (monitor.recv(head, zmq::recv_flags::dontwait)) {
    if (!head.more() || !monitor.recv(address, zmq::recv_flags::none) ||
        head.size() < sizeof(std::uint16_t) + sizeof(std::uint32_t))
      continue;
    std::uint16_t event = 0;
    std::uint32_t value = 0;
    std::memcpy(&event, head.data(), sizeof(event));
    std::memcpy(&value, head.data<char>() + sizeof(event), sizeof(value));
    on_event(role, event, value, address.to_string(), now);
  }
}

void handshake_log::on_event(socket_role role, std::uint16_t event,
                             std::uint32_t value, const std::string& endpoint,
                             time_point now) {
  if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    log(log_level::debug, log_category::security, short_uuid(local_uuid_),
        ": handshake with ", quote_bytes(endpoint), " succeeded");
    return;
  }
  ++failures_;
  // Protocol and authentication failures end the session; libzmq
  // reconnects only after other errors.
  if (role == socket_role::sender && on_lost_ &&
      (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
       event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH))
    on_lost_(endpoint);
  if (role == socket_role::receiver &&
      event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    // The authenticator logs its rejections itself, with the key.
    log(log_level::debug, log_category::security, short_uuid(local_uuid_),
        ": the authenticator refused a peer connecting to ",
        quote_bytes(endpoint), " (ZAP status ", value, ")");
    return;
  }
  std::string reason;
  switch (event) {
  case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    reason = protocol_error_reason(value);
    break;
  case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    reason = "rejected by the peer";
    break;
  default:
    reason = "error " + std::to_string(value);
    break;
  }
  // The sender's endpoints are other peers' addresses, the receiver's its
  // own: the endpoint alone tells the two sides apart.
  log_->report(now, endpoint, log_kinds::failed_handshake, reason,
               [&] { return describe(role, event, value, endpoint); });
}

std::string handshake_log::describe(socket_role role, std::uint16_t event,
                                    std::uint32_t value,
                                    const std::string& endpoint) const {
  auto who = role == socket_role::sender
                 ? "the peer at " + quote_bytes(endpoint)
                 : "a peer connecting to " + quote_bytes(endpoint);
  std::string why;
  switch (event) {
  case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
      why = "security mechanism mismatch: this peer has encryption " +
            on_off(encryption_) + ", the other side has it " +
            on_off(!encryption_) + "; " + same_setting;
    else
      why = std::string{protocol_error_name(value)};
    break;
  case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
    why = role == socket_role::sender
              ? "it rejected this peer's key (ZAP status " +
                    std::to_string(value) +
                    "): its public certificate directory lacks ours"
              : "the authenticator rejected it (ZAP status " +
                    std::to_string(value) + ")";
    break;
  default:
    why = "error " + std::to_string(value) + " (" +
          zmq_strerror(static_cast<int>(value)) + ")";
    // The side that sees a mismatch first closes the connection; the other
    // sees only that.
    if (value == EPIPE || value == ECONNRESET)
      why = "the other side closed the connection during the handshake (" +
            why +
            "): most likely its encryption setting differs from this "
            "peer's (encryption " +
            on_off(encryption_) + " here); " + same_setting;
    break;
  }
  return short_uuid(local_uuid_) + ": handshake with " + who +
         " failed: " + why;
}

} // namespace p2p0mq::detail
