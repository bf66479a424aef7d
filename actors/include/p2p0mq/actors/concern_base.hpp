#pragma once

// Writing a concern: a base class for the class-based form, a set of
// handlers for the function-based form, and what both can do (send, ask,
// reply, reject, ask for timers and for news of the peers). Both are typed
// CAF actors of the `concern_actor` interface and go through the whole life
// cycle of a concern: start, request, reply, sent / send failed / dropped,
// timers and news, stop.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/local_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "p2p0mq/actors/concern.hpp"
#include "p2p0mq/actors/interfaces.hpp"
#include "p2p0mq/field.hpp"
#include "p2p0mq/log_limiter.hpp"
#include "p2p0mq/message.hpp"
#include "p2p0mq/payload.hpp"
#include "p2p0mq/send_queues.hpp"

namespace p2p0mq {

/// The type of `no_reply`.
struct no_reply_t {};

/// What a request handler answers when it replies later (with
/// `concern_base::reply`) or not at all.
inline constexpr no_reply_t no_reply{};

/// What a concern's request handler answers: a reply carrying a payload, a
/// rejection, or nothing now.
///
/// ~~~
/// return payload_builder{}.add_string("text", "hi").build(); // a reply
/// return text.error();  // a rejection: a `caf::error`, e.g. of field<T>
/// return no_reply;      // nothing now (reply later, or never)
/// ~~~
class answer {
public:
  /// What the handler decided.
  enum class kind : std::uint8_t {
    /// Send `body()` as the reply.
    reply,
    /// Send a rejection saying `reason()` (see `rejection_field`).
    reject,
    /// Send nothing now.
    none,
  };

  /// A reply with `body`, leaving with priority `prio`.
  answer(payload body, priority prio = priority::fast)
      : kind_(kind::reply), body_(std::move(body)), prio_(prio) {
  }

  /// A rejection for `reason`; an empty error rejects without a reason.
  answer(caf::error reason, priority prio = priority::fast)
      : kind_(kind::reject), reason_(std::move(reason)), prio_(prio) {
  }

  /// A reply with the payload of `x`, or a rejection for its error.
  answer(caf::expected<payload> x, priority prio = priority::fast)
      : prio_(prio) {
    if (x) {
      kind_ = kind::reply;
      body_ = std::move(*x);
    } else {
      kind_ = kind::reject;
      reason_ = std::move(x.error());
    }
  }

  /// Nothing now.
  answer(no_reply_t) : kind_(kind::none) {
  }

  kind what() const noexcept {
    return kind_;
  }

  const payload& body() const noexcept {
    return body_;
  }

  const caf::error& reason() const noexcept {
    return reason_;
  }

  priority prio() const noexcept {
    return prio_;
  }

private:
  kind kind_ = kind::none;
  payload body_;
  caf::error reason_;
  priority prio_ = priority::fast;
};

/// The class-based form of a concern: derive from it, override the hooks you
/// need, and add it with `concern_class<T>()`.
///
/// ~~~
/// class upper : public p2p0mq::concern_base {
/// public:
///   using concern_base::concern_base;
///
/// protected:
///   p2p0mq::answer on_request(const p2p0mq::message& req) override {
///     auto text = p2p0mq::field<std::string>(req.payload, "text");
///     if (!text)
///       return text.error();
///     return p2p0mq::payload_builder{}
///         .add_string("text", to_upper(*text))
///         .build();
///   }
/// };
///
/// peer.add_concern("upper", p2p0mq::concern_class<upper>());
/// ~~~
///
/// Life cycle, each hook called in the actor, one at a time:
///
/// | hook | when | default |
/// |---|---|---|
/// | `on_start()` | once, before any other | nothing |
/// | `on_request(request)` | a request for its command; the `answer` is sent back as the reply, or as a rejection | rejects: the concern takes no requests |
/// | `on_reply(reply)` | a reply for its command that no requester waits for (e.g. to a `send_request`) | logs it (debug) |
/// | `on_sent(msg)` | one of its messages was handed to ZeroMQ (final) | nothing |
/// | `on_send_failed(msg, reason)` | a send of one of its messages failed; return true to have it tried again while its deadline lasts | true |
/// | `on_dropped(msg, reason)` | one of its messages will never be sent (final) | logs it (info) |
/// | `on_tick()` | a timer it asked for (`tick_every`, `tick_after`) | nothing |
/// | `on_peers_changed(changes)` | after `watch_peers`: every peer at once, then each change | nothing |
/// | `on_due(kind, peers)` | after `take_due(kind)`: the peers the rules made due | nothing |
/// | `on_routes_wanted(routes)` | after `watch_wanted_routes`: destinations that start to wait for a route | nothing |
/// | `counters()` | asked for its counters (`stats_atom`, e.g. by the metrics) | none |
/// | `on_stop(reason)` | once, when the actor exits (reason: none or `user_shutdown` when stopped on purpose) | nothing |
///
/// Nothing runs between two messages: a concern that wants to act on its
/// own asks for a timer. The built-in concerns (`hello`, `hb`, `r`, `echo`)
/// are written with this class and nothing else, so any of them could run
/// in another process too.
///
/// Every message it sends ends in exactly one of `on_sent` and `on_dropped`.
///
/// Exceptions: a hook that throws does not take the local peer with it. The
/// concern logs the exception, rejects the request being handled (if any)
/// with `errc::concern_failed`, and exits with `errc::concern_failed`: the
/// supervisor restarts a concern it spawned (see `supervisor_actor`) and
/// unregisters one registered as a running actor.
///
/// On another node (see `attach_concern`), a concern works the same; it
/// exits, with the supervisor's exit reason, when the supervisor it serves
/// goes down or becomes unreachable.
class concern_base : public concern_actor::base {
public:
  using super = concern_actor::base;

