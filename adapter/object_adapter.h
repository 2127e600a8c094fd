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
//   kDeactivating  Shutdown() is draining: calls are refused as in
//                kDiscarding, dispatched ones finish
//   kInactive    terminal: calls are refused as in kDiscarding
// A new adapter starts in kHolding: calls that arrive while the application
// is still creating objects and installing servant managers wait instead of
// being told an object does not exist. Call Resume() once it is ready.
// Hold(), Discard() and Resume() move between the first three in any order;
// Shutdown() passes kDeactivating and ends in kInactive. Every transition is
// idempotent.
//
// Lifetime: created and owned by its ObjectServer (CreateAdapter); pointers
// stay valid until the server is destroyed.
//
// The class is the user's interface; the runtime's side (the request
// pipeline, adapter/pipeline.cc) is internal::AdapterImpl.
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
//   RETURN_IF_ERROR(adapter->Resume());  // ready: calls held since start-up run
//   std::cout << ref << "\n";   // korb://127.0.0.1:7000/bank/main?type=bank.Bank
//   adapter->Hold();     // e.g. while reconfiguring; calls wait
//   adapter->Resume();
#ifndef KORB_ADAPTER_OBJECT_ADAPTER_H_
#define KORB_ADAPTER_OBJECT_ADAPTER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/access_control.h"
#include "adapter/metrics.h"
#include "adapter/reply_cache.h"
#include "adapter/servant_manager.h"
#include "adapter/threading_policy.h"
#include "common/ref.h"
#include "servants/persistent_state.h"
#include "servants/servant.h"
#include "servants/state_store.h"

namespace korb {

class ObjectServer;

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
  // ... and beyond this many of them, least recently used first (0: no cap:
  // an activator that accepts any id then lets a client grow the adapter
  // without bound). The cap is exceeded while every object is busy.
  size_t max_active_objects = 100000;
  // State of incarnated PersistentState servants.
  PersistenceOptions persistence{};
  // Replies kept for calls with korb-request-id, so that a retry is answered
  // instead of executed again (adapter/reply_cache.h).
  ReplyCacheOptions reply_cache{};
  // Who may call this adapter's operations (adapter/access_control.h);
  // empty: everyone. SetAccessPolicy() replaces it at run time.
  AccessPolicy access{};
};

struct ActivateOptions {
  // Overrides the adapter's threading policy for this object. Objects
  // activated with equal options share one policy instance, owned by the
  // adapter (so ThreadPerObject() gives each of them its own thread).
  std::optional<ThreadingOptions> threading{};
};

// One entry of the active object map, for tools (ObjectAdapter::ListActiveObjects).
struct ActiveObjectInfo {
  std::string id;
  // The servant's interface ("bank.Account"); "" while an activator is still
  // incarnating it.
  std::string type;
};

// In order; kDeactivating and kInactive are terminal (see above).
enum class AdapterState { kActive, kHolding, kDiscarding, kDeactivating, kInactive };
absl::string_view AdapterStateName(AdapterState state);

class ObjectAdapter {
 public:
  ObjectAdapter(const ObjectAdapter&) = delete;
  ObjectAdapter& operator=(const ObjectAdapter&) = delete;
  virtual ~ObjectAdapter() = default;

  virtual const std::string& name() const = 0;
  virtual ObjectServer& server() const = 0;

  // Activates `servant` as object `id` and returns its reference.
  // INVALID_ARGUMENT for an empty id, a null servant or bad threading
  // options; ALREADY_EXISTS if `id` is active; FAILED_PRECONDITION once the
  // adapter is inactive.
  virtual absl::StatusOr<Ref> Activate(std::string id, std::shared_ptr<Servant> servant,
                                       const ActivateOptions& options = {}) = 0;
  // Same with a system-assigned id, unique within this adapter.
  virtual absl::StatusOr<Ref> Activate(std::shared_ptr<Servant> servant,
                                       const ActivateOptions& options = {}) = 0;

  // Removes `id` from the active object map. New calls to it get NOT_FOUND
  // (object-not-exist), or a fresh incarnation if an activator is set; calls
  // already running or queued finish normally, and the servant is destroyed
  // after the last of them. An incarnated servant is etherealized (with
  // kDeactivated) after the last of them: here if none is in flight, else on
  // the adapter's lifecycle thread. NOT_FOUND if not active.
  virtual absl::Status Deactivate(absl::string_view id) = 0;

