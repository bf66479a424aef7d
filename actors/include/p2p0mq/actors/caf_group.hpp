#pragma once

// p2p0mq groups as CAF groups: actors `join` one and send to it as to any
// CAF group, and the messages reach the actors that joined it on every
// member of the p2p0mq group, across the network.

#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/group.hpp>

#include "p2p0mq/actors/groups.hpp"

namespace p2p0mq {

/// Returns a CAF group for the p2p0mq group `name` of the local peer whose
/// group concern is `groups`. Each call makes a group of its own (with an
/// actor of its own that forwards); keep it and hand it to the actors.
///
/// ~~~
/// auto room = p2p0mq::make_caf_group(sys, peer.groups(), "chat");
/// self->join(*room);                              // in an actor
/// caf::anon_send(*room, std::string{"hello"});    // anywhere
/// ~~~
///
/// - The local peer is in the p2p0mq group while at least one actor is
///   subscribed to this CAF group (the first `join` joins, the last leave
///   or exit leaves).
/// - A message sent to the group reaches the subscribed actors here at
///   once, and is published to the other members, whose subscribed actors
///   receive it anonymously, once each, in the order it was sent from here
///   (the guarantees of `group_actor`).
/// - Its elements must be types the actor systems know how to serialize
///   (CAF's own types and those added with `add_message_type`); one that
///   cannot be serialized, or whose publication fails, is dropped with a
///   log line, as is one that arrives and cannot be read.
/// - Errors: `errc::invalid_request` for a bad name, `errc::not_started`
///   without a group concern.
///
/// `group.get()->stop()` ends its forwarder; so does the end of the actor
/// system. The group concern must outlive the group's use.
caf::expected<caf::group> make_caf_group(caf::actor_system& sys,
                                         const group_actor& groups,
                                         const std::string& name);

} // namespace p2p0mq
