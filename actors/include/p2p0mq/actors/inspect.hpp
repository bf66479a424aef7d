#pragma once

// CAF `inspect` overloads for the core types that travel in actor messages.
// They make the types printable and serializable, so they can cross nodes
// through CAF's middleman. Times are local to one process (steady clock):
// they travel as nanoseconds since that clock's epoch, which is meaningful
// only on the node that wrote them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/peer.hpp"
#include "p2p0mq/time.hpp"

namespace p2p0mq {

/// Serializes a payload as its msgpack bytes; loading parses them again.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, payload& x) {
  std::string bytes = x.bytes();
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto parsed = payload::parse(bytes);
    if (!parsed)
      return std::move(parsed.error());
    x = std::move(*parsed);
    return caf::none;
  });
  return f(caf::meta::type_name("payload"), bytes, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message& x) {
  auto kind = static_cast<std::uint8_t>(x.kind);
  auto deadline = x.deadline.time_since_epoch().count();
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.kind = static_cast<message_kind>(kind);
    x.deadline = time_point{duration{deadline}};
    return caf::none;
  });
  return f(caf::meta::type_name("message"), x.source, x.to, x.previous_hop,
           x.next_hop, x.command, kind, x.id, x.payload, deadline, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, round_trip_times& x) {
  std::array<duration::rep, round_trip_times::window> samples;
  for (std::size_t i = 0; i < samples.size(); ++i)
    samples[i] = x.samples[i].count();
  auto load = caf::meta::load_callback([&]() -> caf::error {
    for (std::size_t i = 0; i < samples.size(); ++i)
      x.samples[i] = duration{samples[i]};
    return caf::none;
  });
  return f(caf::meta::type_name("round_trip_times"), samples, x.count, load);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, capabilities& x) {
  return f(caf::meta::type_name("capabilities"), x.announced, x.bits);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer& x) {
  auto state = static_cast<std::uint8_t>(x.state);
  bool has_db_id = x.db_id.has_value();
  std::int64_t db_id = x.db_id.value_or(0);
  auto ns = [](time_point t) { return t.time_since_epoch().count(); };
  auto state_since = ns(x.state_since);
  auto last_heard = ns(x.last_heard);
  auto next_heart_beat = ns(x.next_heart_beat);
  auto slow_down = x.slow_down.count();
  auto next_connect = ns(x.next_connect);
  auto last_ask_around = ns(x.last_ask_around);
  bool has_speaks = x.speaks.has_value();
  auto speaks = x.speaks.value_or(capabilities{});
  auto origin = static_cast<std::uint8_t>(x.origin);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    auto tp = [](duration::rep n) { return time_point{duration{n}}; };
    x.state = static_cast<peer_state>(state);
    x.db_id = has_db_id ? std::optional<std::int64_t>{db_id} : std::nullopt;
    x.state_since = tp(state_since);
    x.last_heard = tp(last_heard);
    x.next_heart_beat = tp(next_heart_beat);
    x.slow_down = duration{slow_down};
    x.next_connect = tp(next_connect);
    x.last_ask_around = tp(last_ask_around);
    x.speaks = has_speaks ? std::optional<capabilities>{speaks} : std::nullopt;
    x.origin = static_cast<peer_origin>(origin);
    return caf::none;
  });
  return f(caf::meta::type_name("peer"), x.uuid, x.host, x.port, state,
           state_since, x.via, has_db_id, db_id, last_heard, next_heart_beat,
           slow_down, next_connect, last_ask_around, x.round_trips, has_speaks,
           speaks, origin, load);
}

} // namespace p2p0mq
