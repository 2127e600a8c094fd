#include "adapter/internal/server_call.h"

#include <utility>

#include "adapter/object_server.h"
#include "common/sync.h"
#include "common/wire.h"
#include "skeletons/call_context.h"
#include "skeletons/dispatch.h"

namespace korb::internal {

void ServerCall::Bind(ObjectAdapter* adapter, std::shared_ptr<const ActiveObject> object,
                      std::string id, int method_index, int32_t priority) {
  adapter_ = adapter;
  object_ = std::move(object);
  id_ = std::move(id);
  method_index_ = method_index;
  priority_ = priority;
}

absl::string_view ServerCall::connection() const {
  if (peer_.empty()) peer_ = context_->peer();
  return peer_;
}

void ServerCall::FinishWithError(const absl::Status& status) {
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) {
    context_->AddTrailingMetadata(std::string(kErrorHeader), std::string(ErrorKindName(kind)));
  }
  Complete(ToGrpcStatus(status));
}

void ServerCall::Run() {
  const MethodInfo& method = object_->interface->methods[method_index_];
  CallContext call_context(context_, adapter_, id_, &method);
  Complete(object_->servant->korb_dispatch(method_index_, call_context, request(), reply()));
}

StreamServerCall::StreamServerCall(ObjectServer* server,
                                   grpc::GenericCallbackServerContext* context)
    : ServerCall(context, context->method()), server_(server) {
  HappensBefore(this);  // gRPC runs OnReadDone() on another thread
  StartRead(&request_);
}

void StreamServerCall::OnReadDone(bool ok) {
  HappensAfter(this);
  if (!ok) {
    // The client half-closed or cancelled without sending a request message.
    Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "call carried no request message"));
    return;
  }
  server_->Route(this);
}

void StreamServerCall::OnDone() {
  HappensAfter(this);
  delete this;
}

void StreamServerCall::Complete(const grpc::Status& status) {
  request_.Clear();
  HappensBefore(this);  // gRPC runs OnDone() on another thread
  if (status.ok()) {
    StartWriteAndFinish(&reply_, grpc::WriteOptions(), status);
  } else {
    Finish(status);
  }
}

void UnaryServerCall::Complete(const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = reactor_;
  // Release the servant before gRPC may reuse anything of the call.
  delete this;
  reactor->Finish(status);
}

}  // namespace korb::internal
