#include "p2p0mq/actors/heart_beat.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// A beat of ours by (peer, message id).
using beat_key = std::pair<std::string, std::uint64_t>;

struct heart_beat_state {
  static inline const char* name = "p2p0mq.heart_beat";
  concern_context ctx;
  /// Our beats waiting for their reply: when each was handed to ZeroMQ, or
  /// to the sender until it says it sent it.
  std::map<beat_key, time_point> beats;
};

using heart_beat_ptr = concern_actor::stateful_pointer<heart_beat_state>;

/// Tells the peer table the round-trip time of the beat `reply` answers, if
/// it answers one of ours.
void measure(heart_beat_ptr self, const message& reply) {
  auto& st = self->state;
  auto i = st.beats.find(beat_key{reply.source, reply.id});
  if (i == st.beats.end())
    return;
  auto rtt = self->clock().now() - i->second;
  st.beats.erase(i);
  self->send(st.ctx.peers, round_trip_atom::value, reply.source,
             std::chrono::duration_cast<caf::timespan>(rtt));
}

/// Forgets the beats that went unanswered for a time-to-live.
void forget_old_beats(heart_beat_ptr self, time_point now) {
  auto& st = self->state;
  auto ttl = st.ctx.settings->message_ttl;
  for (auto i = st.beats.begin(); i != st.beats.end();) {
    if (now - i->second >= ttl)
      i = st.beats.erase(i);
    else
      ++i;
  }
}

concern_actor::behavior_type heart_beat_impl(heart_beat_ptr self,
                                             concern_context context) {
  self->state.ctx = std::move(context);
  return {
      [self](incoming_atom, message& msg) {
        if (msg.is_reply())
          measure(self, msg);
        self->request(self->state.ctx.peers, caf::infinite, heard_atom::value,
                      msg)
            .then(
                [self, msg](const peer&) {
                  if (!msg.is_request())
                    return;
                  auto& ctx = self->state.ctx;
                  self->send(
                      ctx.sender, outgoing_atom::value,
                      ctx.make_reply(msg, payload{}, self->clock().now()),
                      priority::fast, concern_actor{self});
                },
                [msg](const caf::error& err) {
                  log(log_level::debug, log_category::heart_beat,
                      "ignored an hb ", to_string(msg.kind), " from ",
                      short_uuid(msg.source), ": ", render(err));
                });
      },
      [self](tick_atom) {
        forget_old_beats(self, self->clock().now());
        self->request(self->state.ctx.peers, caf::infinite,
                      heart_beat_atom::value)
            .then([self](const std::vector<peer>& due) {
              auto& st = self->state;
              auto& ctx = st.ctx;
              auto now = self->clock().now();
              for (auto& p : due) {
                auto msg = ctx.make_request(p.uuid, heart_beat_command,
                                            payload{}, now);
                st.beats[beat_key{msg.to, msg.id}] = now;
                self->send(ctx.sender, outgoing_atom::value, std::move(msg),
                           priority::fast, concern_actor{self});
              }
            });
      },
      [self](sent_atom, const message& msg) {
        // Delivery is known from the reply only; its round trip starts now.
        if (!msg.is_request())
          return;
        auto i = self->state.beats.find(beat_key{msg.to, msg.id});
        if (i != self->state.beats.end())
          i->second = self->clock().now();
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // No retry: the next beat comes on schedule.
        return false;
      },
      [self](dropped_atom, const message& msg, const caf::error& err) {
        if (msg.is_request())
          self->state.beats.erase(beat_key{msg.to, msg.id});
        log(log_level::debug, log_category::heart_beat, "hb ",
            to_string(msg.kind), " to ", short_uuid(msg.to),
            " dropped: ", render(err));
      },
  };
}

} // namespace

concern_factory heart_beat() {
  return [](caf::local_actor* parent, concern_context ctx) {
    return parent->spawn(heart_beat_impl, std::move(ctx));
  };
}

} // namespace p2p0mq
