// korb::ObjectAdapter: the manager of a set of objects within an ObjectServer
// (seed 001: "inspects incoming requests, ensures the referenced object is
// activated, passes the request to the skeleton following its activation
// policy, and generates object references").
//
// An adapter has a name, unique within its server, that appears in every
// reference it issues. It keeps an active object map from object id to
// servant; explicit activation puts a servant there, Deactivate() removes it.
// A call that found its servant keeps it alive (std::shared_ptr) until the
// call returns, so Deactivate() never pulls a servant from under a running
// operation. Calls run under the adapter's threading policy, or under the
// policy an object was activated with (ActivateOptions::threading).
//
// States (like a POA manager's), in order:
//   kActive      calls are dispatched
//   kHolding     calls wait in a bounded queue (AdapterOptions::max_held_calls;
//                beyond it RESOURCE_EXHAUSTED, transient) until Resume()
//   kDiscarding  calls are refused with UNAVAILABLE, korb-error: transient, so
//                clients go elsewhere or come back later
//   kInactive    terminal: calls are refused as in kDiscarding; Shutdown()
// Hold(), Discard() and Resume() move between the first three in any order;
// Shutdown() ends in kInactive. Every transition is idempotent.
//
// Lifetime: created and owned by its ObjectServer (CreateAdapter); pointers
// stay valid until the server is destroyed.
//
// Thread-safety: thread-safe. Activation, deactivation and state changes may
// race with calls and with each other. Shutdown() must not be called from a
// servant operation of this adapter (it waits for them).
//
// Usage:
//   ASSIGN_OR_RETURN(korb::ObjectAdapter* adapter, server->CreateAdapter("bank"));
//   ASSIGN_OR_RETURN(korb::Ref ref,
//                    adapter->Activate("main", std::make_shared<BankImpl>()));
//   RETURN_IF_ERROR(adapter->SetDefaultObject("main"));  // for plain gRPC clients
//   std::cout << ref << "\n";   // korb://127.0.0.1:7000/bank/main?type=bank.Bank
//   adapter->Hold();     // e.g. while reconfiguring; calls wait
//   adapter->Resume();
#ifndef KORB_ADAPTER_OBJECT_ADAPTER_H_
#define KORB_ADAPTER_OBJECT_ADAPTER_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/metrics.h"
#include "adapter/threading_policy.h"
#include "common/ref.h"
#include "common/sync.h"
#include "servants/servant.h"

namespace korb {

class ObjectServer;
namespace internal {
class ServerCall;
struct ActiveObject;
}  // namespace internal

struct AdapterOptions {
  // How calls to this adapter's objects are scheduled.
  ThreadingOptions threading;
  // Calls that may wait while the adapter is holding.
  size_t max_held_calls = 1000;
};

struct ActivateOptions {
  // Overrides the adapter's threading policy for this object. Objects
  // activated with equal options share one policy instance, owned by the
  // adapter (so ThreadPerObject() gives each of them its own thread).
  std::optional<ThreadingOptions> threading;
};

enum class AdapterState { kActive, kHolding, kDiscarding, kInactive };
absl::string_view AdapterStateName(AdapterState state);

class ObjectAdapter {
 public:
  ObjectAdapter(const ObjectAdapter&) = delete;
  ObjectAdapter& operator=(const ObjectAdapter&) = delete;
  ~ObjectAdapter();

  const std::string& name() const { return name_; }
  ObjectServer& server() const { return *server_; }

  // Activates `servant` as object `id` and returns its reference.
  // INVALID_ARGUMENT for an empty id, a null servant or bad threading
  // options; ALREADY_EXISTS if `id` is active; FAILED_PRECONDITION once the
  // adapter is inactive.
  absl::StatusOr<Ref> Activate(std::string id, std::shared_ptr<Servant> servant,
                               const ActivateOptions& options = {}) ABSL_LOCKS_EXCLUDED(mu_);
  // Same with a system-assigned id, unique within this adapter.
  absl::StatusOr<Ref> Activate(std::shared_ptr<Servant> servant,
                               const ActivateOptions& options = {}) ABSL_LOCKS_EXCLUDED(mu_);

