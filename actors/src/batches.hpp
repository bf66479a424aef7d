#pragma once

// Messages gathered by key (a concern, an owner, a priority) while a batch is
// worked through, each key's share to go on in one actor message.

#include <algorithm>
#include <utility>
#include <vector>

#include "p2p0mq/message.hpp"

namespace p2p0mq::detail {

/// Shares of a batch by key, in the order the keys first came.
template <class Key>
using shares = std::vector<std::pair<Key, std::vector<message>>>;

/// The share of `key` in `xs`, made empty at the end when it has none. A
/// batch has few keys: a scan finds it.
template <class Key>
std::vector<message>& share_of(shares<Key>& xs, const Key& key) {
  auto i = std::find_if(xs.begin(), xs.end(),
                        [&](const auto& x) { return x.first == key; });
  if (i == xs.end())
    i = xs.emplace(xs.end(), key, std::vector<message>{});
  return i->second;
}

} // namespace p2p0mq::detail
