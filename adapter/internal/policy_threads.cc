#include "adapter/internal/policy_threads.h"

#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

#include "adapter/internal/policy_queue.h"
#include "common/log.h"

namespace korb {
namespace internal {
namespace {

// The set whose thread this is, while its body runs.
thread_local const PolicyThreads* current_set = nullptr;

}  // namespace

PolicyThreads::~PolicyThreads() { JoinAll(); }

absl::Status PolicyThreads::Start(absl::AnyInvocable<void() &&> body) {
  // Registering under mu_ makes Retire() (which takes mu_) find the handle.
  korb::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  try {
    running_.emplace(id, std::thread([this, id, body = std::move(body)]() mutable {
                       current_set = this;
                       std::move(body)();
                       current_set = nullptr;
                       Retire(id);
                     }));
  } catch (const std::system_error& e) {
    return NoThreadError("threading policy", e.what());
  }
  return absl::OkStatus();
}

void PolicyThreads::Retire(uint64_t id) {
  std::vector<std::thread> earlier;
  {
    korb::MutexLock lock(&mu_);
    earlier.swap(exited_);
    auto it = running_.find(id);
    // Absent if JoinAll() took the handle already; it joins this thread.
    if (it != running_.end()) {
      exited_.push_back(std::move(it->second));
      running_.erase(it);
    }
  }
  // Whoever joins this thread (a later Retire() or JoinAll()) thereby waits
  // for these joins too, so no thread outlives JoinAll().
  for (std::thread& thread : earlier) thread.join();
}

void PolicyThreads::JoinAll() {
  for (;;) {
    std::vector<std::thread> threads;
    {
      korb::MutexLock lock(&mu_);
      threads.swap(exited_);
      for (auto& [id, thread] : running_) threads.push_back(std::move(thread));
      running_.clear();
    }
    if (threads.empty()) return;
    for (std::thread& thread : threads) thread.join();
  }
}

bool PolicyThreads::OnOwnThread() const { return current_set == this; }

void PolicyThreads::CheckNotOwnThread(absl::string_view policy) const {
  if (!OnOwnThread()) return;
  KORB_LOG(kError, "adapter") << policy
                              << " threading policy: Shutdown() called from one of the policy's "
                                 "own threads (e.g. by a servant); it would wait for itself forever";
  std::abort();
}

}  // namespace internal
}  // namespace korb
