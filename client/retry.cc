#include "client/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/wire.h"

namespace korb::internal {

bool IsTransientFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return ErrorKindOf(status) == ErrorKind::kTransient;
    default:
      return false;
  }
}

absl::Duration Backoff::Next() {
  ++waits_;
  const absl::Duration initial = std::max(policy_.initial_backoff, absl::ZeroDuration());
  const absl::Duration cap = std::max(policy_.max_backoff, initial);
  absl::Duration wait;
  switch (policy_.jitter) {
    case Jitter::kNone:
    case Jitter::kFull: {
      const double steps = std::min(waits_ - 1, 62);
      const double multiplier = std::max(policy_.multiplier, 1.0);
      // Computed in seconds as a double so large exponents saturate instead
      // of overflowing.
      const double seconds = std::min(absl::ToDoubleSeconds(initial) * std::pow(multiplier, steps),
                                      absl::ToDoubleSeconds(cap));
      wait = absl::Seconds(seconds);
      if (policy_.jitter == Jitter::kFull) {
        wait = absl::Seconds(absl::Uniform(absl::IntervalClosed, RandomGenerator(), 0.0, seconds));
      }
      break;
    }
    case Jitter::kDecorrelated: {
      const double low = absl::ToDoubleSeconds(initial);
      const double high = std::max(low, 3 * absl::ToDoubleSeconds(previous_ == absl::ZeroDuration()
                                                                       ? initial
                                                                       : previous_));
      wait = std::min(cap, absl::Seconds(absl::Uniform(absl::IntervalClosed, RandomGenerator(),
                                                       low, high)));
      break;
    }
  }
  previous_ = wait;
  return wait;
}

std::string NewRequestId() {
  absl::BitGen& gen = RandomGenerator();
  const uint64_t high = absl::Uniform<uint64_t>(gen);
  const uint64_t low = absl::Uniform<uint64_t>(gen);
  return absl::StrCat(absl::Hex(high, absl::kZeroPad16), absl::Hex(low, absl::kZeroPad16));
}

absl::BitGen& RandomGenerator() {
  thread_local absl::BitGen gen;
  return gen;
}

absl::Status Annotate(const absl::Status& status, absl::string_view note) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(status.message(), " (", note, ")"));
  status.ForEachPayload([&annotated](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

}  // namespace korb::internal
