// internal::ServerCall: one unary call on the server, from the arrival of its
// request to its reply. It is the gRPC reactor of the call (reads the one
// request message, writes the reply) and the PendingCall a threading policy
// schedules.
//
// Lifecycle: created by the router for each incoming call; reads the request;
// ObjectServer::Route() and ObjectAdapter::Dispatch() either finish it with
// an error or Bind() it to a servant and hand it to the threading policy,
// which calls Run() or Reject() once. Deletes itself when gRPC reports
// OnDone(). Keeps the target's active object entry (and so its servant) alive
// from Bind() until it is deleted.
//
// Thread-safety: each method is called by one party at a time, in the order
// above; no internal locking.
#ifndef KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
#define KORB_ADAPTER_INTERNAL_SERVER_CALL_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "adapter/threading_policy.h"
#include "servants/servant.h"
#include "skeletons/method_table.h"

namespace korb {

class ObjectAdapter;
class ObjectServer;

namespace internal {

// An entry of an adapter's active object map; shared by the map and by the
// calls running on it.
struct ActiveObject {
  std::shared_ptr<Servant> servant;
  const InterfaceInfo* interface;
};

class ServerCall final : public grpc::ServerGenericBidiReactor, public PendingCall {
 public:
  ServerCall(ObjectServer* server, grpc::GenericCallbackServerContext* context);

  grpc::GenericCallbackServerContext* context() const { return context_; }
  // "/package.Service/Method"
  const std::string& method_path() const { return context_->method(); }

  // Names the call's target: `object`'s servant runs operation
  // `method_index` for object `id` of `adapter`.
  void Bind(ObjectAdapter* adapter, std::shared_ptr<const ActiveObject> object,
            std::string id, int method_index, int32_t priority);

  // Replies with `status` (not OK); its korb::ErrorKind, if any, becomes the
  // korb-error trailer.
  void FinishWithError(const absl::Status& status);

  // PendingCall:
  void Run() override;
  void Reject(const absl::Status& status) override { FinishWithError(status); }
  int32_t priority() const override { return priority_; }
  const void* object() const override { return object_.get(); }

 private:
  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

  ObjectServer* const server_;
  grpc::GenericCallbackServerContext* const context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  ObjectAdapter* adapter_ = nullptr;
  std::shared_ptr<const ActiveObject> object_;
  std::string id_;
  int method_index_ = -1;
  int32_t priority_ = 0;
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
