#pragma once

#include <cstddef>
#include <cstdint>

#include <caf/fwd.hpp>

#include "p2p0mq/config.hpp"
#include "p2p0mq/payload.hpp"

namespace p2p0mq::bench {

/// One publisher and a group of local peers over real sockets.
struct group_rates {
  /// Members of the group (each a local peer connected to the publisher).
  std::size_t members = 0;
  /// Publications of each measure.
  std::size_t publications = 0;
  /// Publications per second, each delivered to every member: from the
  /// first publication to the last member's last delivery.
  double group = 0;
  /// The same message sent to each member one by one, as requests of a
  /// concern that counts them: messages per second divided by the members,
  /// so that it compares with `group`.
  double one_by_one = 0;
  /// Deliveries missing after two minutes, over both measures.
  std::uint64_t missing = 0;
  /// Copies the publisher's group concern sent again for want of an
  /// acknowledgement.
  std::uint64_t retransmitted = 0;
};

/// A publisher and `members` local peers in one actor system, each member
/// connected to the publisher and in the group `bench`: the publisher
/// publishes `body` `publications` times, then sends it to each member as
/// many times one by one. Peers use `base`, without encryption.
group_rates measure_group_rates(caf::actor_system& sys, const config& base,
                                std::size_t members, std::size_t publications,
                                const payload& body);

} // namespace p2p0mq::bench
