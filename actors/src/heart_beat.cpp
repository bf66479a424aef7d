#include "p2p0mq/actors/heart_beat.hpp"

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

struct heart_beat_state {
  static inline const char* name = "p2p0mq.heart_beat";
  concern_context ctx;
};

using heart_beat_ptr = concern_actor::stateful_pointer<heart_beat_state>;

concern_actor::behavior_type heart_beat_impl(heart_beat_ptr self,
                                             concern_context context) {
  self->state.ctx = std::move(context);
  return {
      [self](incoming_atom, message& msg) {
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
        self->request(self->state.ctx.peers, caf::infinite,
                      heart_beat_atom::value)
            .then([self](const std::vector<peer>& due) {
              auto& ctx = self->state.ctx;
              auto now = self->clock().now();
              for (auto& p : due)
                self->send(ctx.sender, outgoing_atom::value,
                           ctx.make_request(p.uuid, heart_beat_command,
                                            payload{}, now),
                           priority::fast, concern_actor{self});
            });
      },
      [](sent_atom, const message&) {
        // Delivery is known from the reply only.
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // No retry: the next beat comes on schedule.
        return false;
      },
      [](dropped_atom, const message& msg, const caf::error& err) {
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
