// internal::ActiveObject: what an adapter knows of one object while calls
// can reach it: an entry of the active object map, a default servant, or the
// servant a locator supplies for one call. Shared by the adapter and by the
// calls bound to it (std::shared_ptr), so it outlives its removal from the
// map until the last of those calls is answered.
//
// The lifecycle of an entry of the map is one state machine, ObjectState
// (docs/architecture.md, "Object lifecycle"):
//
//   in the map                        left the map (Leave: Deactivate, eviction,
//   (new calls bind)                  a failed save, shutdown)
//   ────────────────                  ─────────────────────────────────────────
//   kPending ───────────────────────> kLeavingPending ──────────────┐
//      │ BeginIncarnation                │ BeginIncarnation         │
//      ▼                                 ▼                          │
//   kIncarnating ───────────────────> kLeavingIncarnating           │
//      │ FinishIncarnation   │           │ FinishIncarnation   │    │
//      ▼                     │           ▼                     │    │
//   kReady ──────────────────│──────> kLeaving                 │    │
//                            │           │                     │    │
//          FailIncarnation   ▼           │     FailIncarnation │    │
//                         kFailed <──────│─────────────────────┘    │
//                            │           │                          │
//                            ▼           ▼                          ▼
//                         kEtherealizing   (BeginEtherealization: no call bound)
//                            │ FinishEtherealization
//                            ▼
//                          kGone
//
// A servant activator's entries are published kPending, explicit
// activations kReady.
//
// States up to kReady are reachable through the map: new calls bind to
// them. An object that leaves before it was ever ready remembers it in its
// state (kLeavingPending, kLeavingIncarnating): the calls already bound to it
// still incarnate it, run on it, and it is etherealized after the last. An
// entry is etherealized exactly once, when no call is bound to it any more;
// one that never got a servant (kFailed, or kLeavingPending whose calls were
// all rejected) only has its policy told.
//
// A servant locator's entry serves one call, is never published and stays
// kPending; a default servant's is kReady for as long as it is installed.
//
// Thread-safety: the fields under "set before publication" are immutable
// once the entry is reachable by calls. Everything else, the state and its
// transitions included, is guarded by the owning adapter's mutex (which the
// analysis cannot name from here); `servant`, `interface` and `persistent`
// may be read without it by a call bound to the entry once it saw the entry
// ready (they change only when no call is bound).
//
// Usage (AdapterImpl, under its mutex):
//   RETURN_IF_ERROR(object->BeginIncarnation());   // kPending -> kIncarnating
//   ... Incarnate() without the lock ...
//   RETURN_IF_ERROR(object->FinishIncarnation(servant, persistent));
#ifndef KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_
#define KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_

#include <array>
#include <initializer_list>
#include <list>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/metrics.h"
#include "adapter/servant_manager.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"
#include "servants/persistent_state.h"
#include "servants/servant.h"
#include "skeletons/method_table.h"

namespace korb::internal {

// Ordered: every state before kLeavingPending is in the map.
enum class ObjectState {
  kPending,              // in the map; its first call bound will incarnate it
  kIncarnating,          // in the map; a call is incarnating it, later calls wait
  kReady,                // in the map with its servant
  kLeavingPending,       // left before its incarnation began; bound calls still incarnate it
  kLeavingIncarnating,   // left while being incarnated
  kLeaving,              // left with its servant; etherealized after its last call
  kFailed,               // incarnation failed; bound calls get the failure
  kEtherealizing,        // no call bound: being saved, etherealized, its policy told
  kGone,                 // done; nothing refers to it but stale pointers of its calls
};
inline constexpr int kObjectStateCount = static_cast<int>(ObjectState::kGone) + 1;

absl::string_view ObjectStateName(ObjectState state);

// How many of an adapter's published objects are in each state: the gauges
// of AdapterMetrics::objects. Thread-compatible (the adapter's mutex guards
// it).
class ObjectCensus {
 public:
  void Add(ObjectState state) { ++counts_[static_cast<int>(state)]; }
  void Remove(ObjectState state) { --counts_[static_cast<int>(state)]; }
  ObjectStateCounts Counts() const;

