// korb::MemoryStateStore: a StateStore in a hash map, for tests and for
// servants whose state need not outlive the process. "Durable" means only
// that a saved state is visible to every later call on this store.
//
// Thread-safety: thread-safe; one mutex guards the map, readers share it.
//
// Usage:
//   korb::MemoryStateStore store;
//   ASSERT_THAT(store.Save("alice", "100"), IsOk());
//   EXPECT_EQ(*store.Load("alice"), "100");
#ifndef KORB_SERVANTS_MEMORY_STATE_STORE_H_
#define KORB_SERVANTS_MEMORY_STATE_STORE_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/sync.h"
#include "servants/state_store.h"

namespace korb {

class MemoryStateStore final : public StateStore {
 public:
  MemoryStateStore() = default;
  MemoryStateStore(const MemoryStateStore&) = delete;
  MemoryStateStore& operator=(const MemoryStateStore&) = delete;

  absl::StatusOr<std::string> Load(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<bool> Contains(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Save(absl::string_view key, absl::string_view state) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // Atomic because the whole batch is applied under one lock, after every key
  // has been validated.
  absl::Status SaveAll(absl::Span<const std::pair<std::string, std::string>> entries) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Erase(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<size_t> Size() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Mutex mu_;
  absl::flat_hash_map<std::string, std::string> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace korb

#endif  // KORB_SERVANTS_MEMORY_STATE_STORE_H_
