#include "adapter/thread_per_request_policy.h"

#include <algorithm>


namespace korb {

ThreadPerRequestPolicy::ThreadPerRequestPolicy(int max_threads, absl::Duration idle_timeout,
                                               size_t max_queued)
    : max_threads_(max_threads), idle_timeout_(idle_timeout), max_queued_(max_queued) {}

ThreadPerRequestPolicy::~ThreadPerRequestPolicy() { Shutdown(); }

void ThreadPerRequestPolicy::Execute(PendingCall* call) {
  absl::Status rejection;
  {
    korb::MutexLock lock(&mu_);
    if (stopping_) {
      rejection = internal::ShuttingDownError();
    } else if (max_threads_ > 0 && running_ >= max_threads_) {
      if (queue_.size() >= max_queued_) {
        rejection = internal::QueueFullError("thread-per-request", max_queued_);
      } else {
        queue_.Push(call);
        return;
      }
    } else {
      ++running_;
      if (!idle_.empty()) {
        idle_.back()->call = call;
        idle_.pop_back();
        return;
      }
      ++threads_;
    }
  }
  if (!rejection.ok()) {
    call->Reject(rejection);
    return;
  }
  absl::Status started = thread_set_.Start([this, call] { ThreadLoop(call); });
  if (started.ok()) return;
  {
    korb::MutexLock lock(&mu_);
    --threads_;
    --running_;
    // Calls queued meanwhile (running_ was at the cap) are taken by the
    // running threads as they finish.
  }
  call->Reject(started);
}

void ThreadPerRequestPolicy::ThreadLoop(PendingCall* call) {
  Worker self;
  auto has_call_or_stopping = [this, &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return self.call != nullptr || stopping_;
  };
  mu_.Lock();
  for (;;) {
    mu_.Unlock();
    call->Run();
    mu_.Lock();
    if (!queue_.empty()) {  // at the cap: this thread's slot passes on
      call = queue_.Pop();
      continue;
    }
    --running_;
    if (stopping_) break;
    idle_.push_back(&self);
    mu_.AwaitWithTimeout(absl::Condition(&has_call_or_stopping), idle_timeout_);
    if (self.call != nullptr) {  // Execute() popped us from idle_
      call = self.call;
      self.call = nullptr;
      continue;
    }
    idle_.erase(std::find(idle_.begin(), idle_.end(), &self));
    break;
  }
  --threads_;
  mu_.Unlock();
}

void ThreadPerRequestPolicy::Shutdown() {
  thread_set_.CheckNotOwnThread("thread-per-request");
  std::vector<PendingCall*> rejected;
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
    rejected = queue_.TakeAll();
  }
  const absl::Status status = internal::ShuttingDownError();
  for (PendingCall* call : rejected) call->Reject(status);
  {
    korb::MutexLock lock(&mu_);
    auto no_threads = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return threads_ == 0; };
    mu_.Await(absl::Condition(&no_threads));
  }
  thread_set_.JoinAll();
}

PolicyStats ThreadPerRequestPolicy::Stats() const {
  PolicyStats stats;
  korb::MutexLock lock(&mu_);
  stats.threads = threads_;
  stats.queued = queue_.size();
  stats.queued_by_priority = queue_.ByPriority();
  return stats;
}

int ThreadPerRequestPolicy::idle_threads() const {
  korb::MutexLock lock(&mu_);
  return static_cast<int>(idle_.size());
}

}  // namespace korb
