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
// operation. Calls run under the adapter's threading policy.
//
// Lifetime: created and owned by its ObjectServer (CreateAdapter); pointers
// stay valid until the server is destroyed.
//
// Thread-safety: thread-safe. Activation and deactivation may race with
// calls and with each other.
//
// Usage:
//   ASSIGN_OR_RETURN(korb::ObjectAdapter* adapter, server->CreateAdapter("bank"));
//   ASSIGN_OR_RETURN(korb::Ref ref,
//                    adapter->Activate("main", std::make_shared<BankImpl>()));
//   RETURN_IF_ERROR(adapter->SetDefaultObject("main"));  // for plain gRPC clients
//   std::cout << ref << "\n";   // korb://127.0.0.1:7000/bank/main?type=bank.Bank
#ifndef KORB_ADAPTER_OBJECT_ADAPTER_H_
#define KORB_ADAPTER_OBJECT_ADAPTER_H_

#include <cstddef>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sync.h"
#include "adapter/threading_policy.h"
#include "common/ref.h"
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
};

class ObjectAdapter {
 public:
  ObjectAdapter(const ObjectAdapter&) = delete;
  ObjectAdapter& operator=(const ObjectAdapter&) = delete;
  ~ObjectAdapter();

  const std::string& name() const { return name_; }
  ObjectServer& server() const { return *server_; }

  // Activates `servant` as object `id` and returns its reference.
  // INVALID_ARGUMENT for an empty id or null servant; ALREADY_EXISTS if `id`
  // is active; FAILED_PRECONDITION after the adapter was shut down.
  absl::StatusOr<Ref> Activate(std::string id, std::shared_ptr<Servant> servant)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Same with a system-assigned id, unique within this adapter.
  absl::StatusOr<Ref> Activate(std::shared_ptr<Servant> servant) ABSL_LOCKS_EXCLUDED(mu_);

  // Removes `id` from the active object map. New calls to it get NOT_FOUND
  // (object-not-exist); calls already running finish normally, and the
  // servant is destroyed after the last of them. NOT_FOUND if not active.
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
  // The adapter's threading policy.
  ThreadingPolicy& threading_policy() const { return *policy_; }

  // Runtime side: routes a received call to object `id` (method already
  // known to be `call`'s path). Replies with an error itself when the object
  // or method does not exist.
  void Dispatch(internal::ServerCall* call, absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the adapter: new calls get UNAVAILABLE (transient), queued calls
  // are rejected, running calls finish, then every servant is released.
  // Idempotent. Called by the server on shutdown.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class ObjectServer;
  ObjectAdapter(ObjectServer* server, std::string name,
                std::unique_ptr<ThreadingPolicy> policy);

  ObjectServer* const server_;
  const std::string name_;
  const std::unique_ptr<ThreadingPolicy> policy_;
  mutable korb::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const internal::ActiveObject>> objects_
      ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace korb

#endif  // KORB_ADAPTER_OBJECT_ADAPTER_H_
