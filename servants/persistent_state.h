// korb::PersistentState: the mixin a servant derives from (besides its
// generated skeleton) to have an object adapter keep its state in a
// StateStore.
//
// With AdapterOptions::persistence set, for every servant a ServantActivator
// incarnates that is a PersistentState:
//   - on incarnation the adapter loads the state saved for the object id and
//     hands it to LoadState() (a servant with no saved state starts fresh);
//   - kWriteThrough: after every operation that is not `readonly` in the IDL
//     and returned OK, the adapter saves SaveState() before the reply is
//     sent; a caller that saw the reply knows the change is durable;
//   - kWriteBack: the adapter saves SaveState() when the object is
//     etherealized (evicted, deactivated, adapter shutdown); a crash loses
//     what changed since the object was incarnated.
// See docs/persistence.md for the trade-off.
//
// Thread-safety: SaveState() may run while other operations of the servant
// run (under the shared pool); it must return a consistent snapshot, e.g.
// by taking the lock the operations take. The adapter serializes saves of
// one object, so a later save never writes an older snapshot.
//
// Usage:
//   class AccountImpl : public bank::AccountServant, public korb::PersistentState {
//     absl::Status LoadState(absl::string_view state) override { ... parse ... }
//     std::string SaveState() const override { ... serialize ... }
//   };
#ifndef KORB_SERVANTS_PERSISTENT_STATE_H_
#define KORB_SERVANTS_PERSISTENT_STATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace korb {

class PersistentState {
 public:
  virtual ~PersistentState() = default;

  // Restores the state a previous SaveState() returned. An error fails the
  // incarnation (and so every call waiting for it).
  virtual absl::Status LoadState(absl::string_view state) = 0;

  // The servant's current state, to be stored.
  virtual std::string SaveState() const = 0;
};

// How an adapter keeps PersistentState servants' state.
enum class PersistenceMode {
  kWriteThrough,  // save after each non-readonly operation, before its reply
  kWriteBack,     // save when the object is etherealized
};

}  // namespace korb

#endif  // KORB_SERVANTS_PERSISTENT_STATE_H_
