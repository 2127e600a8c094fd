// Servant managers: how an ObjectAdapter finds a servant for an object id
// that is not in its active object map (seed 001: the adapter "ensures the
// referenced object is activated").
//
//   ServantActivator  incarnates a servant on the first call to an id; the
//                     adapter retains it in the active object map until it
//                     is deactivated, evicted or the adapter shuts down, and
//                     then hands it back to Etherealize(). For objects that
//                     are called repeatedly and have state worth keeping in
//                     memory (an account).
//   ServantLocator    supplies a servant for every single call (PreInvoke)
//                     and takes it back after the call (PostInvoke); nothing
//                     is retained. For very many objects touched once each
//                     (one per database row).
//
// An adapter has at most one servant manager (ObjectAdapter::
// SetServantActivator / SetServantLocator); besides, it may have default
// servants that serve every id of their interface (SetDefaultServant).
// Lookup order for a call to id X: the active object map, then the servant
// manager, then the default servant for the call's interface.
//
// Thread-safety: implementations must be thread-safe: the adapter calls them
// from the threads of its threading policy, concurrently for different ids.
// For one id, Incarnate() and Etherealize() never overlap, and Incarnate()
// is called again only after the previous incarnation's Etherealize()
// returned.
//
// Usage:
//   class AccountActivator : public korb::ServantActivator {
//     absl::StatusOr<std::shared_ptr<korb::Servant>> Incarnate(
//         absl::string_view id) override {
//       if (!accounts_->Exists(id)) return korb::ObjectNotExist(id);
//       return std::make_shared<AccountImpl>(accounts_, id);
//     }
//   };
//   RETURN_IF_ERROR(adapter->SetServantActivator(std::make_shared<AccountActivator>()));
#ifndef KORB_ADAPTER_SERVANT_MANAGER_H_
#define KORB_ADAPTER_SERVANT_MANAGER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "servants/servant.h"

namespace korb {

// Why a servant leaves the active object map.
enum class EtherealizeReason {
  kDeactivated,  // ObjectAdapter::Deactivate()
  kEvicted,      // idle timeout or the cap on active objects
  kShutdown,     // the adapter shut down
  kSaveFailed,   // a write-through save failed; the servant's unsaved state is dropped
};
absl::string_view EtherealizeReasonName(EtherealizeReason reason);

// NOT_FOUND with korb-error: object-not-exist: what a servant manager
// returns for an id that names no object.
absl::Status ObjectNotExist(absl::string_view id);

class ServantActivator {
 public:
  virtual ~ServantActivator() = default;

  // The servant for object `id`, called on the first call to `id` that finds
  // it not active (on that call's thread). Calls to `id` that arrive
  // meanwhile wait for this one incarnation. An error status answers every
  // call waiting for it and nothing is retained: the next call tries again.
  // Return ObjectNotExist(id) for an id that names no object.
  virtual absl::StatusOr<std::shared_ptr<Servant>> Incarnate(absl::string_view id) = 0;

  // `servant`, incarnated for `id`, has left the active object map for
  // `reason`; no call runs on it and none will. Runs on the adapter's
  // lifecycle thread, or on the thread calling Deactivate()/Shutdown(). With
  // write-back persistence the adapter has saved its state before this.
  virtual void Etherealize(absl::string_view id, std::shared_ptr<Servant> servant,
                           EtherealizeReason reason) {}
};

class ServantLocator {
 public:
  // What PreInvoke() hands out for one call.
  struct Located {
    std::shared_ptr<Servant> servant;
    // Anything PostInvoke() needs to finish the call (e.g. a row lock).
    std::shared_ptr<void> cookie;
  };

  virtual ~ServantLocator() = default;

  // The servant to run operation `method_path` ("/pkg.Service/Method") of
  // object `id`, on the call's thread. An error status answers the call
  // (ObjectNotExist(id) for an unknown id); PostInvoke() is then not called.
  virtual absl::StatusOr<Located> PreInvoke(absl::string_view id,
                                            absl::string_view method_path) = 0;

  // Called exactly once after every successful PreInvoke(), when the
  // operation returned (or failed, or did not exist on the servant), with the
  // call's outcome, before the reply is sent.
  virtual void PostInvoke(absl::string_view id, absl::string_view method_path,
                          const Located& located, const absl::Status& outcome) {}
};

}  // namespace korb

#endif  // KORB_ADAPTER_SERVANT_MANAGER_H_
