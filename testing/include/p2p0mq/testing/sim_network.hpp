#pragma once

// A simulated network of local peers in one deterministic actor system.
//
// Each simulated peer is built by the same `assembly` as a `local_peer`
// (sender, peer table, router, dispatcher, requester, supervisor and the
// built-in concerns connector, heart-beat and ask-around, plus echo), so
// what a test sees is what a deployment does. Only the sockets are replaced:
// each sender's transport hands the exact 7 frames it encoded to the
// simulated wire, which decodes them as the next hop's receiver would and
// delivers them to that peer's dispatcher after the link's latency, unless
// the link loses them. Who
// reaches whom follows from who is told whose address, as on a real network.
// Virtual time drives every rule; the same seed and the same calls give the
// same run, frame for frame.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>

#include "p2p0mq/actors/assembly.hpp"
#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/actors/router.hpp"
#include "p2p0mq/actors/transport.hpp"
#include "p2p0mq/config.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/peer.hpp"
#include "p2p0mq/testing/deterministic.hpp"

namespace p2p0mq::testing {

/// What became of one message part handed to the simulated wire.
enum class sim_fate : std::uint8_t {
  /// Delivered to the next hop's dispatcher (after the link's latency).
  delivered,
  /// Accepted by the wire but never delivered: the link was down, cut by a
  /// partition, or lost it by chance. Nothing tells the sender, as with a
  /// TCP connection whose other end went silent.
  lost,
  /// Refused at once: the sender never connected to the next hop, or the
  /// next hop is down. The sender sees `send_status::unreachable`.
  refused,
};

/// A printable name of `x`.
const char* to_string(sim_fate x) noexcept;

/// One message part of the simulated wire, as the sending peer handed it to
/// its socket.
struct sim_transfer {
  /// The sending peer (the previous hop at the receiving end).
  std::string from;
  /// Frames 0-6 as handed to the sender socket (frame 0: the next hop).
  frames xs;
  /// When it was handed to the wire.
  time_point at;
  /// When it arrives (delivered transfers only).
  time_point arrives;
  sim_fate fate = sim_fate::delivered;

  /// The next hop.
  const std::string& to() const {
    return xs[0];
  }

  const std::string& command() const {
    return xs[4];
  }

  bool is_request() const {
    return xs[3] == "\x01";
  }

  /// The bytes of all 7 frames.
  std::size_t bytes() const noexcept;
};

/// How one direction of a link behaves.
struct sim_link {
  /// How long a message part takes from sender to receiver.
  duration latency{};
  /// The chance (0 to 1) that a message part is lost on the way.
  double loss = 0;
  /// A link that is down loses everything.
  bool up = true;
};

/// The traffic of one command of one peer.
struct sim_traffic {
  /// Message parts this peer handed to the wire (any fate).
  std::uint64_t sent = 0;
  /// Of those, the ones the wire refused (no connection).
  std::uint64_t refused = 0;
  /// Of those, the ones lost on the way.
  std::uint64_t lost = 0;
  /// Bytes of the parts sent (every frame).
  std::uint64_t bytes_sent = 0;
  /// Message parts delivered to this peer.
  std::uint64_t received = 0;
  /// Bytes of the parts delivered to this peer.
  std::uint64_t bytes_received = 0;
};

/// The requests a test sent from one peer with `sim_network::send`, and
/// what came of them.
struct sim_outcomes {
  /// Replies to them, in order of arrival.
  std::vector<message> replies;
  /// Requests the sender dropped, with the reason.
  std::vector<std::pair<message, caf::error>> dropped;
  /// Requests the sender handed to the wire.
  std::size_t sent = 0;
};

/// Everything a simulated network starts from.
struct sim_options {
  /// Seeds the wire's losses; nothing else in a run is random.
  std::uint64_t seed = 1;
  /// The settings every peer starts from (`uuid`, `host` and `port` are set
  /// per peer; encryption is off on the simulated wire).
  config defaults;
  /// How links behave unless set otherwise.
  sim_link link;
  /// Keep every transfer (for `transfers()` and `write_trace`). Off, only the
  /// links given to `watch` are kept; counters and `digest()` cover all.
  bool trace = true;
  /// Give every peer the `echo` concern, for `ping`.
  bool echo = true;
  /// Give every peer (but legacy ones) the group concern with these
  /// settings (`sim_peer::actors.groups()`); its incarnation is the virtual
  /// time at which the peer starts.
  std::optional<group_settings> groups;
};

class sim_network;

/// One local peer of the simulated network.
struct sim_peer {
  std::string uuid;
  std::uint16_t port = 0;
  std::shared_ptr<config> settings;
  /// Its actors (sender, peer table, dispatcher, supervisor, ...), and the
  /// context its concerns get (`actors.context()`).
  assembly actors;
  /// Whether it runs (see `sim_network::kill` and `restart`).
  bool alive = true;
  /// Whether it is a legacy peer (see `sim_network::add_legacy`).
  bool legacy = false;
  /// Peers its sender has connected to.
  std::set<std::string> connected;
  /// Traffic by command.
  std::map<std::string, sim_traffic> traffic;
  /// The requests the test sent from it.
  sim_outcomes outcomes;
  /// Records the replies and outcomes of those requests.
  owner_actor owner;
  caf::actor listener;
};

/// A simulated network in a deterministic actor system. See the top of this
/// header.
class sim_network : public deterministic {
public:
  explicit sim_network(sim_options options = {});
  ~sim_network() override;

