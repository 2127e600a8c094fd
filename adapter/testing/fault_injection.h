// Fault injection for tests: hooks into an object adapter that the product
// API does not offer. Link them only into tests and test servers (they live
// in the korb library, but nothing but tests includes this header).
//
// SetReplyDropper: when `drop` returns true for a call's object id and
// method path after its operation ran, the caller gets UNAVAILABLE instead
// of the reply (as if the connection had dropped), while a korb-request-id
// reply cache still keeps the real reply. Null removes it.
//
// Thread-safety: thread-safe; `drop` is called on the threads that answer
// calls, concurrently.
//
// Usage:
//   korb::testing::SetReplyDropper(*adapter,
//       [](absl::string_view id, absl::string_view method) { return id == "a1"; });
#ifndef KORB_ADAPTER_TESTING_FAULT_INJECTION_H_
#define KORB_ADAPTER_TESTING_FAULT_INJECTION_H_

#include <functional>

#include "absl/strings/string_view.h"
#include "adapter/object_adapter.h"

namespace korb::testing {

void SetReplyDropper(
    ObjectAdapter& adapter,
    std::function<bool(absl::string_view id, absl::string_view method_path)> drop);

}  // namespace korb::testing

#endif  // KORB_ADAPTER_TESTING_FAULT_INJECTION_H_