  /// Called by CAF's `spawn`; pass `ctx` on from the factory.
  concern_base(caf::actor_config& cfg, concern_context ctx);

  ~concern_base() override;

  /// Calls `on_start` and returns the behaviour that calls the other hooks.
  behavior_type make_behavior() final;

  /// Calls `on_stop`.
  void on_exit() final;

  // -- what a concern works with ----------------------------------------------

  /// The local peer's context (see `concern_context`).
  const concern_context& context() const noexcept {
    return ctx_;
  }

  /// The command id it serves.
  const std::string& command() const noexcept {
    return ctx_.command;
  }

  /// The local peer's uuid.
  const std::string& local_uuid() const noexcept {
    return ctx_.local_uuid;
  }

  // -- what a concern does ----------------------------------------------------

  /// Sends a request of its command to `peer`, fire-and-forget, and returns
  /// it (its `id` identifies the reply and the outcome; on another node the
  /// supervisor numbers it, and the id is 0 here). The reply comes to
  /// `on_reply`, the outcome to `on_sent` / `on_send_failed` /
  /// `on_dropped`.
  message send_request(const std::string& peer, payload body,
                       priority prio = priority::fast);

  /// Replies `body` to `request` (for a handler that answered `no_reply`).
  void reply(const message& request, payload body,
             priority prio = priority::fast);

  /// Rejects `request`: replies with a rejection saying `reason`, which the
  /// asker receives as `errc::rejected`.
  void reject(const message& request, const caf::error& reason,
              priority prio = priority::fast);

  /// Hands `msg`, made with `context().make_request` or `make_reply`, to the
  /// sender (the supervisor on another node) with this concern as its owner.
  /// While a batch of incoming messages is handled, what its hooks post goes
  /// to the sender in one batch per priority once the last was handled.
  void post(message msg, priority prio = priority::fast);

  // -- what a concern asks for -------------------------------------------------

  /// Calls `on_tick` every `period` from now on (zero or less: no more).
  void tick_every(duration period);

  /// Calls `on_tick` once, `delay` from now; when several are asked for
  /// before it runs, once at the earliest.
  void tick_after(duration delay);

  /// Calls `on_peers_changed` with every peer of the peer table now (as
  /// `change_kind::added`), then with each change of a peer record.
  void watch_peers();

  /// Calls `on_due(kind, peers)` whenever the peer table's rules make peers
  /// due for that work (see `spawn_peer_table`): greetings for the concern
  /// of `hello`, heart-beats for the concern of `hb`.
  void take_due(due_kind kind);

  /// Logs that the concern dropped `msg`, a message from the network it
  /// cannot use, for `why`, through a `log_limiter` of its own (limits from
  /// the settings): in full at most once per interval per previous hop,
  /// summarised otherwise (see `p2p0mq::log_dropped`). Returns whether the
  /// full line was written.
  bool log_dropped(const log_kind& kind, const message& msg,
                   const caf::error& why);

  /// Calls `on_routes_wanted` for each destination that starts to wait in
  /// the sender for a route; `context().sender` lists them all on
  /// `find_atom`.
  void watch_wanted_routes();

  /// Asks `peer`'s concern of `command` and returns the response handle of
  /// the answer (see `requester_actor`), e.g.
  ///
  /// ~~~
  /// ask(peer, "kv", body, std::chrono::seconds{5})
  ///   .then([=](p2p0mq::message& reply) { ... },
  ///         [=](caf::error& err) { ... });
  /// ~~~
  auto ask(const std::string& peer, const std::string& command, payload body,
           caf::timespan timeout, priority prio = priority::fast) {
    return this->request(ctx_.requester, caf::infinite, request_atom::value,
                         peer, command, std::move(body), timeout, prio);
  }

protected:
  // -- life cycle hooks -------------------------------------------------------

