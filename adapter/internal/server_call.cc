#include "adapter/internal/server_call.h"

#include <utility>

#include "adapter/object_server.h"
#include "common/wire.h"
#include "skeletons/call_context.h"
#include "skeletons/dispatch.h"

namespace korb::internal {

ServerCall::ServerCall(ObjectServer* server, grpc::GenericCallbackServerContext* context)
    : server_(server), context_(context) {
  StartRead(&request_);
}

void ServerCall::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed or cancelled without sending a request message.
    Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "call carried no request message"));
    return;
  }
  server_->Route(this);
}

void ServerCall::Bind(ObjectAdapter* adapter, std::shared_ptr<const ActiveObject> object,
                      std::string id, int method_index, int32_t priority) {
  adapter_ = adapter;
  object_ = std::move(object);
  id_ = std::move(id);
  method_index_ = method_index;
  priority_ = priority;
}

void ServerCall::FinishWithError(const absl::Status& status) {
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) {
    context_->AddTrailingMetadata(std::string(kErrorHeader),
                                  std::string(ErrorKindName(kind)));
  }
  Finish(ToGrpcStatus(status));
}

void ServerCall::Run() {
  const MethodInfo& method = object_->interface->methods[method_index_];
  CallContext call_context(context_, adapter_, id_, &method);
  grpc::Status status =
      object_->servant->korb_dispatch(method_index_, call_context, request_, &reply_);
  request_.Clear();
  if (status.ok()) {
    StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
  } else {
    Finish(status);
  }
}

}  // namespace korb::internal
