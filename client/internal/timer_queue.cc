#include "client/internal/timer_queue.h"

#include <utility>

#include "absl/time/clock.h"

namespace korb::internal {

TimerQueue::~TimerQueue() {
  std::thread thread;
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

uint64_t TimerQueue::Reserve() {
  korb::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  reserved_.emplace(id, false);
  return id;
}

void TimerQueue::Schedule(uint64_t id, absl::Time when, std::function<void()> callback) {
  korb::MutexLock lock(&mu_);
  auto reserved = reserved_.find(id);
  if (reserved != reserved_.end()) {
    if (reserved->second) when = absl::InfinitePast();  // FireNow() came first
    reserved_.erase(reserved);
  }
  if (pending_.empty() || Key(when, id) < pending_.begin()->first) changed_ = true;
  pending_.emplace(Key(when, id), std::move(callback));
  when_.emplace(id, when);
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void TimerQueue::FireNow(uint64_t id) {
  korb::MutexLock lock(&mu_);
  if (auto reserved = reserved_.find(id); reserved != reserved_.end()) {
    reserved->second = true;
    return;
  }
  auto it = when_.find(id);
  if (it == when_.end()) return;
  auto node = pending_.extract(Key(it->second, id));
  const absl::Time now = absl::InfinitePast();  // sorts before every real time
  node.key() = Key(now, id);
  pending_.insert(std::move(node));
  it->second = now;
  changed_ = true;
}

void TimerQueue::Cancel(uint64_t id) {
  std::function<void()> dropped;
  {
    korb::MutexLock lock(&mu_);
    if (reserved_.erase(id) > 0) return;
    auto it = when_.find(id);
    if (it == when_.end()) return;
    auto node = pending_.extract(Key(it->second, id));
    dropped = std::move(node.mapped());
    when_.erase(it);
    // An earliest entry gone only makes the thread wake early for nothing.
  }
}

bool TimerQueue::ShouldWake() const {
  return stopping_ || changed_;
}

void TimerQueue::Run() {
  mu_.Lock();
  while (!stopping_) {
    changed_ = false;
    if (pending_.empty()) {
      mu_.Await(absl::Condition(this, &TimerQueue::ShouldWake));
      continue;
    }
    auto first = pending_.begin();
    if (first->first.first > absl::Now()) {
      mu_.AwaitWithDeadline(absl::Condition(this, &TimerQueue::ShouldWake), first->first.first);
      continue;
    }
    std::function<void()> callback = std::move(first->second);
    when_.erase(first->first.second);
    pending_.erase(first);
    mu_.Unlock();
    // Run and destroy the callback (and what it captured) with no lock held.
    callback();
    callback = nullptr;
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace korb::internal
