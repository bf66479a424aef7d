#include "p2p0mq/actors/types.hpp"

#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>

#include "p2p0mq/actors/ask_around.hpp"
#include "p2p0mq/actors/dispatcher.hpp"
#include "p2p0mq/actors/groups.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"
#include "p2p0mq/actors/supervisor.hpp"
#include "p2p0mq/actors/zap.hpp"
#include "p2p0mq/errc.hpp"

namespace p2p0mq {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<message>("p2p0mq::message");
  cfg.add_message_type<std::vector<message>>("std::vector<p2p0mq::message>");
  cfg.add_message_type<peer>("p2p0mq::peer");
  cfg.add_message_type<std::vector<peer>>("std::vector<p2p0mq::peer>");
  cfg.add_message_type<sender_stats>("p2p0mq::sender_stats");
  cfg.add_message_type<router_stats>("p2p0mq::router_stats");
  cfg.add_message_type<dispatcher_stats>("p2p0mq::dispatcher_stats");
  cfg.add_message_type<ask_around_stats>("p2p0mq::ask_around_stats");
  cfg.add_message_type<concern_counters>("p2p0mq::concern_counters");
  cfg.add_message_type<due_kind>("p2p0mq::due_kind");
  cfg.add_message_type<peer_change>("p2p0mq::peer_change");
  cfg.add_message_type<std::vector<peer_change>>(
      "std::vector<p2p0mq::peer_change>");
  cfg.add_message_type<wanted_route>("p2p0mq::wanted_route");
  cfg.add_message_type<std::vector<wanted_route>>(
      "std::vector<p2p0mq::wanted_route>");
  cfg.add_message_type<priority>("p2p0mq::priority");
  cfg.add_message_type<peer_state>("p2p0mq::peer_state");
  cfg.add_message_type<peer_origin>("p2p0mq::peer_origin");
  cfg.add_message_type<zap_verdict>("p2p0mq::zap_verdict");
  // Requests, and concerns on other nodes.
  cfg.add_message_type<payload>("p2p0mq::payload");
  cfg.add_message_type<concern_actor>("p2p0mq::concern_actor");
  cfg.add_message_type<owner_actor>("p2p0mq::owner_actor");
  cfg.add_message_type<peer_watcher_actor>("p2p0mq::peer_watcher_actor");
  cfg.add_message_type<due_watcher_actor>("p2p0mq::due_watcher_actor");
  cfg.add_message_type<route_watcher_actor>("p2p0mq::route_watcher_actor");
  cfg.add_message_type<requester_actor>("p2p0mq::requester_actor");
  cfg.add_message_type<peer_table_actor>("p2p0mq::peer_table_actor");
  cfg.add_message_type<sender_actor>("p2p0mq::sender_actor");
  cfg.add_message_type<remote_context>("p2p0mq::remote_context");
  cfg.add_message_type<group_event>("p2p0mq::group_event");
  cfg.add_message_type<group_message>("p2p0mq::group_message");
  cfg.add_message_type<group_view>("p2p0mq::group_view");
  cfg.add_message_type<group_listener_actor>("p2p0mq::group_listener_actor");
  cfg.add_message_type<group_actor>("p2p0mq::group_actor");
  cfg.add_error_category(error_category, [](std::uint8_t code, caf::atom_value,
                                            const caf::message& context) {
    std::string result = "p2p0mq.";
    result += to_string(static_cast<errc>(code));
    if (context.match_elements<std::string>()) {
      result += ": ";
      result += context.get_as<std::string>(0);
    }
    return result;
  });
}

} // namespace p2p0mq
