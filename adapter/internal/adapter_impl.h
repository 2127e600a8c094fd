// internal::AdapterImpl: the object adapter behind korb::ObjectAdapter — the
// user's operations (object_adapter.cc), the object lifecycle
// (object_adapter_lifecycle.cc) and the adapter's stages of the request
// pipeline (pipeline.cc; docs/architecture.md):
//
//   Admit    check the reference's instance tag, korb-priority and
//            korb-request-id (answering a retry from the reply cache)
//   Resolve  hold the call (kHolding: before any lookup, resolved again on
//            Resume), or refuse it by state or forward, or find the target
//            (map, servant manager, default servant) and the operation, and
//            bind it
//   Schedule hand the bound call to its object's threading policy
//   Perform  on the policy's thread: drop a call cancelled or expired while
//            queued, Incarnate/Locate the servant, Invoke the operation,
//            Persist its state
//   Reply    keep the reply for retries, account the call, send the answer
//
// Thread-safety: thread-safe; see ObjectAdapter. Policy hooks
// (OnObjectActivated/OnObjectDeactivated, Execute), servant managers and
// servants are always called without `mu_` held.
#ifndef KORB_ADAPTER_INTERNAL_ADAPTER_IMPL_H_
#define KORB_ADAPTER_INTERNAL_ADAPTER_IMPL_H_

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/internal/active_object.h"
#include "adapter/internal/call.h"
#include "adapter/object_adapter.h"
#include "common/sync.h"

namespace korb::internal {

class ServerImpl;

class AdapterImpl final : public ObjectAdapter {
 public:
  AdapterImpl(ServerImpl* server, std::string name, AdapterOptions options,
              std::unique_ptr<ThreadingPolicy> policy);
  ~AdapterImpl() override;

  // ObjectAdapter:
  const std::string& name() const override { return name_; }
  ObjectServer& server() const override;
  absl::StatusOr<Ref> Activate(std::string id, std::shared_ptr<Servant> servant,
                               const ActivateOptions& options) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Ref> Activate(std::shared_ptr<Servant> servant,
                               const ActivateOptions& options) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Deactivate(absl::string_view id) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetDefaultObject(absl::string_view id) override ABSL_LOCKS_EXCLUDED(mu_);
  Ref CreateReference(absl::string_view id, absl::string_view type) const override;
  absl::Status SetServantActivator(std::shared_ptr<ServantActivator> activator) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetServantLocator(std::shared_ptr<ServantLocator> locator) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetDefaultServant(std::shared_ptr<Servant> servant) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Forward(absl::string_view id, const Ref& location) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RemoveForward(absl::string_view id) override ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& instance_tag() const override { return instance_tag_; }
  bool IsActive(absl::string_view id) const override ABSL_LOCKS_EXCLUDED(mu_);
  size_t active_objects() const override ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ActiveObjectInfo> ListActiveObjects(absl::string_view after, size_t limit) const
      override ABSL_LOCKS_EXCLUDED(mu_);
  const AdapterOptions& options() const override { return options_; }
  absl::Status Hold() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Discard() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Resume() override ABSL_LOCKS_EXCLUDED(mu_);
  AdapterState state() const override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Shutdown(absl::Duration grace) override ABSL_LOCKS_EXCLUDED(mu_);
  AdapterMetrics Metrics() const override ABSL_LOCKS_EXCLUDED(mu_);
  void ResetMetrics() override;
  absl::Status SetAccessPolicy(AccessPolicy policy) override;
  // Installs a compiled policy (null: none).
  void InstallAccessControl(std::shared_ptr<const AccessControl> access) {
    const bool any = access != nullptr;
    access_.store(std::move(access), std::memory_order_release);
    has_access_control_.store(any, std::memory_order_release);
  }

