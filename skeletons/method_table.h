// The static description of an interface that the IDL compiler emits for every
// service: its name and a table of its operations with their IDL semantics.
//
// Thread-safety: immutable after static initialization; thread-safe.
//
// Usage (generated code):
//   static constexpr korb::MethodInfo kMethods[] = {
//       {"Deposit", "/bank.Account/Deposit", {.idempotent = false}},
//       {"GetBalance", "/bank.Account/GetBalance", {.readonly = true}}};
//   static constexpr korb::InterfaceInfo kInterface{"bank.Account", kMethods};
#ifndef KORB_SKELETONS_METHOD_TABLE_H_
#define KORB_SKELETONS_METHOD_TABLE_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/types/span.h"

namespace korb {

// Mirror of the IDL's korb.MethodAnnotation (idl/korb/options.proto).
struct MethodSemantics {
  bool readonly = false;    // no state change; implies idempotent
  bool idempotent = false;  // safe to re-execute
  bool oneway = false;      // no reply awaited (reply type is korb.Empty)
  int32_t priority = 0;     // default priority; higher runs first

  constexpr bool retry_safe() const { return readonly || idempotent; }
};

struct MethodInfo {
  absl::string_view name;  // "Deposit"
  absl::string_view path;  // "/bank.Account/Deposit", the gRPC method path
  MethodSemantics semantics;
};

struct InterfaceInfo {
  absl::string_view name;  // fully qualified service name, "bank.Account"
  absl::Span<const MethodInfo> methods;

  // Index of the method whose gRPC path is `path`, or -1. Linear: interfaces
  // are small and this beats hashing for a handful of short strings.
  int FindMethodByPath(absl::string_view path) const {
    for (size_t i = 0; i < methods.size(); ++i) {
      if (methods[i].path == path) return static_cast<int>(i);
    }
    return -1;
  }
};

// The service part of a method path ("pkg.Service" of "/pkg.Service/Method"),
// or empty if the path is malformed.
inline absl::string_view ServiceOfMethodPath(absl::string_view path) {
  if (path.size() < 4 || path[0] != '/') return {};
  size_t slash = path.find('/', 1);
  if (slash == absl::string_view::npos || slash == 1 || slash + 1 == path.size()) return {};
  return path.substr(1, slash - 1);
}

}  // namespace korb

#endif  // KORB_SKELETONS_METHOD_TABLE_H_
