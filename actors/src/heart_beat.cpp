#include "p2p0mq/actors/heart_beat.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>

#include "p2p0mq/actors/concern_base.hpp"
#include "p2p0mq/errc.hpp"
#include "p2p0mq/log.hpp"
#include "p2p0mq/uuid.hpp"

namespace p2p0mq {

namespace {

/// A beat of ours by (peer, message id).
using beat_key = std::pair<std::string, std::uint64_t>;

class heart_beat_concern final : public concern_base {
public:
  using concern_base::concern_base;

  const char* name() const override {
    return "p2p0mq.heart_beat";
  }

protected:
  void on_start() override {
    take_due(due_kind::heart_beat);
    watch_peers();
  }

  void on_peers_changed(const std::vector<peer_change>& changes) override {
    for (auto& x : changes) {
      if (x.what == change_kind::removed)
        known_.erase(x.record.uuid);
      else
        known_.insert(x.record.uuid);
    }
  }

  void on_due(due_kind kind, const std::vector<peer>& peers) override {
    if (kind != due_kind::heart_beat)
      return;
    auto now = clock().now();
    forget_old_beats(now);
    for (auto& p : peers) {
      auto msg =
          context().make_request(p.uuid, heart_beat_command, payload{}, now);
      beats_[beat_key{msg.to, msg.id}] = now;
      post(std::move(msg));
    }
  }

  answer on_request(const message& msg) override {
    // A peer we do not know (never greeted, or evicted) gets no answer: it
    // greets us again once it gives up on us.
    if (known_.count(msg.source) == 0) {
      log(log_level::debug, log_category::heart_beat, "ignored an hb from ",
          short_uuid(msg.source), ", not a known peer");
      return no_reply;
    }
    send(context().peers, heard_atom::value, msg);
    return payload{};
  }

  void on_reply(const message& msg) override {
    auto i = beats_.find(beat_key{msg.source, msg.id});
    auto now = clock().now();
    if (i == beats_.end() ||
        now - i->second >= context().settings->message_ttl) {
      // Not one of ours, or one unanswered for a time-to-live: no round
      // trip to measure.
      if (i != beats_.end())
        beats_.erase(i);
      send(context().peers, heard_atom::value, msg);
      return;
    }
    auto rtt = std::chrono::duration_cast<caf::timespan>(now - i->second);
    beats_.erase(i);
    send(context().peers, heard_atom::value, msg, rtt);
  }

  void on_sent(const message& msg) override {
    // Delivery is known from the reply only; its round trip starts now.
    if (!msg.is_request())
      return;
    auto i = beats_.find(beat_key{msg.to, msg.id});
    if (i != beats_.end())
      i->second = clock().now();
  }

  bool on_send_failed(const message&, const caf::error&) override {
    // No retry: the next beat comes on schedule.
    return false;
  }

  void on_dropped(const message& msg, const caf::error& err) override {
    if (msg.is_request())
      beats_.erase(beat_key{msg.to, msg.id});
    log(log_level::debug, log_category::heart_beat, "hb ", to_string(msg.kind),
        " to ", short_uuid(msg.to), " dropped: ", render(err));
  }

private:
  /// Forgets the beats that went unanswered for a time-to-live.
  void forget_old_beats(time_point now) {
    auto ttl = context().settings->message_ttl;
    for (auto i = beats_.begin(); i != beats_.end();) {
      if (now - i->second >= ttl)
        i = beats_.erase(i);
      else
        ++i;
    }
  }

  /// The peers of the peer table.
  std::unordered_set<std::string> known_;
  /// Our beats waiting for their reply: when each was handed to ZeroMQ, or
  /// to the sender until it says it sent it.
  std::map<beat_key, time_point> beats_;
};

} // namespace

concern_factory heart_beat() {
  return concern_class<heart_beat_concern>();
}

} // namespace p2p0mq
