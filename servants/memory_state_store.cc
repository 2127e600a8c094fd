#include "servants/memory_state_store.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace korb {

absl::StatusOr<std::string> MemoryStateStore::Load(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  ReaderMutexLock lock(&mu_);
  auto it = states_.find(key);
  if (it == states_.end()) {
    return absl::NotFoundError(absl::StrCat("no state saved for key \"", absl::CEscape(key), "\""));
  }
  return it->second;
}

absl::StatusOr<bool> MemoryStateStore::Contains(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  ReaderMutexLock lock(&mu_);
  return states_.contains(key);
}

absl::Status MemoryStateStore::Save(absl::string_view key, absl::string_view state) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  std::string copy(state);  // Copied outside the lock.
  MutexLock lock(&mu_);
  states_.insert_or_assign(std::string(key), std::move(copy));
  return absl::OkStatus();
}

absl::Status MemoryStateStore::SaveAll(
    absl::Span<const std::pair<std::string, std::string>> entries) {
  for (const auto& [key, state] : entries) RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  for (const auto& [key, state] : entries) states_.insert_or_assign(key, state);
  return absl::OkStatus();
}

absl::Status MemoryStateStore::Erase(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  states_.erase(key);
  return absl::OkStatus();
}

absl::StatusOr<size_t> MemoryStateStore::Size() {
  ReaderMutexLock lock(&mu_);
  return states_.size();
}

}  // namespace korb
