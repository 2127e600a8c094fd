// korb::naming::NamingContextImpl: the servant of korb.naming.NamingContext
// (idl/korb/naming.proto) over a NamingBackend. It reads every request as a
// hostile client would send it (names, prefixes, member ids, references,
// TTLs, page sizes and tokens, wait timeouts: names.h), applies the proto's
// defaults and caps, and hands the rest to the backend.
//
// WaitForChanges blocks its thread for up to the request's timeout (at most
// 60 s) or the call's deadline, whichever is sooner, and gives up within
// a second once the call is cancelled; host it under a threading policy with a
// thread per waiting call (naming_service.h does).
//
// Thread-safety: thread-safe; operations may run concurrently.
//
// Usage (naming_service.h's Serve() does this):
//   auto servant = std::make_shared<korb::naming::NamingContextImpl>(backend);
//   ASSIGN_OR_RETURN(korb::Ref ref, adapter->Activate("root", servant));
#ifndef KORB_SERVANTS_NAMING_NAMING_SERVANT_H_
#define KORB_SERVANTS_NAMING_NAMING_SERVANT_H_

#include <memory>

#include "korb/naming.korb.h"
#include "servants/naming/naming_backend.h"

namespace korb::naming {

class NamingContextImpl : public NamingContextServant {
 public:
  // `backend` is shared with whoever else uses it (e.g. a test); not null.
  explicit NamingContextImpl(std::shared_ptr<NamingBackend> backend);

  absl::StatusOr<korb::Empty> Bind(korb::CallContext& context,
                                   const BindRequest& request) override;
  absl::StatusOr<korb::Empty> Rebind(korb::CallContext& context,
                                     const BindRequest& request) override;
  absl::StatusOr<korb::Empty> Unbind(korb::CallContext& context,
                                     const NameRequest& request) override;
  absl::StatusOr<ResolveReply> Resolve(korb::CallContext& context,
                                       const NameRequest& request) override;
  absl::StatusOr<ListReply> List(korb::CallContext& context, const ListRequest& request) override;
  absl::StatusOr<WaitReply> WaitForChanges(korb::CallContext& context,
                                           const WaitRequest& request) override;
  absl::StatusOr<Lease> GrantLease(korb::CallContext& context,
                                   const LeaseRequest& request) override;
  absl::StatusOr<Lease> KeepAlive(korb::CallContext& context, const LeaseId& request) override;
  absl::StatusOr<korb::Empty> RevokeLease(korb::CallContext& context,
                                          const LeaseId& request) override;
  absl::StatusOr<korb::Empty> Join(korb::CallContext& context,
                                   const JoinRequest& request) override;
  absl::StatusOr<korb::Empty> Leave(korb::CallContext& context,
                                    const LeaveRequest& request) override;

 private:
  const std::shared_ptr<NamingBackend> backend_;
};

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_NAMING_SERVANT_H_
