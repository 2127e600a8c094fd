#include "adapter/internal/policy_keyed_threads.h"

#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace korb {
namespace internal {

template <typename Key>
KeyedThreads<Key>::KeyedThreads(absl::string_view what, absl::Duration linger, size_t max_queued,
                                size_t max_threads)
    : what_(what), linger_(linger), max_queued_(max_queued), max_threads_(max_threads) {}

template <typename Key>
KeyedThreads<Key>::~KeyedThreads() {
  Shutdown();
}

template <typename Key>
void KeyedThreads<Key>::Execute(PendingCall* call, KeyRef key) {
  Lane* new_lane = nullptr;
  absl::Status rejection;
  {
    korb::MutexLock lock(&mu_);
    if (stopping_) {
      rejection = ShuttingDownError();
    } else if (queued_ >= max_queued_) {
      rejection = QueueFullError(what_, max_queued_);
    } else {
      auto it = lanes_.find(key);
      if (it == lanes_.end() && AtThreadCapLocked()) {
        rejection = NoThreadError(
            what_, absl::StrCat("all ", max_threads_, " threads are taken by other ",
                                std::is_same_v<Key, std::string> ? "connections" : "objects"));
      } else {
        if (it == lanes_.end()) {
          it = lanes_.emplace(Key(key), std::make_unique<Lane>()).first;
          new_lane = it->second.get();
        }
        it->second->calls.push_back(call);
        ++queued_;
        queued_by_priority_.Add(call->priority());
      }
    }
  }
  if (!rejection.ok()) {
    call->Reject(rejection);
    return;
  }
  if (new_lane != nullptr) StartThread(key, new_lane);
}

template <typename Key>
void KeyedThreads<Key>::Pin(KeyRef key) {
  Lane* new_lane = nullptr;
  {
    korb::MutexLock lock(&mu_);
    if (stopping_) return;
    auto it = lanes_.find(key);
    if (it == lanes_.end()) {
      if (AtThreadCapLocked()) return;  // its first call starts a thread, if one is free
      it = lanes_.emplace(Key(key), std::make_unique<Lane>()).first;
      new_lane = it->second.get();
    }
    it->second->pinned = true;
  }
  if (new_lane != nullptr) StartThread(key, new_lane);
}

template <typename Key>
void KeyedThreads<Key>::Unpin(KeyRef key) {
  korb::MutexLock lock(&mu_);
  auto it = lanes_.find(key);
  if (it != lanes_.end()) it->second->pinned = false;
}

template <typename Key>
void KeyedThreads<Key>::StartThread(KeyRef key, Lane* lane) {
  absl::Status started = threads_.Start([this, key = Key(key), lane] { Loop(key, lane); });
  if (started.ok()) return;
  std::deque<PendingCall*> orphans;
  {
    korb::MutexLock lock(&mu_);
    orphans.swap(lane->calls);
    for (PendingCall* call : orphans) queued_by_priority_.Remove(call->priority());
    queued_ -= orphans.size();
    lanes_.erase(key);
  }
  for (PendingCall* call : orphans) call->Reject(started);
}

template <typename Key>
void KeyedThreads<Key>::Loop(const Key& key, Lane* lane) {
  auto has_calls_or_unpinned = [this, lane]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !lane->calls.empty() || !lane->pinned || stopping_;
  };
  auto has_calls_or_pinned = [this, lane]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !lane->calls.empty() || lane->pinned || stopping_;
  };
  mu_.Lock();
  for (;;) {
    while (lane->calls.empty() && !stopping_) {
      if (lane->pinned) {
        mu_.Await(absl::Condition(&has_calls_or_unpinned));
      } else if (linger_ <= absl::ZeroDuration() ||
                 !mu_.AwaitWithTimeout(absl::Condition(&has_calls_or_pinned), linger_)) {
        break;  // unpinned and idle
      }
    }
    // Shutdown() empties every queue when it sets stopping_.
    if (lane->calls.empty()) break;
    PendingCall* call = lane->calls.front();
    lane->calls.pop_front();
    --queued_;
    queued_by_priority_.Remove(call->priority());
    mu_.Unlock();
    call->Run();
    mu_.Lock();
  }
  lanes_.erase(key);
  mu_.Unlock();
}

template <typename Key>
void KeyedThreads<Key>::Shutdown() {
  threads_.CheckNotOwnThread(what_);
  std::vector<PendingCall*> rejected;
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [key, lane] : lanes_) {
      rejected.insert(rejected.end(), lane->calls.begin(), lane->calls.end());
      lane->calls.clear();
    }
    queued_ = 0;
    queued_by_priority_.Clear();
  }
  const absl::Status status = ShuttingDownError();
  for (PendingCall* call : rejected) call->Reject(status);
  {
    korb::MutexLock lock(&mu_);
    auto no_lanes = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return lanes_.empty(); };
    mu_.Await(absl::Condition(&no_lanes));
  }
  threads_.JoinAll();
}

template <typename Key>
PolicyStats KeyedThreads<Key>::Stats() const {
  PolicyStats stats;
  korb::MutexLock lock(&mu_);
  stats.threads = static_cast<int>(lanes_.size());
  stats.queued = queued_;
  stats.queued_by_priority = queued_by_priority_.ToVector();
  return stats;
}

template class KeyedThreads<const void*>;
template class KeyedThreads<std::string>;

}  // namespace internal
}  // namespace korb
