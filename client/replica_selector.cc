#include "client/replica_selector.h"

#include <limits>

#include "absl/random/random.h"
#include "client/retry.h"

namespace korb::internal {
namespace {

// A uniformly chosen element of `from` (not empty).
size_t AnyOf(const std::vector<size_t>& from) {
  return from[absl::Uniform<size_t>(RandomGenerator(), 0, from.size())];
}

// Among `up`, the one with the lowest `cost`; ties broken at random.
template <typename Cost>
size_t Cheapest(const std::vector<size_t>& up, Cost cost) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<size_t> ties;
  for (size_t i : up) {
    const double c = cost(i);
    if (c < best) {
      best = c;
      ties.assign(1, i);
    } else if (c == best) {
      ties.push_back(i);
    }
  }
  return ties.empty() ? AnyOf(up) : AnyOf(ties);
}

}  // namespace

size_t SelectReplica(SelectionPolicy policy, absl::Span<EndpointHealth* const> health,
                     const std::vector<bool>& tried, std::atomic<uint32_t>& cursor,
                     absl::Time now) {
  const size_t n = health.size();
  if (n <= 1) return 0;
  bool all_tried = tried.size() == n;
  for (size_t i = 0; all_tried && i < n; ++i) all_tried = tried[i];

  std::vector<EndpointHealth::Score> scores(n);
  std::vector<bool> is_up(n, false);
  std::vector<size_t> up;
  size_t soonest = n;
  for (size_t i = 0; i < n; ++i) {
    if (!all_tried && i < tried.size() && tried[i]) continue;
    scores[i] = health[i]->Snapshot(now);
    if (scores[i].available) {
      is_up[i] = true;
      up.push_back(i);
    } else if (soonest == n || scores[i].available_at < scores[soonest].available_at) {
      soonest = i;
    }
  }
  if (up.empty()) return soonest;
  if (up.size() == 1) {
    if (policy == SelectionPolicy::kRoundRobin) cursor.fetch_add(1, std::memory_order_relaxed);
    return up.front();
  }

  switch (policy) {
    case SelectionPolicy::kOrderedFailover:
      return up.front();
    case SelectionPolicy::kRoundRobin: {
      const size_t start = cursor.fetch_add(1, std::memory_order_relaxed) % n;
      for (size_t k = 0; k < n; ++k) {
        const size_t i = (start + k) % n;
        if (is_up[i]) return i;
      }
      return up.front();
    }
    case SelectionPolicy::kRandom:
      return AnyOf(up);
    case SelectionPolicy::kLeastLoaded:
      return Cheapest(up, [&scores](size_t i) {
        return scores[i].load.value_or(0.0) + scores[i].in_flight;
      });
    case SelectionPolicy::kLatencyAware: {
      const size_t a = absl::Uniform<size_t>(RandomGenerator(), 0, up.size());
      size_t b = absl::Uniform<size_t>(RandomGenerator(), 0, up.size() - 1);
      if (b >= a) ++b;
      auto cost = [&scores](size_t i) {
        const EndpointHealth::Score& s = scores[i];
        if (!s.latency_us.has_value()) {
          return s.in_flight == 0 ? 0.0 : std::numeric_limits<double>::max();
        }
        return *s.latency_us * (s.in_flight + 1);
      };
      return cost(up[b]) < cost(up[a]) ? up[b] : up[a];
    }
  }
  return up.front();
}

}  // namespace korb::internal
