#include "p2p0mq/actors/echo.hpp"

#include <utility>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

class echo_concern final : public concern_base {
public:
  echo_concern(caf::actor_config& cfg, concern_context ctx, caf::actor listener)
      : concern_base(cfg, std::move(ctx)), listener_(std::move(listener)) {
    // nop
  }

  const char* name() const override {
    return "p2p0mq.echo";
  }

protected:
  answer on_request(const message& msg) override {
    return msg.payload;
  }

  void on_reply(const message& msg) override {
    if (listener_)
      caf::anon_send(listener_, incoming_atom::value, msg);
  }

  bool on_send_failed(const message&, const caf::error&) override {
    // Tried again while its deadline lasts: the peer may be on its way.
    return true;
  }

  void on_dropped(const message& msg, const caf::error& err) override {
    log(log_level::debug, log_category::app, "echo ", to_string(msg.kind),
        " to ", short_uuid(msg.to), " dropped: ", render(err));
    if (msg.is_request() && listener_)
      caf::anon_send(listener_, dropped_atom::value, msg, err);
  }

private:
  caf::actor listener_;
};

} // namespace

concern_factory echo(caf::actor listener) {
  return concern_class<echo_concern>(std::move(listener));
}

} // namespace p2p0mq
