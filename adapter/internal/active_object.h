// internal::ActiveObject: what an adapter knows of one object while calls
// can reach it: an entry of the active object map, a default servant, or the
// servant a locator supplies for one call. Shared by the adapter and by the
// calls bound to it (std::shared_ptr), so it outlives its removal from the
// map until the last of those calls is answered.
//
// Thread-safety: the fields under "set before publication" are immutable
// once the entry is reachable by calls. The incarnation fields are guarded
// by `mu`. The accounting fields are guarded by the owning adapter's mutex
// (which the analysis cannot name from here).
#ifndef KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_
#define KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_

#include <atomic>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "adapter/servant_manager.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"
#include "servants/persistent_state.h"
#include "servants/servant.h"
#include "skeletons/method_table.h"

namespace korb::internal {

struct ActiveObject {
  enum class Origin {
    kExplicit,   // ObjectAdapter::Activate()
    kActivator,  // incarnated on demand by the ServantActivator
    kLocator,    // one call's servant from the ServantLocator
    kDefault,    // the default servant of an interface
  };
  enum class Phase { kPending, kIncarnating, kReady, kFailed };

  // Set before publication.
  std::string id;
  Origin origin = Origin::kExplicit;
  ThreadingPolicy* policy = nullptr;  // owned by the adapter
  std::shared_ptr<ServantActivator> activator;  // kActivator: the one that incarnates it
  std::shared_ptr<ServantLocator> locator;      // kLocator
  // Set before publication, except for kActivator entries, where the
  // incarnating call sets them before `phase` becomes kReady (and readers
  // look only after seeing kReady under `mu`, or through `ready_interface`).
  std::shared_ptr<Servant> servant;
  const InterfaceInfo* interface = nullptr;
  PersistentState* persistent = nullptr;  // the servant's, if the adapter persists it

  // Incarnation of a kActivator entry.
  Mutex mu;
  Phase phase ABSL_GUARDED_BY(mu) = Phase::kReady;
  absl::Status failure ABSL_GUARDED_BY(mu);
  // The previous incarnation of this id, still being etherealized: the new
  // one waits for it (its state must be saved before it is loaded again).
  std::shared_ptr<Notification> previous_etherealized;
  // `interface` once kReady, readable without `mu` (Dispatch resolves the
  // method and its IDL priority with it); null before.
  std::atomic<const InterfaceInfo*> ready_interface{nullptr};
  // Serializes write-through saves, so a later save never stores an older
  // snapshot.
  Mutex save_mu;

  // Accounting, guarded by the adapter's mutex.
  int calls = 0;           // bound to this entry and not yet answered
  bool in_map = false;     // reachable through the active object map
  bool evictable = false;  // in the adapter's LRU list (`lru`)
  bool drop_state = false; // etherealize without saving (a save failed)
  // Left the map while calls were in flight: etherealize after the last.
  bool leaving = false;
  EtherealizeReason leave_reason = EtherealizeReason::kDeactivated;
  // Notified when this incarnation has been etherealized (set on leaving).
  std::shared_ptr<Notification> etherealized;
  absl::Time last_used;
  std::list<ActiveObject*>::iterator lru;
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_
