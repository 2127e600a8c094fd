// korb::CallOptions: per-call settings a caller passes to any stub operation.
// Unset fields fall back to the stub's settings, then to the Client's
// (ClientOptions).
//
// Thread-safety: thread-compatible value type. Every field has a default, so
// designated initializers work: stub.Get(req, {.timeout = absl::Seconds(2)}).
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
#include "client/policy.h"

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
  std::optional<absl::Duration> timeout{};
  // Absolute deadline; wins over `timeout` when both are set.
  std::optional<absl::Time> deadline{};
  // Scheduling priority (korb-priority); unset means the method's default.
  std::optional<int32_t> priority{};
  // Extra request metadata; keys must be lower case and not start with "korb-".
  std::vector<std::pair<std::string, std::string>> metadata{};
  // Cancels the call when triggered (optional). Also ends a retry's wait.
  const CancellationToken* cancellation = nullptr;

  // Endpoint selection for this call; unset: the stub's policy
  // (StubBase::korb_set_selection), else ClientOptions::selection.
  std::optional<SelectionPolicy> selection{};
  // Attempts for this call, the first included (1 disables retries); unset:
  // ClientOptions::retry.max_attempts. Forward hops are not attempts.
  std::optional<int> max_attempts{};
  // The call's korb-request-id: at most 64 printable ASCII bytes (0x21-0x7E),
  // else the call fails with INVALID_ARGUMENT. Unset: the runtime makes one
  // (128 random bits in hex) when the operation is neither readonly nor
  // idempotent and the call may be retried. Reuse one value to retry a
  // logical call across stub calls: a Korb server answers a request id it
  // has already executed from its reply cache.
  std::optional<std::string> request_id{};
  // Whether the call may go straight to an ObjectServer of this process
  // instead of over gRPC; unset: ClientOptions::collocated_calls.
  std::optional<bool> collocated{};
};

}  // namespace korb

#endif  // KORB_CLIENT_CALL_OPTIONS_H_
