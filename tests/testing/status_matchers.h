// GoogleTest matchers for absl::Status and absl::StatusOr, which this Abseil
// release lacks: IsOk(), StatusIs(code), StatusIs(code, message_matcher).
//
// Thread-safety: stateless; thread-safe.
//
// Usage:
//   EXPECT_THAT(ref.status(), IsOk());
//   EXPECT_THAT(Ref::Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                         HasSubstr("scheme")));
#ifndef KORB_TESTS_TESTING_STATUS_MATCHERS_H_
#define KORB_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace korb::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code,
          "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code) +
               " and a matching message") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher,
                                       std::string(status.message()),
                                       result_listener);
}

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_STATUS_MATCHERS_H_