  // Removes `id` from the active object map. New calls to it get NOT_FOUND
  // (object-not-exist); calls already running or queued finish normally, and
  // the servant is destroyed after the last of them. NOT_FOUND if not active.
  absl::Status Deactivate(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes active object `id` the target of calls to its interface that carry
  // no `korb-object` metadata (e.g. from plain gRPC clients), server-wide.
  // The binding is by id: it survives the object's deactivation and
  // reactivation. NOT_FOUND if `id` is not active.
  absl::Status SetDefaultObject(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // A reference to object `id` of interface `type` at this server's
  // endpoints. Does not check that the object is active.
  Ref CreateReference(absl::string_view id, absl::string_view type) const;

  bool IsActive(absl::string_view id) const ABSL_LOCKS_EXCLUDED(mu_);
  size_t active_objects() const ABSL_LOCKS_EXCLUDED(mu_);

  // State transitions (see above). FAILED_PRECONDITION once inactive.
  absl::Status Hold() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Discard() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Resume() ABSL_LOCKS_EXCLUDED(mu_);
  AdapterState state() const ABSL_LOCKS_EXCLUDED(mu_);

  // Moves to kInactive: new and held calls are refused (UNAVAILABLE,
  // transient); calls already dispatched get until `grace` to finish; then
  // the policies reject what is still queued and wait for running
  // operations; then every servant is released. OK if everything finished
  // within `grace`, DEADLINE_EXCEEDED (after waiting for running operations)
  // otherwise. Idempotent; concurrent callers all return once it is done.
  absl::Status Shutdown(absl::Duration grace = absl::Seconds(5)) ABSL_LOCKS_EXCLUDED(mu_);

  // A snapshot of this adapter's metrics; ResetMetrics() restarts counting
  // (calls, errors, latency, TLP).
  AdapterMetrics Metrics() const ABSL_LOCKS_EXCLUDED(mu_);
  void ResetMetrics();

  // Runtime side: routes a received call to object `id`. Replies with an
  // error itself when the object or method does not exist or the adapter
  // refuses calls.
  void Dispatch(internal::ServerCall* call, absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);
  // Runtime side: a call that reached this adapter was answered;
  // `dispatched` if it had been handed to a policy (and so was in flight).
  void CallAnswered(absl::Duration latency, bool ok, bool dispatched) ABSL_LOCKS_EXCLUDED(mu_);
  MetricsRecorder& metrics_recorder() { return metrics_; }

 private:
  friend class ObjectServer;
  ObjectAdapter(ObjectServer* server, std::string name, AdapterOptions options,
                std::unique_ptr<ThreadingPolicy> policy);

  // The policy for `options`, created on first use. Null with `status` set if
  // the options are invalid.
  ThreadingPolicy* PolicyFor(const ThreadingOptions& options, absl::Status* status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK if `id` may be activated now.
  absl::Status CheckActivatable(absl::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Hands a bound call to its object's policy.
  void Execute(internal::ServerCall* call);
  void ReleaseHeldCalls(std::deque<internal::ServerCall*> held, bool run);

  ObjectServer* const server_;
  const std::string name_;
  const AdapterOptions options_;
  MetricsRecorder metrics_;
  mutable Mutex mu_;
  // The adapter's policy first, then one per distinct per-object override.
  std::vector<std::pair<ThreadingOptions, std::unique_ptr<ThreadingPolicy>>> policies_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<const internal::ActiveObject>> objects_
      ABSL_GUARDED_BY(mu_);
  AdapterState state_ ABSL_GUARDED_BY(mu_) = AdapterState::kActive;
  std::deque<internal::ServerCall*> held_ ABSL_GUARDED_BY(mu_);
  // Calls dispatched to a policy and not yet answered (what Shutdown drains).
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutdown_started_ ABSL_GUARDED_BY(mu_) = false;
  Notification shutdown_done_;
  absl::Status shutdown_status_;  // written before shutdown_done_ is notified
};

}  // namespace korb

#endif  // KORB_ADAPTER_OBJECT_ADAPTER_H_
