#include "adapter/threading_policy.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "adapter/shared_pool_policy.h"

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

}  // namespace

absl::StatusOr<std::unique_ptr<ThreadingPolicy>> MakeThreadingPolicy(
    const ThreadingOptions& options) {
  switch (options.kind) {
    case ThreadingOptions::Kind::kInline:
      return std::make_unique<InlinePolicy>();
    case ThreadingOptions::Kind::kSharedPool: {
      if (options.pool_threads < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("pool_threads must be >= 0, got ", options.pool_threads));
      }
      if (options.max_queued_calls == 0) {
        return absl::InvalidArgumentError("max_queued_calls must be > 0");
      }
      int threads = options.pool_threads;
      if (threads == 0) {
        threads = std::max(4, static_cast<int>(std::thread::hardware_concurrency()));
      }
      return std::make_unique<SharedPoolPolicy>(threads, options.max_queued_calls);
    }
    case ThreadingOptions::Kind::kThreadPerObject:
    case ThreadingOptions::Kind::kThreadPerRequest:
    case ThreadingOptions::Kind::kThreadPerConnection:
      return absl::UnimplementedError("threading policy not implemented yet");
  }
  return absl::InvalidArgumentError("unknown threading policy kind");
}

}  // namespace korb
