// What ServerFixture (over gRPC) and InMemoryFixture (in memory) share: an
// echo request with a text, and waiting for an adapter's queued calls.
//
// Thread-safety: thread-safe functions.
#ifndef KORB_TESTS_TESTING_FIXTURE_HELPERS_H_
#define KORB_TESTS_TESTING_FIXTURE_HELPERS_H_

#include <cstddef>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/object_adapter.h"
#include "korbtest/testing.pb.h"

namespace korb::testing {

inline korbtest::EchoRequest EchoText(const std::string& text) {
  korbtest::EchoRequest request;
  request.set_text(text);
  return request;
}

// Waits until `adapter`'s policies hold `n` queued calls; false after 30 s.
inline bool AwaitQueuedCalls(const ObjectAdapter& adapter, size_t n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (adapter.Metrics().policy.queued != n) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_FIXTURE_HELPERS_H_