  virtual void on_start();

  virtual void on_tick();

  virtual answer on_request(const message& request);

  virtual void on_reply(const message& reply);

  virtual void on_sent(const message& msg);

  virtual bool on_send_failed(const message& msg, const caf::error& reason);

  virtual void on_dropped(const message& msg, const caf::error& reason);

  virtual void on_peers_changed(const std::vector<peer_change>& changes);

  virtual void on_due(due_kind kind, const std::vector<peer>& peers);

  virtual void on_routes_wanted(const std::vector<wanted_route>& routes);

  virtual concern_counters counters() const;

  virtual void on_stop(const caf::error& reason);

private:
  /// Runs hook `f` named `hook`; on an exception, logs it, rejects
  /// `request` (when given) and quits with `errc::concern_failed`. Returns
  /// whether `f` returned normally.
  template <class F>
  bool guarded(const char* hook, F&& f, const message* request = nullptr);

  void fail(const char* hook, const std::string& what, const message* request);

  void handle_request(const message& request);

  /// Runs the hooks of a batch of incoming messages, then hands over what
  /// they posted.
  void handle_incoming(const std::vector<message>& msgs);

  /// Hands what was posted while a batch was handled to the sender.
  void flush_posted();

  /// Runs `on_tick` if a timer it asked for is due.
  void handle_tick();

  concern_context ctx_;
  /// The period of `tick_every`, and when it is due next.
  duration period_{};
  time_point next_periodic_{};
  /// The earliest time `tick_after` asked for, if any.
  std::optional<time_point> tick_at_;
  /// The log of dropped messages, made on first use, and when its pending
  /// flush timer fires.
  std::unique_ptr<log_limiter> log_;
  std::optional<time_point> log_flush_at_;
  /// Whether a batch of incoming messages is being handled, and what its
  /// hooks posted meanwhile, by priority.
  bool in_batch_ = false;
  std::vector<std::pair<priority, std::vector<message>>> posted_;
  /// Whether a hook threw: the concern quits, the rest of a batch is left.
  bool failed_ = false;
};

/// The handlers of a function-based concern (see `make_concern`); each is
/// optional and means the same as the `concern_base` hook of its name. `self`
/// is the concern: for `reply`, `send_request`, `ask`, `context()` and CAF's
/// own functions (`delayed_send`, ...).
///
/// Each instance of the concern (a restart makes a new one) runs on a copy of
/// the handlers, so what they capture by value starts afresh with it. A
/// concern with an `on_tick` handler ticks every `settings->tick_interval`
/// (it may change that with `self.tick_every`).
struct concern_handlers {
  std::function<void(concern_base& self)> on_start;
  std::function<void(concern_base& self)> on_tick;
  std::function<answer(concern_base& self, const message& request)> on_request;
  std::function<void(concern_base& self, const message& reply)> on_reply;
  std::function<void(concern_base& self, const message& msg)> on_sent;
  std::function<bool(concern_base& self, const message& msg,
                     const caf::error& reason)>
      on_send_failed;
  std::function<void(concern_base& self, const message& msg,
                     const caf::error& reason)>
      on_dropped;
  std::function<void(concern_base& self,
                     const std::vector<peer_change>& changes)>
      on_peers_changed;
  std::function<void(concern_base& self, due_kind kind,
                     const std::vector<peer>& peers)>
      on_due;
  std::function<void(concern_base& self,
                     const std::vector<wanted_route>& routes)>
      on_routes_wanted;
  std::function<void(concern_base& self, const caf::error& reason)> on_stop;
};

/// The function-based form: a factory of concerns running `handlers`.
///
/// ~~~
/// p2p0mq::concern_handlers h;
/// h.on_request = [](p2p0mq::concern_base&, const p2p0mq::message& req)
///     -> p2p0mq::answer { return req.payload; };
/// peer.add_concern("echo2", p2p0mq::make_concern(h));
/// ~~~
concern_factory make_concern(concern_handlers handlers);

/// The simplest concern: each request is answered by `on_request`.
concern_factory
make_concern(std::function<answer(concern_base& self, const message& request)>
                 on_request);

/// The factory of the class-based concern `T` (derived from `concern_base`,
/// with a constructor `T(caf::actor_config&, concern_context, Ts...)`); each
/// instance gets copies of `xs`.
template <class T, class... Ts>
concern_factory concern_class(Ts... xs) {
  static_assert(std::is_base_of_v<concern_base, T>,
                "concern_class<T>: T must derive from p2p0mq::concern_base");
  return
      [xs...](caf::local_actor* parent, concern_context ctx) -> concern_actor {
        return parent->spawn<T>(std::move(ctx), xs...);
      };
}

} // namespace p2p0mq
