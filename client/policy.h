// The client's transparency policies as plain values: how a call picks one
// replica of an object (SelectionPolicy), how it is retried (RetryPolicy),
// and how an actively replicated object is called (Replication, Completion).
// ClientOptions holds the client-wide defaults, a stub can override them
// (StubBase::korb_set_selection, korb_set_replication) and a call can
// override the stub (CallOptions). docs/client.md describes each in full.
//
// Thread-safety: thread-compatible value types.
//
// Usage:
//   korb::ClientOptions options;
//   options.selection = korb::SelectionPolicy::kRoundRobin;
//   options.retry.max_attempts = 5;
//   korb::Client client(options);
//   bank::AccountStub account(client, ref);
//   account.korb_set_replication(korb::Replication::kActive, korb::Completion::kMajority);
#ifndef KORB_CLIENT_POLICY_H_
#define KORB_CLIENT_POLICY_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace korb {

// Which endpoint of a reference a call (or a retry) goes to. Endpoints whose
// failure backoff has not ended are skipped whatever the policy, unless all
// are in backoff: then the one whose backoff ends first is tried.
enum class SelectionPolicy {
  kOrderedFailover,  // the first endpoint in reference order that is up
  kRoundRobin,       // the endpoints in turn (per stub and its copies)
  kRandom,           // uniformly at random
  kLeastLoaded,      // lowest smoothed korb-load plus this client's calls in flight
  kLatencyAware,     // power of two random choices on smoothed latency
};

// How a retry waits before going back to an endpoint this call already tried.
enum class Jitter {
  kNone,          // exactly the capped exponential backoff
  kFull,          // uniform in [0, capped exponential backoff]
  kDecorrelated,  // uniform in [initial, 3 × previous wait], capped
};

// Retries of transient failures (UNAVAILABLE; RESOURCE_EXHAUSTED with
// korb-error: transient). readonly and idempotent operations are always
// retryable; others only with a korb-request-id (see retry_non_idempotent).
// Every attempt shares the call's one deadline; no wait goes past it.
struct RetryPolicy {
  // Attempts per call, the first included; 1 disables retries.
  int max_attempts = 4;
  // The n-th wait (n ≥ 1) is capped at
  //   min(max_backoff, initial_backoff × multiplier^(n-1))
  // and jittered as `jitter` says.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  double multiplier = 2.0;
  Jitter jitter = Jitter::kFull;
  // Retry operations that are neither readonly nor idempotent too. Such calls
  // carry a korb-request-id, so a Korb server answers a retry of a request it
  // already executed from its reply cache instead of running it again. Turn
  // off when calling servers that do not deduplicate (plain gRPC servers).
  bool retry_non_idempotent = true;
  // Each attempt gets at most this long, within the call's deadline. An
  // attempt that runs out is a transient failure of its endpoint: the
  // endpoint goes into failback backoff and the call is retried elsewhere
  // (if it is retryable and has attempts left). This is what leaves a
  // replica that hangs without closing its connections; the server sees the
  // shorter deadline. Infinite (or not positive): an attempt may use the
  // call's whole deadline.
  absl::Duration attempt_timeout = absl::InfiniteDuration();
};

// How a stub calls an object with several endpoints.
enum class Replication {
  kNone,    // one endpoint per call, chosen by the SelectionPolicy
  kActive,  // every endpoint is a live replica: writes go to all of them
};

// Under Replication::kActive, when a write (a non-readonly call) completes.
enum class Completion {
  kFirst,     // on the first successful reply
  kMajority,  // when a strict majority of replicas gave the same reply
  kAll,       // when every replica has answered, and all answers agree
};

// Names for messages and logs: "ordered-failover", "round-robin", ...
absl::string_view SelectionPolicyName(SelectionPolicy policy);
absl::string_view CompletionName(Completion completion);

}  // namespace korb

#endif  // KORB_CLIENT_POLICY_H_