  // -- peers ------------------------------------------------------------------

  /// Adds a running peer with the built-in concerns (and echo, unless the
  /// options say otherwise); `tune` may change its settings first, e.g. set
  /// `database` to give it a peer store. A peer can join at any time.
  /// Throws `std::invalid_argument` for a uuid shorter than 4 bytes or taken.
  sim_peer& add(const std::string& uuid,
                const std::function<void(config&)>& tune = nullptr);

  /// Adds a running legacy peer, as the Python p2p0mq is on the network
  /// (see `assembly_parts::legacy`): its `hello` announces nothing, it
  /// forwards nothing and rejects nothing; it runs `hello`, `hb` and `r`.
  sim_peer& add_legacy(const std::string& uuid,
                       const std::function<void(config&)>& tune = nullptr);

  /// Registers the concern of `command` on `uuid`, from `factory`.
  void add_concern(const std::string& uuid, const std::string& command,
                   concern_factory factory);

  /// The peer of `uuid`. Throws `std::out_of_range` when there is none.
  sim_peer& operator[](const std::string& uuid);

  /// Whether `uuid` is a peer of the network.
  bool has(const std::string& uuid) const;

  /// The uuids of all peers, in order.
  std::vector<std::string> uuids() const;

  std::size_t size() const noexcept {
    return peers_.size();
  }

  /// Stops every actor of `uuid` at once, as a crash would: messages on
  /// the way to it are lost and nothing is sent on its behalf any more. Its
  /// peer store (if any) keeps what its table synced, the last sync
  /// included. Sends to it are refused until it restarts.
  void kill(const std::string& uuid);

  /// Starts `uuid` again after `kill`, with the same settings and store: it
  /// knows what its store kept, its sender has no connections yet. The other
  /// peers' connections to it work again, as ZeroMQ reconnects them.
  sim_peer& restart(const std::string& uuid);

  /// Tells `a` the address of `b` (`a` greets `b` on its next tick).
  void tell(const std::string& a, const std::string& b);

  /// Tells each peer of `chain` the address of the next one.
  void line(const std::vector<std::string>& chain);

  // -- the wire ---------------------------------------------------------------

  /// Sets how messages from `a` to `b` travel; both ways unless `one_way`.
  void set_link(const std::string& a, const std::string& b, sim_link x,
                bool one_way = false);

