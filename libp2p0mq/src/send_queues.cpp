#include "p2p0mq/send_queues.hpp"

#include <utility>

namespace p2p0mq {

namespace {

/// The destination a medium message is queued under: its final destination,
/// or the next hop when the final destination is left empty.
const std::string& destination_of(const message& msg) noexcept {
  return msg.to.empty() ? msg.next_hop : msg.to;
}

/// Moves every expired message of `xs` to `out`, keeping the order of the
/// others. Returns how many were moved.
std::size_t sweep(fifo<queued_message>& xs, time_point now,
                  std::vector<queued_message>& out) {
  auto kept = xs.begin();
  for (auto i = xs.begin(); i != xs.end(); ++i) {
    if (i->msg.expired(now)) {
      out.push_back(std::move(*i));
    } else {
      if (kept != i)
        *kept = std::move(*i);
      ++kept;
    }
  }
  auto removed = static_cast<std::size_t>(xs.end() - kept);
  xs.erase_from(kept);
  return removed;
}

/// Pops expired messages off the front of `xs` into `out`, then pops the
/// first live one into `to_send`, if any. Returns how many left `xs`.
std::size_t take_one(fifo<queued_message>& xs, time_point now,
                     send_queues::round& out) {
  std::size_t removed = 0;
  while (!xs.empty()) {
    auto& front = xs.front();
    auto live = !front.msg.expired(now);
    (live ? out.to_send : out.expired).push_back(std::move(front));
    xs.pop_front();
    ++removed;
    if (live)
      break;
  }
  return removed;
}

/// Visits each destination of `medium` once, in service order, letting `take`
/// remove messages from its queue (it returns how many); destinations left
/// empty are forgotten, the others go to the back of the line. Returns how
/// many messages were removed in all.
template <class Map, class Take>
std::size_t serve_medium(Map& medium, fifo<std::string>& order, Take take) {
  std::size_t removed = 0;
  for (auto n = order.size(); n > 0; --n) {
    auto key = std::move(order.front());
    order.pop_front();
    auto i = medium.find(key);
    removed += take(i->second);
    if (i->second.empty())
      medium.erase(i);
    else
      order.push_back(std::move(key));
  }
  return removed;
}

} // namespace

std::string_view to_string(priority x) noexcept {
  // No default: -Wswitch flags a priority added to the enum but not named.
  switch (x) {
  case priority::fast:
    return "fast";
  case priority::medium:
    return "medium";
  case priority::slow:
    return "slow";
  }
  return "<unknown priority>";
}

bool send_queues::push(message&& msg, priority p, std::uint64_t tag) {
  if (limit_ != 0 && size_ >= limit_)
    return false;
  switch (p) {
  case priority::fast:
    fast_.push_back(queued_message{std::move(msg), tag});
    break;
  case priority::medium: {
    auto& xs = medium_[destination_of(msg)];
    if (xs.empty())
      medium_order_.push_back(destination_of(msg));
    xs.push_back(queued_message{std::move(msg), tag});
    ++medium_size_;
    break;
  }
  case priority::slow:
    slow_.push_back(queued_message{std::move(msg), tag});
    break;
  }
  ++size_;
  return true;
}

void send_queues::next_round(time_point now, round& out) {
  // Fast: everything.
  for (auto& x : fast_)
    (x.msg.expired(now) ? out.expired : out.to_send).push_back(std::move(x));
  size_ -= fast_.size();
  fast_.clear();
  // Medium: one live message per destination, in service order; served
  // destinations that still hold messages go to the back of the line.
  auto removed = serve_medium(medium_, medium_order_,
                              [&](auto& xs) { return take_one(xs, now, out); });
  size_ -= removed;
  medium_size_ -= removed;
  // Slow: one live message.
  size_ -= take_one(slow_, now, out);
}

void send_queues::take_expired(time_point now,
                               std::vector<queued_message>& out) {
  size_ -= sweep(fast_, now, out);
  auto removed = serve_medium(medium_, medium_order_,
                              [&](auto& xs) { return sweep(xs, now, out); });
  size_ -= removed;
  medium_size_ -= removed;
  size_ -= sweep(slow_, now, out);
}

std::size_t send_queues::size(priority p) const noexcept {
  switch (p) {
  case priority::fast:
    return fast_.size();
  case priority::medium:
    return medium_size_;
  case priority::slow:
    return slow_.size();
  }
  return 0;
}

} // namespace p2p0mq
