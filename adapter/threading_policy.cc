#include "adapter/threading_policy.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "adapter/shared_pool_policy.h"
#include "adapter/thread_per_connection_policy.h"
#include "adapter/thread_per_object_policy.h"
#include "adapter/thread_per_request_policy.h"

namespace korb {
namespace {

// The event-driven model: the operation runs on the gRPC callback thread that
// received the request. Cheapest possible dispatch; a blocking servant stalls
// gRPC's own threads.
class InlinePolicy final : public ThreadingPolicy {
 public:
  absl::string_view name() const override { return "inline"; }
  void Execute(PendingCall* call) override { call->Run(); }
  void Shutdown() override {}
  PolicyStats Stats() const override { return {}; }
};

absl::Status CheckMaxQueued(const ThreadingOptions& options) {
  if (options.max_queued_calls == 0) {
    return absl::InvalidArgumentError("ThreadingOptions.max_queued_calls must be > 0");
  }
  return absl::OkStatus();
}

absl::Status CheckIdleTimeout(const ThreadingOptions& options) {
  if (options.idle_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ThreadingOptions.idle_timeout must be >= 0, got ",
                     absl::FormatDuration(options.idle_timeout)));
  }
  return absl::OkStatus();
}

absl::Status CheckMaxThreads(const ThreadingOptions& options) {
  if (options.max_threads >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "ThreadingOptions.max_threads must be >= 0 (0: no cap), got ", options.max_threads));
}

absl::Status Validate(const ThreadingOptions& options) {
  switch (options.kind) {
    case ThreadingOptions::Kind::kInline:
      return absl::OkStatus();
    case ThreadingOptions::Kind::kSharedPool:
      if (options.pool_threads < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ThreadingOptions.pool_threads must be >= 0 (0: max(4, hardware threads)), got ",
            options.pool_threads));
      }
      if (options.max_pool_threads < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("ThreadingOptions.max_pool_threads must be >= 0 (0: a fixed pool), got ",
                         options.max_pool_threads));
      }
      if (absl::Status s = CheckIdleTimeout(options); !s.ok()) return s;
      return CheckMaxQueued(options);
    case ThreadingOptions::Kind::kThreadPerObject:
      if (absl::Status s = CheckMaxThreads(options); !s.ok()) return s;
      return CheckMaxQueued(options);
    case ThreadingOptions::Kind::kThreadPerRequest:
      if (absl::Status s = CheckMaxThreads(options); !s.ok()) return s;
      if (absl::Status s = CheckIdleTimeout(options); !s.ok()) return s;
      // The queue exists only under a cap.
      return options.max_threads > 0 ? CheckMaxQueued(options) : absl::OkStatus();
    case ThreadingOptions::Kind::kThreadPerConnection:
      if (absl::Status s = CheckMaxThreads(options); !s.ok()) return s;
      if (absl::Status s = CheckIdleTimeout(options); !s.ok()) return s;
      return CheckMaxQueued(options);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ThreadingOptions.kind ", static_cast<int>(options.kind)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ThreadingPolicy>> MakeThreadingPolicy(
    const ThreadingOptions& options) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  switch (options.kind) {
    case ThreadingOptions::Kind::kInline:
      return std::make_unique<InlinePolicy>();
    case ThreadingOptions::Kind::kSharedPool:
      return std::make_unique<SharedPoolPolicy>(options);
    case ThreadingOptions::Kind::kThreadPerObject:
      return std::make_unique<ThreadPerObjectPolicy>(options.max_queued_calls,
                                                     static_cast<size_t>(options.max_threads));
    case ThreadingOptions::Kind::kThreadPerRequest:
      return std::make_unique<ThreadPerRequestPolicy>(options.max_threads, options.idle_timeout,
                                                      options.max_queued_calls);
    case ThreadingOptions::Kind::kThreadPerConnection:
      return std::make_unique<ThreadPerConnectionPolicy>(
          options.idle_timeout, options.max_queued_calls, static_cast<size_t>(options.max_threads));
  }
  return absl::InvalidArgumentError("unknown ThreadingOptions.kind");
}

}  // namespace korb
