// The benchmarks' latency percentile: the value at rank floor(q·n) of n
// sorted samples (the largest for q = 1), 0 for no samples.
//
// Thread-safety: a pure function.
#ifndef KORB_BENCH_PERCENTILE_H_
#define KORB_BENCH_PERCENTILE_H_

#include <algorithm>
#include <cstddef>
#include <vector>

namespace korb::bench {

inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
}

}  // namespace korb::bench

#endif  // KORB_BENCH_PERCENTILE_H_
