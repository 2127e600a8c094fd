#include "adapter/testing/fault_injection.h"

#include <utility>

#include "adapter/internal/adapter_impl.h"

namespace korb::testing {

void SetReplyDropper(ObjectAdapter& adapter,
                     std::function<bool(absl::string_view, absl::string_view)> drop) {
  // Every ObjectAdapter is an AdapterImpl: ObjectServer creates them.
  static_cast<internal::AdapterImpl&>(adapter).SetReplyDropper(std::move(drop));
}

}  // namespace korb::testing
