#include "client/internal/collocation.h"
#include "client/internal/cancellation.h"

#include "absl/time/clock.h"

namespace korb {

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

void CancellationToken::Cancel() {
  std::vector<std::shared_ptr<internal::CollocatedCall>> local;
  {
    korb::MutexLock lock(&state_->mu);
    state_->cancelled = true;
    for (grpc::ClientContext* call : state_->calls) call->TryCancel();
    for (const auto& [timers, id] : state_->waits) timers->FireNow(id);
    for (const auto& [key, call] : state_->local_calls) local.push_back(call);
  }
  // gRPC's words for a call its client cancelled.
  for (const auto& call : local) AbandonCollocated(*call, absl::CancelledError("Cancelled"));
}

bool CancellationToken::cancelled() const {
  korb::MutexLock lock(&state_->mu);
  return state_->cancelled;
}

namespace internal {

bool AttachAttempt(CancellationToken::State* state, grpc::ClientContext* context) {
  if (state == nullptr) return true;
  korb::MutexLock lock(&state->mu);
  if (state->cancelled) return false;
  state->calls.insert(context);
  return true;
}

void DetachAttempt(CancellationToken::State* state, grpc::ClientContext* context) {
  if (state == nullptr) return;
  korb::MutexLock lock(&state->mu);
  state->calls.erase(context);
}

bool AttachAttempt(CancellationToken::State* state,
                   const std::shared_ptr<CollocatedCall>& call) {
  if (state == nullptr) return true;
  korb::MutexLock lock(&state->mu);
  if (state->cancelled) return false;
  state->local_calls.emplace(call.get(), call);
  return true;
}

void DetachAttempt(CancellationToken::State* state, const CollocatedCall* call) {
  if (state == nullptr) return;
  korb::MutexLock lock(&state->mu);
  state->local_calls.erase(call);
}

void AttachWait(CancellationToken::State* state, TimerQueue* timers, uint64_t id) {
  if (state == nullptr) return;
  korb::MutexLock lock(&state->mu);
  if (state->cancelled) {
    timers->FireNow(id);
    return;
  }
  state->waits.emplace(timers, id);
}

void DetachWait(CancellationToken::State* state, TimerQueue* timers, uint64_t id) {
  if (state == nullptr) return;
  korb::MutexLock lock(&state->mu);
  state->waits.erase(std::make_pair(timers, id));
}

void SleepUnlessCancelled(CancellationToken::State* state, absl::Duration duration) {
  if (duration <= absl::ZeroDuration()) return;
  if (state == nullptr) {
    absl::SleepFor(duration);
    return;
  }
  korb::MutexLock lock(&state->mu);
  state->mu.AwaitWithTimeout(absl::Condition(&state->cancelled), duration);
}

}  // namespace internal
}  // namespace korb