  /// How messages from `a` to `b` travel now.
  sim_link link(const std::string& a, const std::string& b) const;

  /// Takes the link between `a` and `b` down (only from `a` to `b` when
  /// `one_way`): everything sent over it is lost.
  void cut(const std::string& a, const std::string& b, bool one_way = false);

  /// Splits the network: every message between peers of different `groups`
  /// is lost until `heal`. Peers in no group form one more group.
  void partition(const std::vector<std::vector<std::string>>& groups);

  /// Ends the partition and brings every cut link up again (latency and
  /// loss stay as set).
  void heal();

  /// Keeps the transfers between `a` and `b` (both ways) for
  /// `transfers_between`, also with tracing off.
  void watch(const std::string& a, const std::string& b);

  // -- time -------------------------------------------------------------------

  /// Moves virtual time on by `d`; every timer fires at its own time.
  void advance(duration d) {
    run_for(d);
  }

  // -- what the test does -----------------------------------------------------

  /// Sends an echo request carrying `seq` from `from` to `to`; returns its
  /// message id. Its outcome lands in `(*this)[from].outcomes`.
  std::uint64_t ping(const std::string& from, const std::string& to,
                     std::int64_t seq = 1);

  /// Sends a request of `command` with `body` from `from` to `to` through
  /// the sender, owned by the test: its outcome and reply land in
  /// `(*this)[from].outcomes`. Returns its message id.
  std::uint64_t send(const std::string& from, const std::string& to,
                     const std::string& command, payload body,
                     priority prio = priority::fast);

  /// Whether `from` got the reply to its request `id`.
  bool answered(const std::string& from, std::uint64_t id);

  /// Asks `from`'s requester for a request/reply exchange with `to`, and
  /// runs virtual time until the answer comes (the reply, or the error the
  /// requester gives, `errc::request_timeout` after `timeout`).
  caf::expected<message> request(const std::string& from, const std::string& to,
                                 const std::string& command, payload body,
                                 duration timeout = std::chrono::seconds{10});

  // -- what the test sees -----------------------------------------------------

  /// The record `a` keeps of `b`, if any.
  caf::expected<peer> record(const std::string& a, const std::string& b);

  /// Every record in `uuid`'s peer table.
  std::vector<peer> table(const std::string& uuid);

  /// Whether `a` has `b` in `state` (and, when given, via `via`).
  bool sees(const std::string& a, const std::string& b, peer_state state,
            const std::string& via = {});

  /// Whether every pair of neighbours in `chain` is CONNECTED both ways.
  bool connected(const std::vector<std::string>& chain);

  /// The counters of `uuid`'s sender.
  sender_stats sender_counters(const std::string& uuid);

  /// The counters of `uuid`'s router.
  router_stats router_counters(const std::string& uuid);

  /// Traffic of `uuid` by command.
  const std::map<std::string, sim_traffic>& traffic(const std::string& uuid);

  /// Traffic of all peers by command.
  std::map<std::string, sim_traffic> total_traffic() const;

  /// The transfers kept so far (see `sim_options::trace` and `watch`).
  const std::vector<sim_transfer>& transfers() const {
    return transfers_;
  }

  /// The transfers kept of `command` and kind (request or not) sent by
  /// `from` (any peer when empty).
  std::vector<sim_transfer> transfers_of(const std::string& command,
                                         bool requests,
                                         const std::string& from = {}) const;

  /// The transfers kept between `a` and `b`, both ways.
  std::vector<sim_transfer> transfers_between(const std::string& a,
                                              const std::string& b) const;

  /// Forgets the transfers kept so far.
  void clear_transfers();

  /// Writes the transfers kept so far, one line each: virtual time since
  /// the network was made (ns), fate, sender and the frames in hex.
  void write_trace(std::ostream& out) const;

  /// A 64-bit FNV-1a hash over every transfer so far (time, fate, sender,
  /// frames): equal for two runs that put the same bytes on the wire at the
  /// same virtual times.
  std::uint64_t digest() const noexcept {
    return digest_;
  }

