// korb::internal::LocationCache: where a forwarded object now lives, per
// Client, keyed by the reference a stub was made from. Every stub of the
// Client for that reference (and every copy of it) starts its calls at the
// cached location; a call that finds the cached location dead (transient
// failure) or without the object (object-not-exist) drops the entry and
// starts over at the original reference.
//
// Bounded: beyond `capacity` entries an arbitrary one is evicted (a lost
// entry costs one forward hop on the next call, nothing more).
//
// Thread-safety: thread-safe.
#ifndef KORB_CLIENT_INTERNAL_LOCATION_CACHE_H_
#define KORB_CLIENT_INTERNAL_LOCATION_CACHE_H_

#include <atomic>
#include <cstddef>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "client/internal/target.h"
#include "common/ref.h"
#include "common/sync.h"

namespace korb::internal {

class LocationCache {
 public:
  explicit LocationCache(size_t capacity) : capacity_(capacity) {}

  // True if nothing is cached: lets calls skip the lookup (and the hashing
  // of a reference) in the common case.
  bool empty() const { return size_.load(std::memory_order_acquire) == 0; }

  // The location cached for `original`, or null.
  std::shared_ptr<const Target> Get(const Ref& original) const ABSL_LOCKS_EXCLUDED(mu_);
  // Caches `location` for `original` (replacing any entry). No-op when the
  // capacity is 0.
  void Put(const Ref& original, std::shared_ptr<const Target> location)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the entry for `original` if it still names `location`'s reference
  // (another call may have cached a newer one meanwhile).
  void Drop(const Ref& original, const Ref& location) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t capacity_;
  mutable korb::Mutex mu_;
  absl::flat_hash_map<Ref, std::shared_ptr<const Target>> entries_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> size_{0};  // entries_.size(), readable without mu_
};

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_LOCATION_CACHE_H_