  // Makes active object `id` the target of calls to its interface that carry
  // no `korb-object` metadata (e.g. from plain gRPC clients), server-wide.
  // The binding is by id: it survives the object's deactivation and
  // reactivation. NOT_FOUND if `id` is not active.
  virtual absl::Status SetDefaultObject(absl::string_view id) = 0;

  // A reference to object `id` of interface `type` at this server's
  // endpoints, whether or not the object is active (e.g. for an activator
  // to incarnate on the first call).
  virtual Ref CreateReference(absl::string_view id, absl::string_view type) const = 0;

  // Servant managers (adapter/servant_manager.h). At most one of activator
  // and locator: FAILED_PRECONDITION if the other is set. Set them before
  // calls arrive; replacing one while calls run is allowed (calls already
  // routed finish with the old one). FAILED_PRECONDITION once inactive.
  virtual absl::Status SetServantActivator(std::shared_ptr<ServantActivator> activator) = 0;
  virtual absl::Status SetServantLocator(std::shared_ptr<ServantLocator> locator) = 0;
  // Makes `servant` serve every id of its interface that is not in the
  // active object map and that no servant manager supplies; it reads the id
  // from CallContext::object_id(). Replaces an earlier default servant of the
  // same interface. INVALID_ARGUMENT for null.
  virtual absl::Status SetDefaultServant(std::shared_ptr<Servant> servant) = 0;

  // Leaves a forward for `id`: calls to it are answered NOT_FOUND with
  // korb-error: forward and korb-forward: `location` (the object moved), and
  // Korb's stubs follow it. The active object map still comes first: if `id`
  // is active it is deactivated (etherealized, if incarnated) here. Replaces
  // an earlier forward. INVALID_ARGUMENT for an invalid `location`.
  virtual absl::Status Forward(absl::string_view id, const Ref& location) = 0;
  // Removes the forward for `id`; NOT_FOUND if there is none.
  virtual absl::Status RemoveForward(absl::string_view id) = 0;

  // The tag this adapter instance puts into its references ("" when
  // persistent).
  virtual const std::string& instance_tag() const = 0;

  virtual bool IsActive(absl::string_view id) const = 0;
  virtual size_t active_objects() const = 0;
  // A page of the active object map for tools (the admin object): at most
  // `limit` objects whose ids sort after `after` (byte order), in id order.
  // Costs one pass over the map under the adapter's lock.
  virtual std::vector<ActiveObjectInfo> ListActiveObjects(absl::string_view after,
                                                          size_t limit) const = 0;
  // The options this adapter was created with.
  virtual const AdapterOptions& options() const = 0;

  // State transitions (see above); a new adapter holds until Resume().
  // FAILED_PRECONDITION once shutting down.
  virtual absl::Status Hold() = 0;
  virtual absl::Status Discard() = 0;
  virtual absl::Status Resume() = 0;
  virtual AdapterState state() const = 0;

  // Moves to kDeactivating, then kInactive: new and held calls are refused
  // (UNAVAILABLE, transient); calls already dispatched get until `grace` to
  // finish; then the policies reject what is still queued and wait for
  // running operations; then every servant is released. OK if everything
  // finished within `grace`, DEADLINE_EXCEEDED (after waiting for running
  // operations) otherwise. Idempotent; concurrent callers all return once it
  // is done.
  virtual absl::Status Shutdown(absl::Duration grace = absl::Seconds(5)) = 0;

  // A snapshot of this adapter's metrics; ResetMetrics() restarts counting
  // (calls, errors, latency, TLP).
  virtual AdapterMetrics Metrics() const = 0;
  virtual void ResetMetrics() = 0;

  // Replaces the adapter's access policy (adapter/access_control.h) for
  // calls admitted from now on; an empty policy lets every call in.
  // INVALID_ARGUMENT for a malformed policy (the old one stays).
  virtual absl::Status SetAccessPolicy(AccessPolicy policy) = 0;

 protected:
  ObjectAdapter() = default;
};

}  // namespace korb

#endif  // KORB_ADAPTER_OBJECT_ADAPTER_H_
