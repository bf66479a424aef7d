#pragma once

#include <cstdint>

#include <caf/meta/type_name.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"

namespace p2p0mq {

/// The command id of the ask-around concern.
inline constexpr const char* ask_around_command = "r";

/// Counters of an ask-around concern, a snapshot.
struct ask_around_stats {
  /// Searches that asked at least one peer: for a destination of ours, or
  /// on behalf of a peer whose question we passed on.
  std::uint64_t searches = 0;
  /// `r` requests sent, one per peer asked.
  std::uint64_t questions = 0;
  /// Answers (`r` replies) we sent to questions of other peers: we reach
  /// the target, the question was about ourselves (an invalid one), a kept
  /// question once a route was found, or an answer passed back to the peer
  /// that asked us.
  std::uint64_t answered = 0;
  /// Questions of other peers we passed on (we looked for the target in
  /// turn).
  std::uint64_t passed_on = 0;
  /// Routes learned from answers (`via_atom` to the peer table).
  std::uint64_t routes_found = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ask_around_stats& x) {
  return f(caf::meta::type_name("ask_around_stats"), x.searches, x.questions,
           x.answered, x.passed_on, x.routes_found);
}

/// Reads the counters of an ask-around concern from its answer to
/// `(stats_atom)` (see `concern_base::counters`); zero for those missing.
ask_around_stats ask_around_stats_of(const concern_counters& xs);

/// The ask-around concern (`r`): finds a way to peers we have no route to by
/// asking the peers we are connected to. A `concern_base` like any user's
/// concern. Payload of requests and replies (docs/PROTOCOL.md):
/// `{"target": bin uuid, "breadcrumbs": [bin uuid, ...]}`, the breadcrumbs
/// being the peers the question went through, the one who asked first at the
/// front.
///
/// - Looking for a target: it watches the sender's wanted routes
///   (`watch_wanted_routes`): each destination that starts to wait for a
///   route is looked for at once. It asks every CONNECTED peer that
///   announced ask-around in its `hello` (legacy peers only with
///   `ask_around_legacy_peers`) except the target itself, the peers to
///   exclude (the source and previous hop of a message we forward) and the
///   peers in the breadcrumbs, with our uuid appended to the breadcrumbs. At most once per
///   `settings->ask_around_interval` per target: when the interval is over
///   (a timer of its own, armed only while it remembers asks), it asks the
///   sender which destinations still wait (`find_atom`) and looks for them
///   again. A search that found no peer to ask does not count, and is tried
///   again as soon as a peer becomes CONNECTED (it watches the peers).
/// - A request about a target we have CONNECTED, or ROUTED through a peer
///   that is not on the question's way (neither its source, previous hop nor
///   a breadcrumb), is answered with its payload as it came. A request about
///   any other target is kept (for one time-to-live) and we look for the
///   target in turn, excluding the request's source and previous hop. A
///   request whose breadcrumbs hold our uuid already came round a loop:
///   logged and dropped. A request about ourselves is answered as invalid: a
///   reply with empty breadcrumbs.
/// - A reply whose last breadcrumb is our uuid: we pop it and tell the peer
///   table that the target can be reached through the peer the reply came
///   from (`via_atom`), which releases the messages the sender holds for it;
///   only the first answer about a target within the interval is taken
///   (later ones came a longer way round). We answer each request about that
///   target we kept (each with its own breadcrumbs and id). If breadcrumbs
///   remain, we passed the question on: when the request of the last
///   remaining breadcrumb was not among those kept (it expired), we pass the
///   reply on to it. A reply with empty breadcrumbs (the question was
///   invalid) is logged and dropped, as is one whose last breadcrumb is not
///   ours.
/// - A malformed payload (missing or mistyped keys, a uuid shorter than 4
///   bytes, a request without breadcrumbs, more than 64 breadcrumbs) is
///   logged and dropped.
/// - Its messages go with fast priority and are not tried again when
///   sending fails: the next ask comes with the next interval.
/// - Counters (`stats_atom`, see `ask_around_stats`): `searches`,
///   `questions`, `answered`, `passed_on`, `routes_found`.
concern_factory ask_around();

} // namespace p2p0mq
