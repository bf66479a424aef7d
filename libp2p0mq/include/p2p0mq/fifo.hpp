#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace p2p0mq {

/// A first-in, first-out queue on one vector, for the many small queues of
/// a network of peers: unlike `std::deque`, it allocates nothing while it is
/// empty and has never been used, and it gives its memory back once emptied
/// by `pop_front` or `clear`. `pop_front` is amortised O(1): the consumed
/// front is dropped when it is at least half of the vector.
template <class T>
class fifo {
public:
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  bool empty() const noexcept {
    return head_ == items_.size();
  }

  std::size_t size() const noexcept {
    return items_.size() - head_;
  }

  T& front() noexcept {
    return items_[head_];
  }

  const T& front() const noexcept {
    return items_[head_];
  }

  template <class... Ts>
  T& emplace_back(Ts&&... xs) {
    return items_.emplace_back(std::forward<Ts>(xs)...);
  }

  void push_back(T x) {
    items_.push_back(std::move(x));
  }

  /// Removes the first element. Precondition: not empty.
  void pop_front() {
    items_[head_] = T{};
    if (++head_ == items_.size())
      clear();
    else if (head_ >= 32 && head_ * 2 >= items_.size())
      compact();
  }

  /// Removes every element and frees the memory.
  void clear() noexcept {
    std::vector<T>{}.swap(items_);
    head_ = 0;
  }

  iterator begin() noexcept {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }

  iterator end() noexcept {
    return items_.end();
  }

  const_iterator begin() const noexcept {
    return items_.begin() + static_cast<std::ptrdiff_t>(head_);
  }

  const_iterator end() const noexcept {
    return items_.end();
  }

  /// Removes the elements from `first` to the end.
  void erase_from(iterator first) {
    items_.erase(first, items_.end());
    if (empty())
      clear();
  }

private:
  void compact() {
    items_.erase(items_.begin(),
                 items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }

  std::vector<T> items_;
  std::size_t head_ = 0;
};

} // namespace p2p0mq
