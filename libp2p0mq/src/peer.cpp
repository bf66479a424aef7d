#include "p2p0mq/peer.hpp"

#include <algorithm>

#include "p2p0mq/config.hpp"
#include "p2p0mq/message.hpp"

namespace p2p0mq {

namespace {

constexpr peer_state all_peer_states[] = {
    peer_state::initial, peer_state::connecting,  peer_state::connected,
    peer_state::routed,  peer_state::unreachable, peer_state::no_connection,
};

/// Returns `slow_down` grown by one step, capped at the configured maximum.
duration grown(duration slow_down, const config& cfg) noexcept {
  return std::min(slow_down + cfg.heart_beat_slow_down,
                  cfg.heart_beat_max_slow_down);
}

/// Schedules the straight greeting of `p`, which becomes ROUTED now: one
/// reconnect wait from now, except that a record that was ROUTED and went
/// silent (UNREACHABLE with its `via`) keeps its schedule, and one given up
/// on keeps its reconnect time when that comes sooner. A route never puts
/// off a greeting already due.
void schedule_straight_greeting(peer& p, time_point now,
                                const config& cfg) noexcept {
  if (p.relayed_with_address())
    return;
  auto later = now + cfg.reconnect_wait;
  if (p.state == peer_state::no_connection)
    p.next_connect = std::min(p.next_connect, later);
  else
    p.next_connect = later;
}

} // namespace

void round_trip_times::add(duration x) noexcept {
  samples[count % window] = std::max(x, duration::zero());
  ++count;
}

std::size_t round_trip_times::size() const noexcept {
  return count < window ? static_cast<std::size_t>(count) : window;
}

duration round_trip_times::last() const noexcept {
  return empty() ? duration::zero() : samples[(count - 1) % window];
}

duration round_trip_times::min() const noexcept {
  if (empty())
    return duration::zero();
  return *std::min_element(samples.begin(), samples.begin() + size());
}

duration round_trip_times::mean() const noexcept {
  if (empty())
    return duration::zero();
  duration sum{};
  for (std::size_t i = 0; i < size(); ++i)
    sum += samples[i];
  return sum / static_cast<duration::rep>(size());
}

duration round_trip_times::max() const noexcept {
  if (empty())
    return duration::zero();
  return *std::max_element(samples.begin(), samples.begin() + size());
}

std::string_view to_string(peer_state x) noexcept {
  // No default: -Wswitch flags a state added to the enum but not named here.
  switch (x) {
  case peer_state::initial:
    return "INITIAL";
  case peer_state::connecting:
    return "CONNECTING";
  case peer_state::connected:
    return "CONNECTED";
  case peer_state::routed:
    return "ROUTED";
  case peer_state::unreachable:
    return "UNREACHABLE";
  case peer_state::no_connection:
    return "NO_CONNECTION";
  }
  return "<unknown peer_state>";
}

std::string_view to_string(peer_origin x) noexcept {
  switch (x) {
  case peer_origin::flag:
    return "flag";
  case peer_origin::store:
    return "store";
  case peer_origin::beacon:
    return "beacon";
  case peer_origin::exchange:
    return "exchange";
  case peer_origin::hello:
    return "hello";
  case peer_origin::route:
    return "route";
  }
  return "<unknown peer_origin>";
}

std::optional<peer_state> parse_peer_state(std::string_view name) noexcept {
  for (auto x : all_peer_states)
    if (to_string(x) == name)
      return x;
  return std::nullopt;
}

namespace {

constexpr capability all_capabilities[] = {
    capability::forward, capability::ask_around, capability::reject,
    capability::groups,  capability::exchange,
};

} // namespace

std::string_view to_string(capability x) noexcept {
  switch (x) {
  case capability::forward:
    return "forward";
  case capability::ask_around:
    return "ask-around";
  case capability::reject:
    return "reject";
  case capability::groups:
    return "groups";
  case capability::exchange:
    return "exchange";
  }
  return "<unknown capability>";
}

std::optional<capability> parse_capability(std::string_view name) noexcept {
  for (auto x : all_capabilities)
    if (to_string(x) == name)
      return x;
  return std::nullopt;
}

capabilities capabilities::ours() noexcept {
  capabilities result;
  result.announced = true;
  result.add(capability::forward)
      .add(capability::ask_around)
      .add(capability::reject);
  return result;
}

std::vector<std::string> capabilities::names() const {
  std::vector<std::string> result;
  for (auto x : all_capabilities)
    if (has(x))
      result.emplace_back(to_string(x));
  return result;
}

bool peer::needs_reconnect() const noexcept {
  switch (state) {
  case peer_state::initial:
  case peer_state::no_connection:
  case peer_state::unreachable:
    return true;
  case peer_state::connecting:
  case peer_state::connected:
  case peer_state::routed:
    return false;
  }
  return false;
}

bool peer::does_heart_beat() const noexcept {
  switch (state) {
  case peer_state::connected:
  case peer_state::routed:
  case peer_state::unreachable:
    return true;
  case peer_state::initial:
  case peer_state::connecting:
  case peer_state::no_connection:
    return false;
  }
  return false;
}

void peer::set_state(peer_state next, time_point now) noexcept {
  if (next == state)
    return;
  state = next;
  state_since = now;
}

void peer::reset_heart_beat(time_point now, const config& cfg) noexcept {
  last_heard = now;
  slow_down = duration::zero();
  next_heart_beat = now + cfg.heart_beat_interval;
}

void peer::schedule_heart_beat(time_point now, const config& cfg) noexcept {
  next_heart_beat = now + cfg.heart_beat_interval + slow_down;
  slow_down = grown(slow_down, cfg);
}

void peer::become_connected(const message& msg, time_point now,
                            const config& cfg) {
  if (msg.previous_hop.empty() || msg.source == msg.previous_hop) {
    via.clear();
    set_state(peer_state::connected, now);
  } else {
    // Heard straight within the last interval: the direct link works, and
    // this message left the peer through a relay before the peer heard us
    // straight (both ends of a link that comes back greet each other while
    // their beats still go round). Taking it as a route would send us back
    // to the relay, and the peer after us, every time the link is greeted.
    if (state == peer_state::connected &&
        now - last_heard <= cfg.heart_beat_interval)
      return;
    schedule_straight_greeting(*this, now, cfg);
    via = msg.previous_hop;
    set_state(peer_state::routed, now);
  }
  reset_heart_beat(now, cfg);
}

bool peer::become_routed(const std::string& relay, time_point now,
                         const config& cfg) {
  if (state == peer_state::connected)
    return false;
  schedule_straight_greeting(*this, now, cfg);
  via = relay;
  set_state(peer_state::routed, now);
  reset_heart_beat(now, cfg);
  return true;
}

void peer::become_no_connection(time_point now, const config& cfg) noexcept {
  auto later = now + cfg.reconnect_wait + slow_down;
  // Giving up on the relay never puts off a straight greeting already due.
  next_connect = relayed_with_address() ? std::min(next_connect, later) : later;
  set_state(peer_state::no_connection, now);
  via.clear();
  slow_down = grown(slow_down, cfg);
}

heart_beat_action peer::heart_beat_due(time_point now,
                                       const config& cfg) const noexcept {
  if (!does_heart_beat() || now < next_heart_beat)
    return heart_beat_action::none;
  // Thresholds are strict: silent for exactly the threshold is still fine.
  auto silence = now - last_heard;
  if (silence > cfg.no_connection_threshold)
    return heart_beat_action::no_connection;
  if (silence > cfg.unresponsive_threshold && state != peer_state::unreachable)
    return heart_beat_action::unreachable;
  return heart_beat_action::send;
}

connect_action peer::connect_due(time_point now,
                                 const config& cfg) const noexcept {
  switch (state) {
  case peer_state::initial:
    if (!host.empty())
      return connect_action::send_hello;
    break;
  case peer_state::no_connection:
    if (!host.empty() && now >= next_connect)
      return connect_action::send_hello;
    break;
  case peer_state::routed:
  case peer_state::unreachable:
    if (relayed_with_address() && now >= next_connect)
      return connect_action::send_hello;
    break;
  case peer_state::connecting:
    if (now - state_since > cfg.unresponsive_threshold)
      return connect_action::give_up;
    break;
  case peer_state::connected:
    break;
  }
  return connect_action::none;
}

void peer::greeted(time_point now, const config& cfg) noexcept {
  if (relayed_with_address())
    next_connect = now + cfg.reconnect_wait;
}

bool peer::relayed_with_address() const noexcept {
  if (host.empty())
    return false;
  return state == peer_state::routed ||
         (state == peer_state::unreachable && !via.empty());
}

time_point peer::next_due(const config& cfg) const noexcept {
  switch (state) {
  case peer_state::routed:
  case peer_state::unreachable:
    return relayed_with_address() ? std::min(next_heart_beat, next_connect)
                                  : next_heart_beat;
  case peer_state::connected:
    return next_heart_beat;
  case peer_state::initial:
    return host.empty() ? time_point::max() : time_point{};
  case peer_state::no_connection:
    return host.empty() ? time_point::max() : next_connect;
  case peer_state::connecting:
    // The threshold is strict: give up one tick of the clock after it.
    return state_since + cfg.unresponsive_threshold + duration{1};
  }
  return time_point::max();
}

} // namespace p2p0mq
