// The pieces of Korb's retry policy (RetryPolicy in client/policy.h) that do
// not depend on the transport: which failures are transient, the jittered
// exponential backoff between attempts, and request ids.
//
// Which calls are retried (docs/client.md, "Retries"):
//   - failures: UNAVAILABLE (with or without korb-error: transient), and
//     RESOURCE_EXHAUSTED with korb-error: transient. A CANCELLED the caller
//     did not cause (no token cancelled, deadline not passed: the server or
//     the connection dropped the call) is turned into UNAVAILABLE first.
//     Nothing else: not DEADLINE_EXCEEDED (the deadline bounds the whole
//     call), not the caller's CANCELLED, not an oversized message's plain
//     RESOURCE_EXHAUSTED, not the servant's own errors.
//   - operations: readonly and idempotent ones always; others when they
//     carry a korb-request-id (RetryPolicy::retry_non_idempotent, default on).
//
// Thread-safety: IsTransientFailure and NewRequestId are thread-safe;
// Backoff is not thread-safe (one per call).
//
// Usage:
//   internal::Backoff backoff(policy);
//   absl::Duration wait = backoff.Next();   // before the 2nd attempt
#ifndef KORB_CLIENT_RETRY_H_
#define KORB_CLIENT_RETRY_H_

#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/policy.h"

namespace korb::internal {

// True for the failures Korb retries and counts against an endpoint.
bool IsTransientFailure(const absl::Status& status);

// The waits between attempts of one call: the n-th call to Next() returns
// the n-th wait of `policy` (see RetryPolicy and Jitter).
class Backoff {
 public:
  explicit Backoff(const RetryPolicy& policy) : policy_(policy) {}
  absl::Duration Next();

 private:
  const RetryPolicy policy_;
  int waits_ = 0;
  absl::Duration previous_ = absl::ZeroDuration();
};

// A fresh korb-request-id: 128 random bits as 32 lower-case hex digits.
std::string NewRequestId();

// This thread's random bit generator (selection, jitter, request ids).
absl::BitGen& RandomGenerator();

// `status` with " (<note>)" appended to its message, payloads (korb-error)
// kept. OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view note);

}  // namespace korb::internal

#endif  // KORB_CLIENT_RETRY_H_
