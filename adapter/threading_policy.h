// The seam between the object adapter and its threads: a ThreadingPolicy
// decides on which thread, and when, each call's servant operation runs.
//
// The adapter hands every routed call to a policy as a PendingCall. The
// policy must eventually call exactly one of Run() (execute the operation and
// send its reply) or Reject() (reply with an error without running it, e.g.
// queue full or shutting down), on any thread it likes. Policies identify
// objects by PendingCall::object() so they can serialize per object or give
// an object its own thread, and learn of activation and deactivation through
// the On*() hooks; they identify client connections by
// PendingCall::connection().
//
// Built-in policies (ThreadingOptions::Kind), after the seeds' server
// architectures:
//   inline                 the gRPC callback thread runs the servant (event-driven;
//                          only for servants that never block)
//   shared pool            N workers over priority lanes; optionally growing to a
//                          maximum while calls wait, and optionally serialized per
//                          object
//   thread-per-object      each active object owns a thread and a FIFO queue
//   thread-per-request     each call runs on a thread of its own (idle threads are
//                          cached for reuse); optional cap, then a bounded queue
//   thread-per-connection  calls from one client connection run one at a time on
//                          that connection's thread
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
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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
  // Identity of the client connection the call arrived on (gRPC's peer
  // address, e.g. "ipv4:127.0.0.1:53412"); valid until Run()/Reject().
  virtual absl::string_view connection() const = 0;
};

// What a policy reports for the adapter's metrics.
struct PolicyStats {
  // Threads the policy owns right now (0 for inline).
  int threads = 0;
  // Calls waiting for a thread, in all lanes and queues.
  size_t queued = 0;
  // Waiting calls per priority lane, highest priority first; lanes without
  // waiting calls may be omitted.
  std::vector<std::pair<int32_t, size_t>> queued_by_priority;
};

class ThreadingPolicy {
 public:
  virtual ~ThreadingPolicy() = default;

  // "inline", "pool", ...
  virtual absl::string_view name() const = 0;
  // Schedules `call`; never blocks. After Shutdown() began, rejects it with
  // UNAVAILABLE (korb-error: transient).
  virtual void Execute(PendingCall* call) = 0;
  // Object lifecycle notifications, called outside the adapter's locks and
  // never concurrently for one object. After OnObjectDeactivated() the policy
  // still runs calls for the object that it already holds or that arrive
  // later (they were bound before the deactivation): no call is lost.
  virtual void OnObjectActivated(const void* object) {}
  virtual void OnObjectDeactivated(const void* object) {}
  // Stops accepting calls, rejects queued ones with UNAVAILABLE (transient),
  // and waits for running ones to return. Idempotent; safe to call
  // concurrently; must not be called from one of the policy's own threads.
  virtual void Shutdown() = 0;
  // A snapshot for metrics.
  virtual PolicyStats Stats() const = 0;
};

// Selects and configures a built-in policy. Fields a kind does not use are
// ignored.
struct ThreadingOptions {
  static constexpr int kDefaultMaxThreads = 1000;

  enum class Kind {
    kInline,               // servant runs on the gRPC callback thread; never block in it
    kSharedPool,           // workers over priority lanes (optionally growing, serialized)
    kThreadPerObject,      // a thread and FIFO queue per active object
    kThreadPerRequest,     // a (cached) thread per call, optional cap
    kThreadPerConnection,  // a thread and FIFO queue per client connection
  };
  Kind kind = Kind::kSharedPool;

  // Shared pool: workers; 0 means max(4, hardware threads). A pool of one
  // thread is the seeds' iterative server.
  int pool_threads = 0;
  // Shared pool: grow up to this many workers while every worker is busy and
  // calls wait (e.g. servants blocked on nested calls); 0 or <= pool_threads
  // means a fixed pool. Workers beyond pool_threads exit after `idle_timeout`
  // without work.
  int max_pool_threads = 0;
  // Shared pool: run calls to one object one at a time in arrival order
  // (thread-per-object semantics without a thread per object).
  bool serialize_per_object = false;

  // Thread-per-request: at most this many calls run at once; beyond it calls
  // queue (by priority) up to max_queued_calls. Thread-per-object and
  // thread-per-connection: at most this many objects / connections have a
  // thread; a call for another one is rejected RESOURCE_EXHAUSTED (transient)
  // until one ends. 0: no cap (a hostile client could then make the server
  // start a thread per call, object or connection).
  int max_threads = kDefaultMaxThreads;

  // Idle threads (grown pool workers, cached request threads, connection
  // threads) exit after this long without work.
  absl::Duration idle_timeout = absl::Seconds(10);

  // Calls queued beyond this many (per policy) are rejected with
  // RESOURCE_EXHAUSTED (korb-error: transient).
  size_t max_queued_calls = 10000;

  static ThreadingOptions Inline() { return {.kind = Kind::kInline}; }
  static ThreadingOptions SharedPool(int threads) {
    return {.kind = Kind::kSharedPool, .pool_threads = threads};
  }
  static ThreadingOptions GrowingPool(int threads, int max_threads) {
    return {.kind = Kind::kSharedPool, .pool_threads = threads, .max_pool_threads = max_threads};
  }
  static ThreadingOptions SerializedPool(int threads) {
    return {.kind = Kind::kSharedPool, .pool_threads = threads, .serialize_per_object = true};
  }
  static ThreadingOptions ThreadPerObject() { return {.kind = Kind::kThreadPerObject}; }
  static ThreadingOptions ThreadPerRequest(int max_threads = kDefaultMaxThreads) {
    return {.kind = Kind::kThreadPerRequest, .max_threads = max_threads};
  }
  static ThreadingOptions ThreadPerConnection() { return {.kind = Kind::kThreadPerConnection}; }

  friend bool operator==(const ThreadingOptions&, const ThreadingOptions&) = default;
};

// Creates the policy `options` describes; INVALID_ARGUMENT for bad values.
absl::StatusOr<std::unique_ptr<ThreadingPolicy>> MakeThreadingPolicy(
    const ThreadingOptions& options);

}  // namespace korb

#endif  // KORB_ADAPTER_THREADING_POLICY_H_
