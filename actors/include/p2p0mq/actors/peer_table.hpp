#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/store.hpp"
#include "p2p0mq/config.hpp"

namespace p2p0mq {

/// Spawns the peer table of a local peer (see `peer_table_actor` for its
/// protocol); it tells `sender` every change of a peer's state or route, and
/// when to connect to a peer.
///
/// Rules in time: the table arms one timer, for the earliest instant a rule
/// of `peer` acts on any of its peers (`peer::next_due`), and nothing runs
/// between two due times. When it fires, the table applies the rules to the
/// peers due: a peer silent for too long becomes UNREACHABLE or
/// NO_CONNECTION, a CONNECTING peer that never answered its `hello` is given
/// up; then it hands the work to its watchers in one message per kind:
/// `(due_atom, due_kind::heart_beat, peers)` with the next beat of each
/// scheduled, and `(due_atom, due_kind::greeting, peers)` after telling the
/// sender to connect to each. A greeting stays in flight, and the peer is
/// not handed out again, until the outcome of its `hello` is known
/// (`state_atom`), the peer is heard from, or two time-to-lives have passed.
/// The rules of a kind apply only while a watcher takes that work: peers are
/// greeted only while one takes greetings, and judged by the heart-beat
/// rules (beats, UNREACHABLE, NO_CONNECTION) only while one takes beats. A
/// watcher that comes later gets at once what is due by then.
///
/// Watchers: `(subscribe_atom, due_kind, watcher)` hands `watcher` that work
/// from now on; `(subscribe_atom, peer_watcher)` answers with every peer now
/// and then tells `peer_watcher` each change (added; state or route changed;
/// removed), in one message per handled request. Watchers are monitored and
/// forgotten when they go down.
///
/// Store: with a store in `setup`, the peers it holds are loaded (on the
/// calling thread, before this returns) as INITIAL peers that are never
/// evicted, and a store actor of its own (see `store_actor`) writes the
/// table's peers and addresses to it; rows other programs add become
/// INITIAL peers when its sync finds them, addresses they change move the
/// peers. `(stop_atom)` has the store actor sync a last time and answers
/// once it did; the table exits then.
///
/// Size: the table keeps at most `config::max_peers` peers (0: no limit). A
/// new peer beyond it evicts the peer that has been evictable longest: one
/// not pinned (added by `add_atom` or from the peer store) and now INITIAL,
/// CONNECTING or NO_CONNECTION; the sender is told (`remove_atom`). With none
/// evictable the new peer is refused with `errc::peer_table_full` (a row of
/// the store, skipped). Evictions and refusals are logged (category
/// `connector`) as one warning at most every 10 s, counting those since the
/// last.
peer_table_actor spawn_peer_table(caf::actor_system& sys,
                                  std::shared_ptr<const config> settings,
                                  sender_actor sender, store_setup setup = {});

} // namespace p2p0mq
