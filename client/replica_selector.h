// Replica selection: which endpoint of a reference the next attempt of a call
// goes to, under a SelectionPolicy (client/policy.h), given what the Client
// knows of each endpoint (EndpointHealth).
//
// The rule, in order:
//   1. Candidates are the endpoints this call has not tried yet; once it has
//      tried them all, all of them again.
//   2. Of those, the available ones (not in failure backoff, no probe in
//      flight). If none is, the candidate whose backoff ends first is chosen:
//      a call is never refused for want of a healthy endpoint.
//   3. The policy picks among the available ones:
//      kOrderedFailover  the first in reference order;
//      kRoundRobin       the next one after a rotating cursor (per target);
//      kRandom           uniformly;
//      kLeastLoaded      lowest (smoothed korb-load + this Client's attempts
//                        in flight), an unknown load counting 0; ties at random;
//      kLatencyAware     two distinct ones at random, the one with the lower
//                        smoothed latency × (in flight + 1) (an endpoint with
//                        no fresh latency costs 0 when idle, so it is probed,
//                        and loses while its first answer is pending).
//
// Thread-safety: thread-safe (the cursor is atomic; health records lock).
//
// Usage (runtime side):
//   size_t i = internal::SelectReplica(SelectionPolicy::kRoundRobin, health, tried,
//                                      target.cursor, absl::Now());
#ifndef KORB_CLIENT_REPLICA_SELECTOR_H_
#define KORB_CLIENT_REPLICA_SELECTOR_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/endpoint_health.h"
#include "client/policy.h"

namespace korb::internal {

// Returns the index (into `health`, one record per endpoint in reference
// order, at least one) of the endpoint the next attempt goes to. `tried` is
// empty or has one flag per endpoint. `cursor` is the round-robin position
// of the reference, advanced by kRoundRobin.
size_t SelectReplica(SelectionPolicy policy, absl::Span<EndpointHealth* const> health,
                     const std::vector<bool>& tried, std::atomic<uint32_t>& cursor,
                     absl::Time now);

}  // namespace korb::internal

#endif  // KORB_CLIENT_REPLICA_SELECTOR_H_
