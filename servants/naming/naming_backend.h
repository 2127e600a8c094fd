// korb::naming::NamingBackend: where the naming service keeps its directory.
// The NamingContext servant (naming_servant.h) validates every request and
// calls one of these; two implementations exist: MemoryBackend (one process,
// the default of `korb-naming`) and EtcdBackend (etcd v3; korb-naming
// servers then hold no state and several may share one etcd).
//
// The contract is idl/korb/naming.proto's, restated per method below.
// Inputs are validated by the caller (names.h): names, prefixes, member ids,
// references and TTLs arrive well formed. Errors:
//   NOT_FOUND + name-not-bound   the name has no member (Resolve, Unbind)
//   NOT_FOUND                    unknown lease (KeepAlive, Join)
//   ALREADY_EXISTS               Bind over a name with members
//   INVALID_ARGUMENT             Join that does not fit the name's members
//   RESOURCE_EXHAUSTED           a documented bound of the backend is reached
//   UNAVAILABLE + transient      the store cannot be reached (etcd)
//
// Thread-safety: implementations are thread-safe; every method may be
// called concurrently, and WaitForChanges blocks only its caller.
//
// Usage:
//   std::shared_ptr<korb::naming::NamingBackend> backend =
//       std::make_shared<korb::naming::MemoryBackend>();
//   RETURN_IF_ERROR(backend->Rebind("bank", ref.ToProto()));
//   ASSIGN_OR_RETURN(korb::naming::Binding binding, backend->Get("bank"));
#ifndef KORB_SERVANTS_NAMING_NAMING_BACKEND_H_
#define KORB_SERVANTS_NAMING_NAMING_BACKEND_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "korb/naming.pb.h"

namespace korb::naming {

// What a WaitForChanges caller asks for, already validated and defaulted.
struct WaitParams {
  std::string prefix;          // whole-component prefix; "" for every name
  int64_t after_revision = 0;  // 0: from the current revision on
  absl::Time deadline;         // return an empty reply at this time
  // Polled while waiting (at least every second): true ends the wait with
  // CANCELLED. May be empty. Called on the waiting thread.
  std::function<bool()> cancelled;
};

class NamingBackend {
 public:
  virtual ~NamingBackend() = default;

  // Binds `ref` as the permanent member ("" member id, no lease) of `name`.
  // ALREADY_EXISTS if the name has any member.
  virtual absl::Status Bind(const std::string& name, const korb::ObjectRef& ref) = 0;
  // Same, replacing every member the name had.
  virtual absl::Status Rebind(const std::string& name, const korb::ObjectRef& ref) = 0;
  // Removes the name and all its members; NOT_FOUND (name-not-bound) if it
  // has none.
  virtual absl::Status Unbind(const std::string& name) = 0;
  // The name's members in member_id order; NOT_FOUND (name-not-bound) if it
  // has none.
  virtual absl::StatusOr<Binding> Get(const std::string& name) = 0;
  // Up to `page_size` (1..kMaxPageSize) bindings under `prefix`, in name
  // order, after the name `page_token` ("" for the first page, else a
  // next_page_token this backend returned).
  virtual absl::StatusOr<ListReply> List(const std::string& prefix, int page_size,
                                         const std::string& page_token) = 0;
  // The changes to names under the prefix with a revision greater than
  // `after_revision`, waiting until there is at least one or the deadline
  // passes (then an empty reply). The reply's revision is where to wait
  // next; history_lost if changes after `after_revision` are no longer
  // known.
  virtual absl::StatusOr<WaitReply> WaitForChanges(const WaitParams& params) = 0;

  // A lease of `ttl_seconds` (1..3600; 0 for the backend's default).
  virtual absl::StatusOr<Lease> GrantLease(int32_t ttl_seconds) = 0;
  // Renews a lease for its TTL; NOT_FOUND if it expired or was revoked.
  virtual absl::StatusOr<Lease> KeepAlive(int64_t lease) = 0;
  // Ends a lease and removes its members. OK if it no longer exists.
  virtual absl::Status RevokeLease(int64_t lease) = 0;
  // Adds or replaces member `member_id` of `name`, held by `lease` (0: until
  // Leave). INVALID_ARGUMENT if the name is bound permanently or its
  // members' adapter, id or type differ from `ref`'s; NOT_FOUND if the lease
  // does not exist.
  virtual absl::Status Join(const std::string& name, const korb::ObjectRef& ref,
                            const std::string& member_id, int64_t lease) = 0;
  // Removes one member; OK if it was not there.
  virtual absl::Status Leave(const std::string& name, const std::string& member_id) = 0;
};

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_NAMING_BACKEND_H_
