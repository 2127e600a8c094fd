#include "adapter/shared_pool_policy.h"

#include "absl/strings/str_cat.h"
#include "common/wire.h"

namespace korb {

SharedPoolPolicy::SharedPoolPolicy(int threads, size_t max_queued)
    : max_queued_(max_queued) {
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

SharedPoolPolicy::~SharedPoolPolicy() { Shutdown(); }

void SharedPoolPolicy::Execute(PendingCall* call) {
  absl::Status rejection;
  {
    korb::MutexLock lock(&mu_);
    if (stopping_) {
      rejection = WithErrorKind(absl::UnavailableError("object adapter is shutting down"),
                                ErrorKind::kTransient);
    } else if (queued_ >= max_queued_) {
      rejection = WithErrorKind(
          absl::ResourceExhaustedError(absl::StrCat(
              "shared pool queue is full (", max_queued_, " calls waiting)")),
          ErrorKind::kTransient);
    } else {
      lanes_[call->priority()].push_back(call);
      ++queued_;
      return;
    }
  }
  call->Reject(rejection);
}

bool SharedPoolPolicy::HasWorkOrStopping() const { return queued_ > 0 || stopping_; }

void SharedPoolPolicy::WorkerLoop() {
  for (;;) {
    PendingCall* call;
    {
      korb::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &SharedPoolPolicy::HasWorkOrStopping));
      if (queued_ == 0) return;  // stopping and drained
      auto lane = lanes_.begin();
      call = lane->second.front();
      lane->second.pop_front();
      if (lane->second.empty()) lanes_.erase(lane);
      --queued_;
    }
    call->Run();
  }
}

void SharedPoolPolicy::Shutdown() {
  std::vector<PendingCall*> rejected;
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [priority, lane] : lanes_) {
      rejected.insert(rejected.end(), lane.begin(), lane.end());
    }
    lanes_.clear();
    queued_ = 0;
  }
  const absl::Status status = WithErrorKind(
      absl::UnavailableError("object adapter is shutting down"), ErrorKind::kTransient);
  for (PendingCall* call : rejected) call->Reject(status);
  korb::MutexLock lock(&join_mu_);
  if (joined_) return;
  for (std::thread& worker : workers_) worker.join();
  joined_ = true;
}

PolicyStats SharedPoolPolicy::Stats() const {
  PolicyStats stats;
  stats.threads = static_cast<int>(workers_.size());
  korb::MutexLock lock(&mu_);
  stats.queued = queued_;
  for (const auto& [priority, lane] : lanes_) {
    stats.queued_by_priority.emplace_back(priority, lane.size());
  }
  return stats;
}

size_t SharedPoolPolicy::queued() const {
  korb::MutexLock lock(&mu_);
  return queued_;
}

}  // namespace korb
