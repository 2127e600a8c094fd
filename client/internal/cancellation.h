// The shared state behind korb::CancellationToken, and how a call's attempts
// and retry waits attach to it: Cancel() cancels every attached attempt
// (ClientContext::TryCancel, or CollocatedCall::Abandon for a collocated
// one) and cuts every attached retry wait short, so a cancelled call ends
// promptly with CANCELLED whatever it was doing.
//
// Thread-safety: thread-safe. Lock order: a token's mutex before a
// TimerQueue's.
#ifndef KORB_CLIENT_INTERNAL_CANCELLATION_H_
#define KORB_CLIENT_INTERNAL_CANCELLATION_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <grpcpp/client_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "adapter/internal/collocated.h"
#include "client/call_options.h"
#include "client/internal/timer_queue.h"
#include "common/sync.h"

namespace korb {

struct CancellationToken::State {
  korb::Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  // Attempts in flight.
  absl::flat_hash_set<grpc::ClientContext*> calls ABSL_GUARDED_BY(mu);
  // Collocated attempts in flight, abandoned by Cancel() once mu is released
  // (their end runs the call on, which may attach to this token again).
  absl::flat_hash_map<const internal::CollocatedCall*, std::shared_ptr<internal::CollocatedCall>>
      local_calls ABSL_GUARDED_BY(mu);
  // Asynchronous retry waits: timers to fire at once on Cancel().
  absl::flat_hash_set<std::pair<internal::TimerQueue*, uint64_t>> waits ABSL_GUARDED_BY(mu);
};

namespace internal {

// Attaches an attempt's `context` to `state` (null: no token). False, and
// nothing attached, if the token is already cancelled.
bool AttachAttempt(CancellationToken::State* state, grpc::ClientContext* context);
void DetachAttempt(CancellationToken::State* state, grpc::ClientContext* context);
// The same for a collocated attempt.
bool AttachAttempt(CancellationToken::State* state,
                   const std::shared_ptr<CollocatedCall>& call);
void DetachAttempt(CancellationToken::State* state, const CollocatedCall* call);

// Attaches the retry wait `id` of `timers`; if the token is already
// cancelled the wait ends at once. Detach when the wait's callback runs.
void AttachWait(CancellationToken::State* state, TimerQueue* timers, uint64_t id);
void DetachWait(CancellationToken::State* state, TimerQueue* timers, uint64_t id);

// Blocks for `duration`, or less if the token is cancelled meanwhile.
void SleepUnlessCancelled(CancellationToken::State* state, absl::Duration duration);

}  // namespace internal
}  // namespace korb

#endif  // KORB_CLIENT_INTERNAL_CANCELLATION_H_
