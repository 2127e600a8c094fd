#include "client/internal/location_cache.h"

#include <utility>

namespace korb::internal {

std::shared_ptr<const Target> LocationCache::Get(const Ref& original) const {
  korb::MutexLock lock(&mu_);
  auto it = entries_.find(original);
  return it == entries_.end() ? nullptr : it->second;
}

void LocationCache::Put(const Ref& original, std::shared_ptr<const Target> location) {
  if (capacity_ == 0) return;
  korb::MutexLock lock(&mu_);
  auto it = entries_.find(original);
  if (it != entries_.end()) {
    it->second = std::move(location);
    return;
  }
  if (entries_.size() >= capacity_) entries_.erase(entries_.begin());
  entries_.emplace(original, std::move(location));
  size_.store(entries_.size(), std::memory_order_release);
}

void LocationCache::Drop(const Ref& original, const Ref& location) {
  korb::MutexLock lock(&mu_);
  auto it = entries_.find(original);
  if (it == entries_.end() || it->second->ref != location) return;
  entries_.erase(it);
  size_.store(entries_.size(), std::memory_order_release);
}

}  // namespace korb::internal
