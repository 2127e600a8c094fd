// korb::StateStore: durable key -> bytes storage for the state of persistent
// servants, one key per object id.
//
// Keys are opaque byte strings (an object id may hold '/', any UTF-8, even
// bytes that are not UTF-8) with one exception: a key must not contain a NUL
// byte ('\0'). Every operation given such a key returns INVALID_ARGUMENT
// without touching the store (ValidateStateKey()). The reason is SQLite, which
// leaves the behaviour of TEXT values with embedded NULs undefined; the rule
// holds for every implementation so that code tested against
// MemoryStateStore behaves the same against SqliteStateStore. The empty key is
// a valid key. States are arbitrary bytes, NULs included, and may be empty.
//
// Implementations: MemoryStateStore (in memory, for tests and transient
// use) and SqliteStateStore (a SQLite database file, durable).
//
// Thread-safety: implementations are thread-safe; each call is atomic with
// respect to the others (a Load sees all or nothing of a concurrent SaveAll).
//
// Usage:
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::StateStore> store,
//                    korb::SqliteStateStore::Open("/var/lib/bank/state.db"));
//   RETURN_IF_ERROR(store->Save("alice", account.SerializeAsString()));
//   absl::StatusOr<std::string> state = store->Load("alice");
//   if (absl::IsNotFound(state.status())) { /* a new object */ }
#ifndef KORB_SERVANTS_STATE_STORE_H_
#define KORB_SERVANTS_STATE_STORE_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace korb {

// Durable key -> bytes storage for servant state, one key per object id.
// Thread-safety: implementations are thread-safe.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // The state saved for `key`; NOT_FOUND if none.
  virtual absl::StatusOr<std::string> Load(absl::string_view key) = 0;

  // Whether state exists for `key` (cheaper than Load for existence checks).
  virtual absl::StatusOr<bool> Contains(absl::string_view key) = 0;

  // Saves `state` for `key`, replacing what was there; durable when it
  // returns OK (for SQLite: committed, to the degree its `synchronous`
  // option promises). On error nothing changed.
  virtual absl::Status Save(absl::string_view key, absl::string_view state) = 0;

  // Saves several keys atomically: on OK all of them are saved, on error
  // none is. A key listed twice ends up with its last state. An empty span
  // is OK and changes nothing.
  virtual absl::Status SaveAll(
      absl::Span<const std::pair<std::string, std::string>> entries) = 0;

  // Removes `key`; OK if it did not exist.
  virtual absl::Status Erase(absl::string_view key) = 0;

  // Number of keys stored.
  virtual absl::StatusOr<size_t> Size() = 0;
};

// OK if `key` may be used as a StateStore key (it has no NUL byte), else
// INVALID_ARGUMENT naming the offset of the first NUL. Implementations call it
// on every key they are given.
absl::Status ValidateStateKey(absl::string_view key);

}  // namespace korb

#endif  // KORB_SERVANTS_STATE_STORE_H_