 private:
  std::array<size_t, kObjectStateCount> counts_{};
};

struct ActiveObject {
  using State = ObjectState;
  enum class Origin {
    kExplicit,   // ObjectAdapter::Activate()
    kActivator,  // incarnated on demand by the ServantActivator
    kLocator,    // one call's servant from the ServantLocator
    kDefault,    // the default servant of an interface
  };

  // An explicit activation or a default servant starts kReady, anything a
  // servant manager supplies kPending.
  explicit ActiveObject(State initial) : state_(initial) {}

  // Set before publication.
  std::string id;
  Origin origin = Origin::kExplicit;
  ThreadingPolicy* policy = nullptr;  // owned by the adapter
  std::shared_ptr<ServantActivator> activator;  // kActivator: the one that incarnates it
  std::shared_ptr<ServantLocator> locator;      // kLocator
  // The previous incarnation of this id, still being etherealized: the new
  // one waits for it (its state must be saved before it is loaded again).
  std::shared_ptr<Notification> previous_etherealized;

  // Set before publication, except for kActivator entries, where
  // FinishIncarnation() sets them (see the thread-safety note above).
  std::shared_ptr<Servant> servant;
  const InterfaceInfo* interface = nullptr;
  PersistentState* persistent = nullptr;  // the servant's, if the adapter persists it

  // Serializes write-through saves, so a later save never stores an older
  // snapshot.
  Mutex save_mu;

  // Accounting, guarded by the adapter's mutex.
  int calls = 0;            // bound to this entry and not yet answered
  bool drop_state = false;  // etherealize without saving (a save failed)
  EtherealizeReason leave_reason = EtherealizeReason::kDeactivated;
  absl::Status failure;     // kFailed: what the bound calls are answered
  // Notified when this incarnation has been etherealized (set on Leave()).
  std::shared_ptr<Notification> etherealized;
  absl::Time last_used;
  std::list<ActiveObject*>::iterator lru;  // valid while in the adapter's LRU list

  // --- The lifecycle (the adapter's mutex held) -------------------------------
  // Each transition returns FAILED_PRECONDITION, changing nothing, when the
  // entry is not in a state it may come from.

  State state() const { return state_; }
  // Reachable through the map (new calls bind to it).
  bool in_map() const { return census_ != nullptr && state_ <= State::kReady; }
  // The interface, once the servant is known; null before (and for located
  // entries).
  const InterfaceInfo* known_interface() const {
    return state_ == State::kReady || state_ == State::kLeaving ? interface : nullptr;
  }

  // The entry enters the map (kPending or kReady), counted in `census`.
  absl::Status Publish(ObjectCensus* census);
  // kPending -> kIncarnating, kLeavingPending -> kLeavingIncarnating: the
  // caller incarnates it.
  absl::Status BeginIncarnation();
  // kIncarnating -> kReady, kLeavingIncarnating -> kLeaving, with `servant`.
  absl::Status FinishIncarnation(std::shared_ptr<Servant> incarnated,
                                 PersistentState* state);
  // kIncarnating or kLeavingIncarnating -> kFailed, out of the map.
  absl::Status FailIncarnation(absl::Status status);
  // kPending -> kLeavingPending, kIncarnating -> kLeavingIncarnating,
  // kReady -> kLeaving: out of the map for `reason`.
  absl::Status Leave(EtherealizeReason reason);
  // kLeaving, kLeavingPending or kFailed -> kEtherealizing; only once no call
  // is bound.
  absl::Status BeginEtherealization();
  // kEtherealizing -> kGone.
  absl::Status FinishEtherealization();

 private:
  absl::Status Move(std::initializer_list<State> from, State to, absl::string_view transition);

  State state_;
  ObjectCensus* census_ = nullptr;  // the adapter's, once published
};

// A failed transition is a bug in the adapter: reported on stderr, and fatal
// in debug builds.
void CheckTransition(const absl::Status& status);

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_ACTIVE_OBJECT_H_
