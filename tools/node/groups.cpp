#include "node/groups.hpp"

#include <cstdio>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "p2p0mq/uuid.hpp"

namespace p2p0mq::node {

namespace {

/// `x` as a JSON string. Uuids are opaque bytes: what is not UTF-8 shows
/// as U+FFFD.
std::string quote(const std::string& x) {
  return nlohmann::json(x).dump(-1, ' ', false,
                                nlohmann::json::error_handler_t::replace);
}

group_listener_actor::behavior_type printer(group_listener_actor::pointer,
                                            bool json) {
  return {
      [](const group_event&) {
        // The status lines show the membership.
      },
      [json](const group_message& x) {
        if (json) {
          std::printf("%s\n", group_message_line(x).c_str());
          std::fflush(stdout);
        } else {
          std::fprintf(stderr,
                       "p2p0mq-node: group %s: publication %llu from %s\n",
                       x.group.c_str(), static_cast<unsigned long long>(x.seq),
                       short_uuid(x.publisher).c_str());
        }
      },
  };
}

} // namespace

group_listener_actor spawn_group_printer(caf::actor_system& sys, bool json) {
  return sys.spawn(printer, json);
}

// The lines are written out member by member, in the order and with the
// spacing of the status lines, so that scripts can match them as text.

std::string group_message_line(const group_message& x) {
  return "{\"event\": \"group_message\", \"group\": " + quote(x.group) +
         ", \"from\": " + quote(x.publisher) +
         ", \"seq\": " + std::to_string(x.seq) + "}";
}

std::string with_groups(const std::string& line, const group_view& groups) {
  // After the first member ("t"), so that the line's start and end stay as
  // scripts know them.
  auto at = line.find(", ");
  if (line.empty() || line.front() != '{' || at == std::string::npos)
    return line;
  std::string xs;
  for (auto& [g, members] : groups) {
    xs += xs.empty() ? "" : ", ";
    xs += quote(g) + ": [";
    for (std::size_t i = 0; i < members.size(); ++i)
      xs += (i == 0 ? "" : ", ") + quote(members[i]);
    xs += "]";
  }
  return line.substr(0, at + 2) + "\"groups\": {" + xs + "}, " +
         line.substr(at + 2);
}

} // namespace p2p0mq::node
