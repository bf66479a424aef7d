#include "p2p0mq/actors/concern_base.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/system_messages.hpp>

#include "batches.hpp"
#include "p2p0mq/concern_payloads.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// What takes a concern's outgoing messages: the supervisor it serves on
/// another node, else its local peer's sender; null without either.
outgoing_actor outlet_of(const concern_context& ctx) {
  if (ctx.outlet)
    return ctx.outlet;
  return ctx.sender;
}

} // namespace

concern_base::concern_base(caf::actor_config& cfg, concern_context ctx)
    : super(cfg), ctx_(std::move(ctx)) {
  if (ctx_.backlog)
    ctx_.backlog->counted.store(true, std::memory_order_relaxed);
}

concern_base::~concern_base() {
  // nop
}

template <class F>
bool concern_base::guarded(const char* hook, F&& f, const message* request) {
  // Exceptions stop here: CAF's handler loop never sees them.
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    fail(hook, e.what(), request);
  } catch (...) {
    fail(hook, "an exception of unknown type", request);
  }
  return false;
}

void concern_base::fail(const char* hook, const std::string& what,
                        const message* request) {
  failed_ = true;
  auto reason =
      make_error(errc::concern_failed, "concern '" + ctx_.command +
                                           "' threw in " + hook + ": " + what);
  log(log_level::error, log_category::app, render(reason));
  if (request != nullptr)
    reject(*request, reason);
  quit(std::move(reason));
}

concern_base::behavior_type concern_base::make_behavior() {
  if (ctx_.outlet) {
    // On another node: serve the supervisor while it is there.
    monitor(ctx_.outlet);
    set_down_handler([this](caf::down_msg& msg) {
      if (msg.source != ctx_.outlet.address())
        return;
      log(log_level::info, log_category::app, "concern '", ctx_.command,
          "': the supervisor it serves went down (",
          system().render(msg.reason), ")");
      quit(msg.reason);
    });
  }
  guarded("on_start", [this] { on_start(); });
  return {
      [this](incoming_atom, const std::vector<message>& msgs) {
        handle_incoming(msgs);
      },
      [this](tick_atom) { handle_tick(); },
      [this](sent_atom, const std::vector<message>& msgs) {
        for (auto& msg : msgs)
          if (!guarded("on_sent", [&] { on_sent(msg); }))
            break;
      },
      [this](send_failed_atom, const message& msg, const caf::error& reason) {
        auto again = false;
        guarded("on_send_failed", [&] { again = on_send_failed(msg, reason); });
        return again;
      },
      [this](dropped_atom, const message& msg, const caf::error& reason) {
        guarded("on_dropped", [&] { on_dropped(msg, reason); });
      },
      [this](changed_atom, const std::vector<peer_change>& changes) {
        guarded("on_peers_changed", [&] { on_peers_changed(changes); });
      },
      [this](due_atom, due_kind kind, const std::vector<peer>& peers) {
        guarded("on_due", [&] { on_due(kind, peers); });
      },
      [this](wanted_atom, const std::vector<wanted_route>& routes) {
        guarded("on_routes_wanted", [&] { on_routes_wanted(routes); });
      },
      [this](stats_atom) {
        concern_counters result;
        guarded("counters", [&] { result = counters(); });
        return result;
      },
  };
}

void concern_base::handle_tick() {
  auto now = clock().now();
  if (log_ && log_flush_at_ && *log_flush_at_ <= now) {
    log_flush_at_.reset();
    auto next = log_->flush(now);
    if (next != time_point::max()) {
      log_flush_at_ = next;
      delayed_send(this, next - now, tick_atom::value);
    }
  }
  auto one_shot = tick_at_ && *tick_at_ <= now;
  auto periodic = period_ > duration::zero() && next_periodic_ <= now;
  if (!one_shot && !periodic)
    return; // A timer asked for before a later request replaced it.
  if (one_shot)
    tick_at_.reset();
  if (periodic) {
    next_periodic_ = now + period_;
    delayed_send(this, period_, tick_atom::value);
  }
  guarded("on_tick", [this] { on_tick(); });
}

void concern_base::tick_every(duration period) {
  auto was = period_;
  period_ = period;
  if (period <= duration::zero())
    return;
  auto next = clock().now() + period;
  // A shorter period than the pending timer's needs a timer of its own.
  if (was > duration::zero() && next_periodic_ <= next)
    return;
  next_periodic_ = next;
  delayed_send(this, period, tick_atom::value);
}

