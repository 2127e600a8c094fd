#include "client/policy.h"

namespace korb {

absl::string_view SelectionPolicyName(SelectionPolicy policy) {
  switch (policy) {
    case SelectionPolicy::kOrderedFailover:
      return "ordered-failover";
    case SelectionPolicy::kRoundRobin:
      return "round-robin";
    case SelectionPolicy::kRandom:
      return "random";
    case SelectionPolicy::kLeastLoaded:
      return "least-loaded";
    case SelectionPolicy::kLatencyAware:
      return "latency-aware";
  }
  return "unknown";
}

absl::string_view CompletionName(Completion completion) {
  switch (completion) {
    case Completion::kFirst:
      return "first";
    case Completion::kMajority:
      return "majority";
    case Completion::kAll:
      return "all";
  }
  return "unknown";
}

}  // namespace korb
