#include "servants/state_store.h"

#include "absl/strings/str_cat.h"

namespace korb {

absl::Status ValidateStateKey(absl::string_view key) {
  const size_t nul = key.find('\0');
  if (nul == absl::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("state store key has a NUL byte at offset ", nul,
                   " (keys are byte strings without NUL)"));
}

}  // namespace korb