  // The pipeline's entry into this adapter (from ServerImpl's Route stage):
  // the call names object `id` with instance tag `tag`. Answers the call
  // itself when it is refused.
  void Admit(Call& call, absl::string_view id, absl::string_view tag) ABSL_LOCKS_EXCLUDED(mu_);
  // Perform stage, on the policy's thread (Call::Run()).
  void Perform(Call& call) ABSL_LOCKS_EXCLUDED(mu_);
  // Reply stage: answers `call` with `status` (its korb::ErrorKind, if any,
  // as the korb-error trailer). The call may be destroyed when this returns.
  void Reply(Call& call, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  // Fault injection (adapter/testing/fault_injection.h).
  void SetReplyDropper(std::function<bool(absl::string_view id, absl::string_view method_path)>
                           drop) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Admit's access check (object_adapter_access.cc): OK if the adapter's
  // policy lets `call` in to object `id`.
  absl::Status CheckAccess(Call& call, absl::string_view id,
                           std::optional<int32_t> asked_priority) ABSL_LOCKS_EXCLUDED(mu_);
  // The semantics of `method_path` as the object `id` (active, or served by
  // a default servant) declares them, or null if not known yet.
  const MethodInfo* KnownMethod(absl::string_view id, absl::string_view method_path) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Resolve and Schedule stages (pipeline.cc).
  void Resolve(Call& call, absl::string_view id, std::optional<int32_t> asked_priority)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Schedule(Call& call);
  // Perform's steps: the operation's outcome, to be answered on `*call`
  // (which Invoke replaces by the detached call of a oneway operation).
  absl::Status Invoke(Call** call) ABSL_LOCKS_EXCLUDED(mu_);
  // A oneway call: answers `call` OK (accepted) and returns the call that
  // carries its operation on, which owns copies of what the operation reads
  // and logs its outcome. Its reply is never cached.
  Call& Detach(Call& call);
  absl::Status InvokeServant(Call& call, Servant& servant, const InterfaceInfo& interface,
                             int method_index);
  // Reply's accounting: `call` was answered; returns the adapter's load
  // afterwards (for the korb-load trailer).
  int Account(Call& call, bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  bool DropReply(absl::string_view id, absl::string_view method_path) ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseHeldCalls(std::deque<Call*> held, bool run);

  // The policy for `options`, created on first use. Null with `status` set if
  // the options are invalid.
  ThreadingPolicy* PolicyFor(const ThreadingOptions& options, absl::Status* status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FAILED_PRECONDITION for operations on a shut down adapter.
  absl::Status InactiveError() const;
  bool ShutDownLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return state_ >= AdapterState::kDeactivating;
  }
  // OK if `id` may be activated now.
  absl::Status CheckActivatable(absl::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The entry a call to `id` of interface `service` goes to: the map's, a
  // new one to locate, `*spare` published to be incarnated, or a default
  // servant's; null if none. Null with `*need_spare` when the activator
  // would incarnate `id` but `*spare` is not (yet) a fitting entry.
  std::shared_ptr<ActiveObject> FindTarget(absl::string_view id, absl::string_view service,
                                           std::shared_ptr<ActiveObject>* spare,
                                           bool* need_spare) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new entry for the activator to incarnate as `id`, its policy told;
  // null if there is no activator any more.
  std::shared_ptr<ActiveObject> MakeSpare(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Lifecycle of incarnated and located objects (object_adapter_lifecycle.cc).
  // Incarnates `object` unless it is, or is being, incarnated; OK once it is.
  absl::Status Incarnate(ActiveObject& object) ABSL_LOCKS_EXCLUDED(mu_);
  // The locator's servant for one call, and its return.
  absl::StatusOr<ServantLocator::Located> Locate(ActiveObject& object,
                                                 absl::string_view method_path);
  void ReturnLocated(ActiveObject& object, absl::string_view method_path,
                     const ServantLocator::Located& located, const absl::Status& outcome);
  // Saves `object`'s state to the store (write-through and write-back).
  absl::Status Persist(ActiveObject& object);
  // A write-through save failed: `object` leaves without saving, so that the
  // next incarnation starts from the last saved state.
  void DropUnsavedState(ActiveObject& object) ABSL_LOCKS_EXCLUDED(mu_);
  // Object lifecycle transitions that touch the adapter's tables
  // (adapter/internal/active_object.h has the state machine).
  // Takes `object` out of the map and the LRU list; returns the map's
  // reference to it (null if it was not there).
  std::shared_ptr<ActiveObject> UnmapLocked(ActiveObject& object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `object` (in the map) leaves it for `reason`. With no call bound it is
  // now kEtherealizing and returned: the caller Etherealize()s it or queues
  // it. Otherwise null: the Account() of its last call will.
  std::shared_ptr<ActiveObject> LeaveLocked(ActiveObject& object, EtherealizeReason reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a kEtherealizing `object` (if not null) for the lifecycle thread.
  void QueueLocked(std::shared_ptr<ActiveObject> object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // kEtherealizing -> kGone: for an activator's object, saves it (write-back),
  // hands its servant to the activator's Etherealize() and tells its policy;
  // an explicit activation's servant is just released.
  void Etherealize(const std::shared_ptr<ActiveObject>& object, EtherealizeReason reason)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `object` is in the LRU list: an activator's object in the map of
  // an adapter that evicts.
  bool InLruLocked(const ActiveObject& object) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return evicting() && object.origin == ActiveObject::Origin::kActivator && object.in_map();
  }
  // Evicts least recently used idle objects while over the cap.
  void EnforceCapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts objects idle for idle_timeout; returns when to look again.
  absl::Time EvictIdleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Marks `object` used now (LRU order).
  void TouchLocked(ActiveObject* object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
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
    std::shared_ptr<ActiveObject> object;
    EtherealizeReason reason;
  };

  ServerImpl* const server_;
  const std::string name_;
  const AdapterOptions options_;
  const std::string instance_tag_;
  MetricsRecorder metrics_;
  LifecycleCounters lifecycle_counts_;
  ReplyCache reply_cache_;
  // Calls in flight, as in_flight_, readable without the lock.
  std::atomic<int> load_{0};
  std::atomic<bool> has_reply_dropper_{false};
  // Null: no access control. has_access_control_ mirrors it, so that the
  // common case costs a plain atomic load, not the shared_ptr's lock.
  std::atomic<std::shared_ptr<const AccessControl>> access_;
  std::atomic<bool> has_access_control_{false};
  mutable Mutex mu_;
  // The adapter's policy first, then one per distinct per-object override.
  std::vector<std::pair<ThreadingOptions, std::unique_ptr<ThreadingPolicy>>> policies_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<ActiveObject>> objects_ ABSL_GUARDED_BY(mu_);
  // The published objects by lifecycle state.
  ObjectCensus census_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ServantActivator> activator_ ABSL_GUARDED_BY(mu_);
  // Forwards left for moved objects: id -> new location (string form).
  absl::flat_hash_map<std::string, std::string> forwards_ ABSL_GUARDED_BY(mu_);
  std::function<bool(absl::string_view, absl::string_view)> reply_dropper_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ServantLocator> locator_ ABSL_GUARDED_BY(mu_);
  // By interface name.
  absl::flat_hash_map<std::string, std::shared_ptr<ActiveObject>> default_servants_
      ABSL_GUARDED_BY(mu_);
  // Incarnated objects in the map, least recently used first (only when
  // evicting()).
  std::list<ActiveObject*> lru_ ABSL_GUARDED_BY(mu_);
  // Ids whose previous incarnation is being etherealized; notified when done.
  absl::flat_hash_map<std::string, std::shared_ptr<Notification>> etherealizing_
      ABSL_GUARDED_BY(mu_);
  std::deque<PendingEtherealization> to_etherealize_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<std::thread> lifecycle_thread_ ABSL_GUARDED_BY(mu_);
  bool lifecycle_stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Holding until the application is ready (Resume()), as a POA manager.
  AdapterState state_ ABSL_GUARDED_BY(mu_) = AdapterState::kHolding;
  std::deque<Call*> held_ ABSL_GUARDED_BY(mu_);
  // Calls dispatched to a policy and not yet answered (what Shutdown drains).
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  Notification shutdown_done_;
  absl::Status shutdown_status_;  // written before shutdown_done_ is notified
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_ADAPTER_IMPL_H_
