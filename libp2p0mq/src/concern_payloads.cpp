#include "p2p0mq/concern_payloads.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "p2p0mq/config.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

payload make_hello_payload(const std::string& host, std::uint16_t port,
                           const capabilities& speaks) {
  payload_builder result;
  result.add_string("host", host).add_integer("port", port);
  if (speaks.announced)
    result.add_string_array(speaks_field, speaks.names())
        .add_integer(speaks_version_field, capabilities::version);
  return result.build();
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
  hello_body result{std::move(*host), static_cast<std::uint16_t>(*port), {}};
  if (body.contains(speaks_field)) {
    result.speaks.announced = true;
    if (auto names = body.get_bytes_array(speaks_field))
      for (auto& name : *names)
        if (auto x = parse_capability(name))
          result.speaks.add(*x);
  }
  return result;
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

payload make_rejection_payload(const std::string& why,
                               const std::string& code) {
  payload_builder result;
  result.add_string(rejection_field, why);
  if (!code.empty())
    result.add_string(rejection_code_field, code);
  return result.build();
}

std::string rejection_code_of(const payload& body) {
  auto code = body.get_string(rejection_code_field);
  return code ? std::move(*code) : std::string{};
}

std::optional<std::string> rejection_of(const payload& body) {
  if (!body.contains(rejection_field))
    return std::nullopt;
  auto why = body.get_string(rejection_field);
  return why ? std::move(*why) : std::string{};
}

} // namespace p2p0mq
