// The seam between the object adapter and its threads: a ThreadingPolicy
// decides on which thread, and when, each call's servant operation runs.
//
// The adapter hands every routed call to its policy as a PendingCall. The
// policy must eventually call exactly one of Run() (execute the operation and
// send its reply) or Reject() (reply with an error without running it, e.g.
// queue full or shutting down), on any thread it likes. Policies identify
// objects by PendingCall::object() so they can serialize per object or give
// an object its own thread, and learn of activation and deactivation through
// the On*() hooks.
//
// Implemented now: inline (the servant runs on the gRPC callback thread: the
// seeds' event-driven model, only for servants that never block) and a shared
// pool of N workers over priority lanes. Thread-per-object,
// thread-per-request and thread-per-connection fit the same interface.
//
// Thread-safety: implementations are thread-safe; Execute() is called
// concurrently from gRPC threads and must not block.
//
// Usage:
//   korb::AdapterOptions options;
//   options.threading = korb::ThreadingOptions::SharedPool(8);
//   ASSIGN_OR_RETURN(korb::ObjectAdapter* adapter,
//                    server->CreateAdapter("bank", options));
#ifndef KORB_ADAPTER_THREADING_POLICY_H_
#define KORB_ADAPTER_THREADING_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace korb {

// One routed call waiting for a thread. Owned by the runtime; valid until
// Run() or Reject() has been called on it (after which it may be deleted).
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  // Executes the servant operation and replies. Call at most once.
  virtual void Run() = 0;
  // Replies with `status` without running the operation. Call at most once,
  // and only instead of Run().
  virtual void Reject(const absl::Status& status) = 0;

  // Scheduling priority: higher runs first.
  virtual int32_t priority() const = 0;
  // Identity of the target object (stable while the object is active), for
  // policies that serialize or thread per object.
  virtual const void* object() const = 0;
};

class ThreadingPolicy {
 public:
  virtual ~ThreadingPolicy() = default;

  // "inline", "pool", ...
  virtual absl::string_view name() const = 0;
  // Schedules `call`; never blocks. After Shutdown() began, rejects it with
  // UNAVAILABLE.
  virtual void Execute(PendingCall* call) = 0;
  // Object lifecycle notifications; called outside the adapter's locks.
  virtual void OnObjectActivated(const void* object) {}
  virtual void OnObjectDeactivated(const void* object) {}
  // Stops accepting calls, rejects queued ones with UNAVAILABLE, and waits
  // for running ones to return. Idempotent; safe to call concurrently.
  virtual void Shutdown() = 0;
  // Threads the policy owns right now (0 for inline).
  virtual int threads() const = 0;
};

// Selects and configures a built-in policy.
struct ThreadingOptions {
  enum class Kind {
    kInline,      // servant runs on the gRPC callback thread; never block in it
    kSharedPool,  // fixed pool of workers over priority lanes
  };
  Kind kind = Kind::kSharedPool;
  // Workers of the shared pool; 0 means max(4, hardware threads). A pool of
  // one thread is the seeds' iterative server.
  int pool_threads = 0;
  // Calls queued beyond this many are rejected with RESOURCE_EXHAUSTED
  // (korb-error: transient).
  size_t max_queued_calls = 10000;

  static ThreadingOptions Inline() { return {.kind = Kind::kInline}; }
  static ThreadingOptions SharedPool(int threads) {
    return {.kind = Kind::kSharedPool, .pool_threads = threads};
  }
};

// Creates the policy `options` describes; INVALID_ARGUMENT for bad values.
absl::StatusOr<std::unique_ptr<ThreadingPolicy>> MakeThreadingPolicy(
    const ThreadingOptions& options);

}  // namespace korb

#endif  // KORB_ADAPTER_THREADING_POLICY_H_
