#include "p2p0mq/actors/echo.hpp"

#include <utility>

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

struct echo_state {
  static inline const char* name = "p2p0mq.echo";
  concern_context ctx;
  caf::actor listener;
};

using echo_ptr = concern_actor::stateful_pointer<echo_state>;

concern_actor::behavior_type echo_impl(echo_ptr self, concern_context context,
                                       caf::actor listener) {
  self->state.ctx = std::move(context);
  self->state.listener = std::move(listener);
  return {
      [self](incoming_atom, message& msg) {
        auto& st = self->state;
        if (msg.is_reply()) {
          if (st.listener)
            caf::anon_send(st.listener, incoming_atom::value, std::move(msg));
          return;
        }
        auto body = msg.payload;
        self->send(st.ctx.sender, outgoing_atom::value,
                   st.ctx.make_reply(msg, std::move(body), self->clock().now()),
                   priority::fast, concern_actor{self});
      },
      [](tick_atom) {
        // Nothing to do on its own.
      },
      [](sent_atom, const message&) {
        // Delivery is known from the reply only.
      },
      [](send_failed_atom, const message&, const caf::error&) {
        // Tried again while its deadline lasts: the peer may be on its way.
        return true;
      },
      [self](dropped_atom, message& msg, caf::error& err) {
        log(log_level::debug, log_category::app, "echo ", to_string(msg.kind),
            " to ", short_uuid(msg.to), " dropped: ", render(err));
        auto& st = self->state;
        if (msg.is_request() && st.listener)
          caf::anon_send(st.listener, dropped_atom::value, std::move(msg),
                         std::move(err));
      },
  };
}

} // namespace

concern_factory echo(caf::actor listener) {
  return [listener](caf::local_actor* parent, concern_context ctx) {
    return parent->spawn(echo_impl, std::move(ctx), listener);
  };
}

} // namespace p2p0mq