  /// Transfers handed to the wire so far.
  std::uint64_t transfer_count() const noexcept {
    return count_;
  }

  /// When the network was made (virtual).
  time_point started() const noexcept {
    return started_;
  }

  // -- for the simulated transport --------------------------------------------

  /// Records that `from`'s sender connected to `to`.
  void connected_to(const std::string& from, const std::string& to);

  /// Records that `from`'s sender closed its connection to `to`.
  void disconnected(const std::string& from, const std::string& to);

  /// Hands the frames `xs`, sent by `from`, to the wire.
  send_status deliver(const std::string& from, const frames& xs,
                      caf::error& err);

protected:
  /// The wire's next arrival: moving time delivers it at its own time,
  /// before the timers of the same instant fire (what arrives at an instant
  /// is read before the peers' timers of that instant look at their peers).
  std::optional<time_point> next_event() const override;

  void fire_events(time_point now) override;

private:
  sim_peer& add_peer(const std::string& uuid,
                     const std::function<void(config&)>& tune, bool legacy);

  /// A message on its way, and the dispatcher it goes to.
  struct in_flight {
    dispatcher_actor to;
    message msg;
  };

  void spawn_actors(sim_peer& p);
  void stop_actors(sim_peer& p, caf::exit_reason reason);
  bool kept(const std::string& a, const std::string& b) const;
  std::optional<std::size_t> group_of(const std::string& uuid) const;

  sim_options options_;
  std::mt19937_64 random_;
  std::map<std::string, std::unique_ptr<sim_peer>> peers_;
  std::map<std::pair<std::string, std::string>, sim_link> links_;
  std::map<std::string, std::size_t> groups_;
  std::set<std::pair<std::string, std::string>> watched_;
  std::vector<sim_transfer> transfers_;
  std::uint64_t digest_ = 14695981039346656037ull;
  std::uint64_t count_ = 0;
  time_point started_;
  /// Messages on their way, by arrival time (equal times in sending order).
  std::multimap<time_point, in_flight> in_flight_;
};

/// The uuid of simulated peer `i`: `sim-` and `i` in 6 digits.
std::string sim_uuid(std::size_t i);

/// A network laid out as a graph: peer `i` is `sim_uuid(i)`.
struct sim_graph {
  /// The links, each `(a, b)` with `a < b`.
  std::vector<std::pair<std::size_t, std::size_t>> links;
  /// The neighbours of each peer.
  std::vector<std::vector<std::size_t>> neighbours;

  std::size_t size() const noexcept {
    return neighbours.size();
  }

  /// The number of hops from `from` to every peer (-1: not reachable).
  std::vector<int> hops_from(std::size_t from) const;

  /// The link ends in `net` whose peer does not have its neighbour
  /// CONNECTED (0: every link is up both ways).
  std::size_t broken_links(sim_network& net) const;
};

/// A connected random graph of `n` peers in which every peer has about
/// `degree` neighbours: a ring (so the graph is connected) plus random
/// chords, from `seed`. Each edge `(a, b)` has `a < b`, as indices.
std::vector<std::pair<std::size_t, std::size_t>>
random_graph(std::size_t n, std::size_t degree, std::uint64_t seed);

/// Adds `n` peers to `net` (`sim_uuid(0)` to `sim_uuid(n - 1)`), laid out
/// as `random_graph(n, degree, seed)`, and tells the lower-numbered end of
/// each link the other's address (its `hello` tells the other end). The
/// peers start `spread` apart in virtual time, so their timers do not all
/// fire at the same instants, as on a real network; `tune` may change each
/// peer's settings.
sim_graph add_random_network(sim_network& net, std::size_t n,
                             std::size_t degree, std::uint64_t seed,
                             duration spread = std::chrono::milliseconds{1},
                             const std::function<void(config&)>& tune = {});

} // namespace p2p0mq::testing
