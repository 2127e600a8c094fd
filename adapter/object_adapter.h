// korb::ObjectAdapter: the manager of a set of objects within an ObjectServer
// (seed 001: "inspects incoming requests, ensures the referenced object is
// activated, passes the request to the skeleton following its activation
// policy, and generates object references").
//
// An adapter has a name, unique within its server, that appears in every
// reference it issues. It keeps an active object map from object id to
// servant; explicit activation puts a servant there, Deactivate() removes it.
// A servant manager (adapter/servant_manager.h) supplies servants for ids
// that are not in the map: a ServantActivator incarnates them on the first
// call (and they are retained, subject to eviction), a ServantLocator per
// call; default servants serve every id of their interface. Lookup order:
// the map, the servant manager, the default servant.
//
// Eviction (soft state) applies to objects a ServantActivator incarnated:
// one idle for AdapterOptions::idle_timeout, or the least recently used idle
// one when more than max_active_objects are active, is etherealized. An
// object with calls in flight is never evicted; a call that arrives while
// its object is being etherealized waits for a fresh incarnation.
//
// Lifespan: a kTransient adapter's references carry a tag of this adapter
// instance, so after a restart they answer object-not-exist; a kPersistent
// adapter's references stay valid across restarts (same name and endpoint),
// and with an activator the first call after a restart reincarnates the
// object.
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

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/metrics.h"
#include "adapter/reply_cache.h"
#include "adapter/servant_manager.h"
#include "adapter/threading_policy.h"
#include "common/ref.h"
#include "common/sync.h"
#include "servants/persistent_state.h"
#include "servants/servant.h"
#include "servants/state_store.h"