void concern_base::tick_after(duration delay) {
  auto at = clock().now() + std::max(delay, duration::zero());
  if (tick_at_ && *tick_at_ <= at)
    return;
  tick_at_ = at;
  delayed_send(this, std::max(delay, duration::zero()), tick_atom::value);
}

bool concern_base::log_dropped(const log_kind& kind, const message& msg,
                               const caf::error& why) {
  if (!log_)
    log_ = std::make_unique<log_limiter>(log_limits_of(*ctx_.settings));
  auto now = clock().now();
  auto written = p2p0mq::log_dropped(*log_, now, kind, msg, why);
  auto next = log_->next_due();
  if (next != time_point::max() && (!log_flush_at_ || next < *log_flush_at_)) {
    log_flush_at_ = next;
    delayed_send(this, std::max(next - now, duration::zero()),
                 tick_atom::value);
  }
  return written;
}

void concern_base::watch_peers() {
  request(ctx_.peers, caf::infinite, subscribe_atom::value,
          peer_watcher_actor{this})
      .then([this](std::vector<peer>& peers) {
        std::vector<peer_change> changes;
        changes.reserve(peers.size());
        for (auto& p : peers) {
          auto was = p.state;
          changes.push_back(peer_change{change_kind::added, std::move(p), was});
        }
        guarded("on_peers_changed", [&] { on_peers_changed(changes); });
      });
}

void concern_base::take_due(due_kind kind) {
  send(ctx_.peers, subscribe_atom::value, kind, due_watcher_actor{this});
}

void concern_base::watch_wanted_routes() {
  send(ctx_.sender, subscribe_atom::value, route_watcher_actor{this});
}

void concern_base::on_exit() {
  // Exiting already: an exception here is only logged.
  try {
    on_stop(fail_state());
  } catch (const std::exception& e) {
    log(log_level::error, log_category::app, "concern '", ctx_.command,
        "' threw in on_stop: ", e.what());
  } catch (...) {
    log(log_level::error, log_category::app, "concern '", ctx_.command,
        "' threw in on_stop");
  }
}

void concern_base::handle_incoming(const std::vector<message>& msgs) {
  if (auto& b = ctx_.backlog) {
    // Out of the mailbox now. (Not below zero: messages sent here by another
    // than the dispatcher were never counted.)
    std::size_t n = b->waiting.load(std::memory_order_relaxed);
    while (n > 0 &&
           !b->waiting.compare_exchange_weak(n, n - std::min(n, msgs.size()),
                                             std::memory_order_relaxed)) {
    }
  }
  in_batch_ = true;
  for (auto& msg : msgs) {
    if (msg.is_request())
      handle_request(msg);
    else
      guarded("on_reply", [&] { on_reply(msg); });
    if (failed_)
      break;
  }
  in_batch_ = false;
  flush_posted();
}

void concern_base::flush_posted() {
  // Posted in a batch only when there is a sender to take them.
  auto to = outlet_of(ctx_);
  for (auto& [prio, msgs] : posted_)
    if (!msgs.empty())
      send(to, outgoing_atom::value, std::exchange(msgs, {}), prio,
           owner_actor{this});
}

void concern_base::handle_request(const message& request) {
  answer result = no_reply;
  if (!guarded(
          "on_request", [&] { result = on_request(request); }, &request))
    return;
  switch (result.what()) {
  case answer::kind::reply:
    reply(request, result.body(), result.prio());
    break;
  case answer::kind::reject:
    reject(request, result.reason(), result.prio());
    break;
  case answer::kind::none:
    break;
  }
}

message concern_base::send_request(const std::string& peer, payload body,
                                   priority prio) {
  auto msg =
      ctx_.make_request(peer, ctx_.command, std::move(body), clock().now());
  post(msg, prio);
  return msg;
}

void concern_base::reply(const message& request, payload body, priority prio) {
  post(ctx_.make_reply(request, std::move(body), clock().now()), prio);
}

void concern_base::reject(const message& request, const caf::error& reason,
                          priority prio) {
  // A rejection says why; "rejected" itself goes without saying.
  auto why = !reason                    ? std::string{"no reason given"}
             : reason == errc::rejected ? context_of(reason)
                                        : render(reason);
  log(log_level::debug, log_category::app, "concern '", ctx_.command,
      "' rejects request ", request.id, " from ", short_uuid(request.source),
      ": ", why);
  reply(request, make_rejection_payload(why), prio);
}

