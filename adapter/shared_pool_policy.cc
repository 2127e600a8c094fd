#include "adapter/shared_pool_policy.h"

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>


namespace korb {
namespace {

int ResolvePoolThreads(int pool_threads) {
  if (pool_threads > 0) return pool_threads;
  return std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

SharedPoolPolicy::SharedPoolPolicy(const ThreadingOptions& options)
    : core_threads_(ResolvePoolThreads(options.pool_threads)),
      max_threads_(std::max(core_threads_, options.max_pool_threads)),
      serialize_per_object_(options.serialize_per_object),
      idle_timeout_(options.idle_timeout),
      max_queued_(options.max_queued_calls) {
  {
    korb::MutexLock lock(&mu_);
    threads_ = core_threads_;
  }
  for (int i = 0; i < core_threads_; ++i) StartWorker();
}

SharedPoolPolicy::SharedPoolPolicy(int threads, size_t max_queued)
    : SharedPoolPolicy(ThreadingOptions{.kind = ThreadingOptions::Kind::kSharedPool,
                                        .pool_threads = threads,
                                        .max_queued_calls = max_queued}) {}

SharedPoolPolicy::~SharedPoolPolicy() { Shutdown(); }

void SharedPoolPolicy::Execute(PendingCall* call) {
  absl::Status rejection;
  bool grow = false;
  {
    korb::MutexLock lock(&mu_);
    if (stopping_) {
      rejection = internal::ShuttingDownError();
    } else if (lanes_.size() + parked_count_ >= max_queued_) {
      rejection = internal::QueueFullError("shared pool", max_queued_);
    } else {
      if (serialize_per_object_) {
        auto [it, idle_object] = parked_.try_emplace(call->object());
        if (!idle_object) {  // one of its calls is ahead: wait behind it
          it->second.push_back(call);
          ++parked_count_;
          parked_by_priority_.Add(call->priority());
          return;
        }
      }
      lanes_.Push(call);
      // Each worker not running a call takes one; grow for the calls beyond.
      if (threads_ < max_threads_ && lanes_.size() > static_cast<size_t>(threads_ - busy_)) {
        ++threads_;
        grow = true;
      }
    }
  }
  if (!rejection.ok()) {
    call->Reject(rejection);
    return;
  }
  if (grow) StartWorker();
}

void SharedPoolPolicy::StartWorker() {
  if (workers_.Start([this] { WorkerLoop(); }).ok()) return;
  korb::MutexLock lock(&mu_);
  --threads_;
}

void SharedPoolPolicy::WorkerLoop() {
  auto has_work_or_stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !lanes_.empty() || stopping_;
  };
  const absl::Condition has_work(&has_work_or_stopping);
  mu_.Lock();
  for (;;) {
    if (lanes_.empty() && !stopping_) {
      bool woken = true;
      if (threads_ > core_threads_) {
        woken = mu_.AwaitWithTimeout(has_work, idle_timeout_);
      } else {
        mu_.Await(has_work);
      }
      // Idle for idle_timeout while the pool is above its core size: shrink.
      // (Which workers are extra does not matter; the count does.)
      if (!woken && threads_ > core_threads_) break;
      continue;
    }
    if (lanes_.empty()) break;  // stopping; Shutdown() emptied the lanes
    PendingCall* call = lanes_.Pop();
    const void* object = call->object();
    ++busy_;
    mu_.Unlock();
    call->Run();
    mu_.Lock();
    --busy_;
    if (serialize_per_object_) {
      // The object's turn passes to its oldest parked call, if any. (Absent
      // if Shutdown() dropped the parked calls meanwhile.)
      auto it = parked_.find(object);
      if (it != parked_.end()) {
        if (it->second.empty()) {
          parked_.erase(it);
        } else {
          PendingCall* next = it->second.front();
          it->second.pop_front();
          --parked_count_;
          parked_by_priority_.Remove(next->priority());
          lanes_.Push(next);
        }
      }
    }
  }
  --threads_;
  mu_.Unlock();
}

void SharedPoolPolicy::Shutdown() {
  workers_.CheckNotOwnThread("shared pool");
  std::vector<PendingCall*> rejected;
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
    rejected = lanes_.TakeAll();
    for (auto& [object, calls] : parked_)
      rejected.insert(rejected.end(), calls.begin(), calls.end());
    parked_.clear();
    parked_count_ = 0;
    parked_by_priority_.Clear();
  }
  const absl::Status status = internal::ShuttingDownError();
  for (PendingCall* call : rejected) call->Reject(status);
  {
    korb::MutexLock lock(&mu_);
    auto no_workers = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return threads_ == 0; };
    mu_.Await(absl::Condition(&no_workers));
  }
  workers_.JoinAll();
}

PolicyStats SharedPoolPolicy::Stats() const {
  PolicyStats stats;
  korb::MutexLock lock(&mu_);
  stats.threads = threads_;
  stats.queued = lanes_.size() + parked_count_;
  if (parked_count_ == 0) {
    stats.queued_by_priority = lanes_.ByPriority();
  } else {
    internal::PriorityCounts counts = parked_by_priority_;
    lanes_.CountInto(&counts);
    stats.queued_by_priority = counts.ToVector();
  }
  return stats;
}

size_t SharedPoolPolicy::queued() const {
  korb::MutexLock lock(&mu_);
  return lanes_.size() + parked_count_;
}

}  // namespace korb