namespace korb {

class ObjectServer;
namespace internal {
class ServerCall;
struct ActiveObject;
}  // namespace internal

// Whether references survive the adapter instance (see above).
enum class Lifespan { kTransient, kPersistent };

// Where and how the state of PersistentState servants is kept
// (servants/persistent_state.h).
struct PersistenceOptions {
  std::shared_ptr<StateStore> store;  // null: no persistence
  PersistenceMode mode = PersistenceMode::kWriteThrough;
};

struct AdapterOptions {
  // How calls to this adapter's objects are scheduled.
  ThreadingOptions threading{};
  // Calls that may wait while the adapter is holding.
  size_t max_held_calls = 1000;
  // kTransient references die with this adapter instance.
  Lifespan lifespan = Lifespan::kTransient;
  // Eviction of objects incarnated by the ServantActivator: after this long
  // without a call (infinite: never) ...
  absl::Duration idle_timeout = absl::InfiniteDuration();
  // ... and beyond this many of them, least recently used first (0: no cap).
  // The cap is exceeded while every object is busy.
  size_t max_active_objects = 0;
  // State of incarnated PersistentState servants.
  PersistenceOptions persistence{};
  // Replies kept for calls with korb-request-id, so that a retry is answered
  // instead of executed again (adapter/reply_cache.h).
  ReplyCacheOptions reply_cache{};
};

struct ActivateOptions {
  // Overrides the adapter's threading policy for this object. Objects
  // activated with equal options share one policy instance, owned by the
  // adapter (so ThreadPerObject() gives each of them its own thread).
  std::optional<ThreadingOptions> threading{};
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
  // (object-not-exist), or a fresh incarnation if an activator is set; calls
  // already running or queued finish normally, and the servant is destroyed
  // after the last of them. An incarnated servant is etherealized (with
  // kDeactivated) after the last of them: here if none is in flight, else on
  // the adapter's lifecycle thread. NOT_FOUND if not active.
  absl::Status Deactivate(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes active object `id` the target of calls to its interface that carry
  // no `korb-object` metadata (e.g. from plain gRPC clients), server-wide.
  // The binding is by id: it survives the object's deactivation and
  // reactivation. NOT_FOUND if `id` is not active.
  absl::Status SetDefaultObject(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // A reference to object `id` of interface `type` at this server's
  // endpoints, whether or not the object is active (e.g. for an activator
  // to incarnate on the first call).
  Ref CreateReference(absl::string_view id, absl::string_view type) const;

  // Servant managers (adapter/servant_manager.h). At most one of activator
  // and locator: FAILED_PRECONDITION if the other is set. Set them before
  // calls arrive; replacing one while calls run is allowed (calls already
  // routed finish with the old one). FAILED_PRECONDITION once inactive.
  absl::Status SetServantActivator(std::shared_ptr<ServantActivator> activator)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetServantLocator(std::shared_ptr<ServantLocator> locator)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Makes `servant` serve every id of its interface that is not in the
  // active object map and that no servant manager supplies; it reads the id
  // from CallContext::object_id(). Replaces an earlier default servant of the
  // same interface. INVALID_ARGUMENT for null.
  absl::Status SetDefaultServant(std::shared_ptr<Servant> servant) ABSL_LOCKS_EXCLUDED(mu_);

  // Leaves a forward for `id`: calls to it are answered NOT_FOUND with
  // korb-error: forward and korb-forward: `location` (the object moved), and
  // Korb's stubs follow it. The active object map still comes first: if `id`
  // is active it is deactivated (etherealized, if incarnated) here. Replaces
  // an earlier forward. INVALID_ARGUMENT for an invalid `location`.
  absl::Status Forward(absl::string_view id, const Ref& location) ABSL_LOCKS_EXCLUDED(mu_);
  // Removes the forward for `id`; NOT_FOUND if there is none.
  absl::Status RemoveForward(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Fault injection for tests: when `drop` returns true for a call's object
  // id and method path after its operation ran, the caller gets UNAVAILABLE
  // instead of the reply (as if the connection had dropped), while a
  // korb-request-id reply cache still keeps the real reply. Null removes it.
  void SetReplyDropperForTesting(
      std::function<bool(absl::string_view id, absl::string_view method_path)> drop)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The tag this adapter instance puts into its references ("" when
  // persistent).
  const std::string& instance_tag() const { return instance_tag_; }

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

  // Runtime side: routes a received call to object `id`; `tag` is the
  // instance tag its reference carried. Replies with an error itself when
  // the object or method does not exist or the adapter refuses calls.
  void Dispatch(internal::ServerCall* call, absl::string_view id, absl::string_view tag)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Runtime side: runs a dispatched call's operation (incarnating or
  // locating its servant first, saving its state after) and returns the
  // status to answer with. On the policy's thread.
  grpc::Status Invoke(internal::ServerCall* call) ABSL_LOCKS_EXCLUDED(mu_);
  // Runtime side: a call that reached this adapter was answered; `object` is
  // its bound target if it had been dispatched (and so was in flight).
  // Returns the adapter's load afterwards (for the korb-load trailer).
  int CallAnswered(absl::Duration latency, bool ok,
                   const std::shared_ptr<internal::ActiveObject>& object) ABSL_LOCKS_EXCLUDED(mu_);
  // Runtime side: the cache of replies to calls with korb-request-id.
  ReplyCache& reply_cache() { return reply_cache_; }
  // Runtime side: whether the fault injection drops this call's reply.
  bool DropReplyForTesting(absl::string_view id, absl::string_view method_path)
      ABSL_LOCKS_EXCLUDED(mu_);
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
  // FAILED_PRECONDITION for operations on an inactive adapter.
  absl::Status InactiveError() const;
  absl::Status CheckActivatable(absl::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The entry a call to `id` of interface `service` goes to: the map's, a
  // new one to incarnate or locate, or a default servant's; null if none.
  std::shared_ptr<internal::ActiveObject> FindTarget(absl::string_view id,
                                                     absl::string_view service)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands a bound call to its object's policy.
  void Execute(internal::ServerCall* call);
  void ReleaseHeldCalls(std::deque<internal::ServerCall*> held, bool run);

  // Lifecycle of incarnated and located objects (object_adapter_lifecycle.cc).
  // Incarnates `object` unless it is, or is being, incarnated; OK once it is.
  absl::Status EnsureIncarnated(internal::ActiveObject& object) ABSL_LOCKS_EXCLUDED(mu_);
  // The locator's servant for one call, and its return.
  absl::StatusOr<ServantLocator::Located> PreInvoke(internal::ActiveObject& object,
                                                    absl::string_view method_path);
  void PostInvoke(internal::ActiveObject& object, absl::string_view method_path,
                  const ServantLocator::Located& located, const grpc::Status& outcome);
  // Saves `object`'s state to the store (write-through and write-back).
  absl::Status SaveState(internal::ActiveObject& object);
  // A write-through save failed: `object` leaves without saving, so that the
  // next incarnation starts from the last saved state.
  void DropUnsavedState(internal::ActiveObject& object) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes incarnated `object` leave the map for `reason`. Its etherealization
  // waits for its calls in flight; with none, it is queued for the lifecycle
  // thread if `queue`, else left to the caller.
  void EvictLocked(internal::ActiveObject* object, EtherealizeReason reason, bool queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves (write-back), hands the servant to the activator's Etherealize(),
  // and tells the policy; `object` has no call in flight.
  void Etherealize(const std::shared_ptr<internal::ActiveObject>& object,
                   EtherealizeReason reason) ABSL_LOCKS_EXCLUDED(mu_);
  // Evicts least recently used idle objects while over the cap.
  void EnforceCapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts objects idle for idle_timeout; returns when to look again.
  absl::Time EvictIdleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks `object` used now (LRU order).
  void TouchLocked(internal::ActiveObject* object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The lifecycle thread: etherealizes what was queued, evicts idle objects.
  void LifecycleLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void StartLifecycleThreadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stops the lifecycle thread after it ran what was queued, and runs what
  // is queued still.
  void StopLifecycle() ABSL_LOCKS_EXCLUDED(mu_);
  bool evicting() const {
    return options_.idle_timeout != absl::InfiniteDuration() || options_.max_active_objects > 0;
  }

  struct PendingEtherealization {
    std::shared_ptr<internal::ActiveObject> object;
    EtherealizeReason reason;
  };

  ObjectServer* const server_;
  const std::string name_;
  const AdapterOptions options_;
  const std::string instance_tag_;
  MetricsRecorder metrics_;
  LifecycleCounters lifecycle_counts_;
  ReplyCache reply_cache_;
  // Calls in flight, as in_flight_, readable without the lock.
  std::atomic<int> load_{0};
  std::atomic<bool> has_reply_dropper_{false};
  mutable Mutex mu_;
  // The adapter's policy first, then one per distinct per-object override.
  std::vector<std::pair<ThreadingOptions, std::unique_ptr<ThreadingPolicy>>> policies_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<internal::ActiveObject>> objects_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ServantActivator> activator_ ABSL_GUARDED_BY(mu_);
  // Forwards left for moved objects: id -> new location (string form).
  absl::flat_hash_map<std::string, std::string> forwards_ ABSL_GUARDED_BY(mu_);
  std::function<bool(absl::string_view, absl::string_view)> reply_dropper_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ServantLocator> locator_ ABSL_GUARDED_BY(mu_);
  // By interface name.
  absl::flat_hash_map<std::string, std::shared_ptr<internal::ActiveObject>> default_servants_
      ABSL_GUARDED_BY(mu_);
  // Incarnated objects in the map, least recently used first (only when
  // evicting()).
  std::list<internal::ActiveObject*> lru_ ABSL_GUARDED_BY(mu_);
  // Ids whose previous incarnation is being etherealized; notified when done.
  absl::flat_hash_map<std::string, std::shared_ptr<Notification>> etherealizing_
      ABSL_GUARDED_BY(mu_);
  std::deque<PendingEtherealization> to_etherealize_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<std::thread> lifecycle_thread_ ABSL_GUARDED_BY(mu_);
  bool lifecycle_stopping_ ABSL_GUARDED_BY(mu_) = false;
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