void concern_base::post(message msg, priority prio) {
  owner_actor owner{this};
  if (auto to = outlet_of(ctx_)) {
    if (in_batch_)
      detail::share_of(posted_, prio).emplace_back(std::move(msg));
    else
      send(to, outgoing_atom::value, std::move(msg), prio, std::move(owner));
  } else { // Spawned without a local peer: still one outcome per message.
    send(owner, dropped_atom::value, std::move(msg),
         make_error(errc::not_started,
                    "concern '" + ctx_.command + "' has no sender"));
  }
}

// -- default hooks ------------------------------------------------------------

void concern_base::on_start() {
  // nop
}

void concern_base::on_tick() {
  // nop
}

answer concern_base::on_request(const message&) {
  return make_error(errc::rejected,
                    "concern '" + ctx_.command + "' takes no requests");
}

void concern_base::on_reply(const message& reply) {
  log(log_level::debug, log_category::app, "concern '", ctx_.command,
      "' ignores reply ", reply.id, " from ", short_uuid(reply.source));
}

void concern_base::on_sent(const message&) {
  // nop
}

bool concern_base::on_send_failed(const message&, const caf::error&) {
  return true;
}

void concern_base::on_dropped(const message& msg, const caf::error& reason) {
  log(log_level::info, log_category::app, "concern '", ctx_.command,
      "': ", to_string(msg.kind), " ", msg.id, " to ", short_uuid(msg.to),
      " dropped: ", render(reason));
}

void concern_base::on_peers_changed(const std::vector<peer_change>&) {
  // nop
}

void concern_base::on_due(due_kind, const std::vector<peer>&) {
  // nop
}

void concern_base::on_routes_wanted(const std::vector<wanted_route>&) {
  // nop
}

concern_counters concern_base::counters() const {
  return {};
}

void concern_base::on_stop(const caf::error&) {
  // nop
}

// -- function-based form ------------------------------------------------------

namespace {

/// A concern whose hooks are the handlers it was given.
class function_concern final : public concern_base {
public:
  function_concern(caf::actor_config& cfg, concern_context ctx,
                   concern_handlers handlers)
      : concern_base(cfg, std::move(ctx)), h_(std::move(handlers)) {
    // nop
  }

protected:
  void on_start() override {
    if (h_.on_tick)
      tick_every(context().settings->tick_interval);
    if (h_.on_start)
      h_.on_start(*this);
  }

  void on_tick() override {
    if (h_.on_tick)
      h_.on_tick(*this);
  }

  answer on_request(const message& request) override {
    if (h_.on_request)
      return h_.on_request(*this, request);
    return concern_base::on_request(request);
  }

  void on_reply(const message& reply) override {
    if (h_.on_reply)
      h_.on_reply(*this, reply);
    else
      concern_base::on_reply(reply);
  }

  void on_sent(const message& msg) override {
    if (h_.on_sent)
      h_.on_sent(*this, msg);
  }

  bool on_send_failed(const message& msg, const caf::error& reason) override {
    if (h_.on_send_failed)
      return h_.on_send_failed(*this, msg, reason);
    return concern_base::on_send_failed(msg, reason);
  }

  void on_dropped(const message& msg, const caf::error& reason) override {
    if (h_.on_dropped)
      h_.on_dropped(*this, msg, reason);
    else
      concern_base::on_dropped(msg, reason);
  }

  void on_peers_changed(const std::vector<peer_change>& changes) override {
    if (h_.on_peers_changed)
      h_.on_peers_changed(*this, changes);
  }

  void on_due(due_kind kind, const std::vector<peer>& peers) override {
    if (h_.on_due)
      h_.on_due(*this, kind, peers);
  }

  void on_routes_wanted(const std::vector<wanted_route>& routes) override {
    if (h_.on_routes_wanted)
      h_.on_routes_wanted(*this, routes);
  }

  void on_stop(const caf::error& reason) override {
    if (h_.on_stop)
      h_.on_stop(*this, reason);
  }

private:
  concern_handlers h_;
};

} // namespace

concern_factory make_concern(concern_handlers handlers) {
  return [handlers](caf::local_actor* parent,
                    concern_context ctx) -> concern_actor {
    return parent->spawn<function_concern>(std::move(ctx), handlers);
  };
}

concern_factory
make_concern(std::function<answer(concern_base& self, const message& request)>
                 on_request) {
  concern_handlers handlers;
  handlers.on_request = std::move(on_request);
  return make_concern(std::move(handlers));
}

} // namespace p2p0mq
