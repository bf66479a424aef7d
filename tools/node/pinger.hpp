#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"

namespace p2p0mq::node {

/// What to ping, how often and how patiently.
struct ping_plan {
  std::string target;
  int count = 4;
  duration interval = std::chrono::milliseconds{200};
  duration timeout = std::chrono::seconds{5};
};

/// The pinger: the owner of its echo requests, the listener of the echo
/// concern (`(incoming_atom, message)`: a reply) and its own timer.
using pinger_actor = owner_actor::extend<caf::reacts_to<incoming_atom, message>,
                                         caf::reacts_to<tick_atom>>;

/// Spawns the pinger: it waits until `plan.target` is CONNECTED or ROUTED
/// (or, for a target we have no address of, until we are connected to any
/// peer: the requests then wait for the route the ask-around finds), sends
/// `plan.count` echo requests, prints each round trip and a summary, then
/// sends `(std::string{"done"}, int exit_code, std::string why)` to
/// `report_to` and exits: code 0 with an empty `why` when every request was
/// answered, else 1 and a sentence saying what went wrong. Waiting for the
/// target to become reachable counts against the first request's
/// `plan.timeout`. An exit message (e.g. `exit_reason::user_shutdown`) stops
/// it early, with the same summary and report. It owns the echo requests it
/// sends (their outcomes come to it) and must be the listener of the echo
/// concern (which forwards the replies).
pinger_actor spawn_pinger(caf::actor_system& sys, concern_context ctx,
                          ping_plan plan, caf::actor report_to);

} // namespace p2p0mq::node
