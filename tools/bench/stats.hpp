#pragma once

// Order statistics of the benchmark's samples.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace p2p0mq::bench {

/// The sample at fraction `p` (0 to 1) of the sorted samples, rounding the
/// index down; 0 without samples.
inline double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(xs.size() - 1));
  return xs[i];
}

/// The middle sample (the upper one of an even count); 0 without samples.
inline double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace p2p0mq::bench
