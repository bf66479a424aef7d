#include "p2p0mq/concern_payloads.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

payload make_hello_payload(const std::string& host, std::uint16_t port) {
  return payload_builder{}
      .add_string("host", host)
      .add_integer("port", port)
      .build();
}

caf::expected<hello_body> parse_hello_payload(const payload& body) {
  auto host = body.get_string("host");
  if (!host)
    return std::move(host.error());
  auto port = body.get_integer("port");
  if (!port)
    return std::move(port.error());
  if (*port < 1 || *port > std::numeric_limits<std::uint16_t>::max())
    return make_error(errc::wrong_field_type,
                      "port " + std::to_string(*port) + " out of range");
  if (host->empty())
    return make_error(errc::wrong_field_type, "empty host");
  return hello_body{std::move(*host), static_cast<std::uint16_t>(*port)};
}

payload make_ask_around_payload(const std::string& target,
                                const std::vector<std::string>& breadcrumbs) {
  return payload_builder{}
      .add_bytes("target", target)
      .add_bytes_array("breadcrumbs", breadcrumbs)
      .build();
}

caf::expected<ask_around_body> parse_ask_around_payload(const payload& body) {
  auto target = body.get_bytes("target");
  if (!target)
    return std::move(target.error());
  auto breadcrumbs = body.get_bytes_array("breadcrumbs");
  if (!breadcrumbs)
    return std::move(breadcrumbs.error());
  if (breadcrumbs->size() > max_breadcrumbs)
    return make_error(errc::wrong_field_type,
                      std::to_string(breadcrumbs->size()) +
                          " breadcrumbs, at most " +
                          std::to_string(max_breadcrumbs) + " taken");
  auto too_short = [](const std::string& x) {
    return x.size() < min_uuid_size;
  };
  if (too_short(*target))
    return make_error(errc::wrong_field_type,
                      "target of " + std::to_string(target->size()) + " bytes");
  if (std::any_of(breadcrumbs->begin(), breadcrumbs->end(), too_short))
    return make_error(errc::wrong_field_type,
                      "a breadcrumb shorter than " +
                          std::to_string(min_uuid_size) + " bytes");
  return ask_around_body{std::move(*target), std::move(*breadcrumbs)};
}

payload make_rejection_payload(const std::string& why) {
  return payload_builder{}.add_string(rejection_field, why).build();
}

std::optional<std::string> rejection_of(const payload& body) {
  if (!body.contains(rejection_field))
    return std::nullopt;
  auto why = body.get_string(rejection_field);
  return why ? std::move(*why) : std::string{};
}

} // namespace p2p0mq
