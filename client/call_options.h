// korb::CallOptions: per-call settings a caller passes to any stub operation.
//
// Thread-safety: thread-compatible value type.
//
// Usage:
//   korb::CallOptions opts;
//   opts.timeout = absl::Seconds(2);
//   opts.priority = 10;
//   opts.metadata.emplace_back("x-user", "alice");
//   auto balance = account.GetBalance(korb::Empty(), opts);
#ifndef KORB_CLIENT_CALL_OPTIONS_H_
#define KORB_CLIENT_CALL_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace korb {

// Cancels calls it has been attached to. Thread-safe: Cancel() may be called
// from any thread, any number of times, before, during or after the calls.
class CancellationToken {
 public:
  CancellationToken();
  void Cancel();
  bool cancelled() const;

  // Internal: the shared state that in-flight calls observe.
  struct State;
  const std::shared_ptr<State>& state() const { return state_; }

 private:
  std::shared_ptr<State> state_;
};

struct CallOptions {
  // Relative timeout; unset means the client's default (ClientOptions).
  std::optional<absl::Duration> timeout;
  // Absolute deadline; wins over `timeout` when both are set.
  std::optional<absl::Time> deadline;
  // Scheduling priority (korb-priority); unset means the method's default.
  std::optional<int32_t> priority;
  // Extra request metadata; keys must be lower case and not start with "korb-".
  std::vector<std::pair<std::string, std::string>> metadata;
  // Cancels the call when triggered (optional).
  const CancellationToken* cancellation = nullptr;
};

}  // namespace korb

#endif  // KORB_CLIENT_CALL_OPTIONS_H_
