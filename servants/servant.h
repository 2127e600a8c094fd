// korb::Servant: the base class of every object implementation.
//
// Users do not derive from Servant directly: the IDL compiler emits, for each
// service `S`, a skeleton class `SServant : public korb::Servant` with one
// virtual method per operation; the user derives from that and overrides the
// operations. The adapter owns servants through std::shared_ptr, so a servant
// deactivated while calls are in flight lives until the last of them returns.
//
// Thread-safety: the servant's operations are called on threads chosen by
// the adapter's threading policy, possibly concurrently for one servant (the
// shared pool runs calls to one object in parallel); a servant with mutable
// state must synchronize it, or be activated under a serializing policy.
//
// Usage:
//   class AccountImpl : public bank::AccountServant {
//     absl::StatusOr<bank::Balance> GetBalance(korb::CallContext&,
//                                              const korb::Empty&) override;
//   };
//   adapter->Activate("alice", std::make_shared<AccountImpl>());
#ifndef KORB_SERVANTS_SERVANT_H_
#define KORB_SERVANTS_SERVANT_H_

#include "skeletons/call_context.h"
#include "skeletons/method_table.h"

namespace grpc {
class ByteBuffer;
class Status;
}  // namespace grpc

namespace korb {

class Servant {
 public:
  virtual ~Servant() = default;

  // The interface this servant implements (from the generated skeleton).
  virtual const InterfaceInfo& korb_interface() const = 0;

  // Generated skeleton entry point: decodes `request` for the operation at
  // `method_index` of korb_interface(), calls the operation, and encodes its
  // reply into `reply`. Runs on the threading policy's thread. Returns the
  // status to send; never throws (exceptions from the operation become
  // INTERNAL). Unknown indices return UNIMPLEMENTED.
  virtual grpc::Status korb_dispatch(int method_index, CallContext& context,
                                     const grpc::ByteBuffer& request,
                                     grpc::ByteBuffer* reply) = 0;
};

}  // namespace korb

#endif  // KORB_SERVANTS_SERVANT_H_
