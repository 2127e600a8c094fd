// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr, which
// this Abseil release does not provide.
//
// Thread-safety: macros only; no state.
//
// Usage:
//   absl::StatusOr<int> Parse(absl::string_view s);
//   absl::Status Run() {
//     ASSIGN_OR_RETURN(int n, Parse("42"));
//     RETURN_IF_ERROR(Use(n));
//     return absl::OkStatus();
//   }
#ifndef KORB_COMMON_STATUS_MACROS_H_
#define KORB_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KORB_STATUS_CONCAT_INNER_(a, b) a##b
#define KORB_STATUS_CONCAT_(a, b) KORB_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define RETURN_IF_ERROR(expr)                                        \
  do {                                                               \
    ::absl::Status korb_status_ = (expr);                            \
    if (!korb_status_.ok()) return korb_status_;                     \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`, `std::string s`) or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                        \
  KORB_ASSIGN_OR_RETURN_IMPL_(KORB_STATUS_CONCAT_(korb_statusor_, __LINE__), \
                              lhs, rexpr)

#define KORB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // KORB_COMMON_STATUS_MACROS_H_
