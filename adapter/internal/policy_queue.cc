#include "adapter/internal/policy_queue.h"

#include "absl/strings/str_cat.h"
#include "common/wire.h"

namespace korb {
namespace internal {

void PriorityCounts::Remove(int32_t priority) {
  auto it = counts_.find(priority);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

std::vector<std::pair<int32_t, size_t>> PriorityCounts::ToVector() const {
  return {counts_.begin(), counts_.end()};
}

void PriorityCallQueue::Push(PendingCall* call) {
  lanes_[call->priority()].push_back(call);
  ++size_;
}

PendingCall* PriorityCallQueue::Pop() {
  auto lane = lanes_.begin();
  PendingCall* call = lane->second.front();
  lane->second.pop_front();
  if (lane->second.empty()) lanes_.erase(lane);
  --size_;
  return call;
}

std::vector<PendingCall*> PriorityCallQueue::TakeAll() {
  std::vector<PendingCall*> calls;
  calls.reserve(size_);
  for (auto& [priority, lane] : lanes_) calls.insert(calls.end(), lane.begin(), lane.end());
  lanes_.clear();
  size_ = 0;
  return calls;
}

void PriorityCallQueue::CountInto(PriorityCounts* counts) const {
  for (const auto& [priority, lane] : lanes_) counts->Add(priority, lane.size());
}

std::vector<std::pair<int32_t, size_t>> PriorityCallQueue::ByPriority() const {
  std::vector<std::pair<int32_t, size_t>> result;
  result.reserve(lanes_.size());
  for (const auto& [priority, lane] : lanes_) result.emplace_back(priority, lane.size());
  return result;
}

absl::Status ShuttingDownError() {
  return WithErrorKind(absl::UnavailableError("object adapter is shutting down"),
                       ErrorKind::kTransient);
}

absl::Status QueueFullError(absl::string_view what, size_t max_queued) {
  return WithErrorKind(absl::ResourceExhaustedError(
                           absl::StrCat(what, " queue is full (", max_queued, " calls waiting)")),
                       ErrorKind::kTransient);
}

absl::Status NoThreadError(absl::string_view what, absl::string_view reason) {
  return WithErrorKind(
      absl::ResourceExhaustedError(absl::StrCat(what, " cannot start a thread: ", reason)),
      ErrorKind::kTransient);
}

}  // namespace internal
}  // namespace korb
