#include "adapter/internal/server_call.h"

#include <chrono>
#include <utility>

#include "adapter/object_adapter.h"
#include "adapter/object_server.h"
#include "common/sync.h"
#include "common/wire.h"
#include "skeletons/call_context.h"
#include "skeletons/dispatch.h"

namespace korb::internal {

absl::string_view ServerCall::connection() const {
  if (peer_.empty()) peer_ = context_->peer();
  return peer_;
}

void ServerCall::Bind(std::shared_ptr<ActiveObject> object, absl::string_view id,
                      int method_index, int32_t priority) {
  object_ = std::move(object);
  // Other entries serve one id, which they keep; no copy per call.
  if (object_->origin == ActiveObject::Origin::kDefault) default_servant_id_ = std::string(id);
  method_index_ = method_index;
  priority_ = priority;
  bound_ = true;
  MutexLock lock(&cancel_mu_);
  cancel_metrics_ = &adapter_->metrics_recorder();
}

absl::string_view ServerCall::object_id() const {
  return object_->origin == ActiveObject::Origin::kDefault ? default_servant_id_ : object_->id;
}

grpc::Status ServerCall::Failure(const absl::Status& status) {
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) {
    error_kind_ = std::string(ErrorKindName(kind));
    context_->AddTrailingMetadata(std::string(kErrorHeader), error_kind_);
  }
  return ToGrpcStatus(status);
}

void ServerCall::FinishWithError(const absl::Status& status) { Answer(Failure(status)); }

void ServerCall::AnswerCached(const CachedReply& reply) {
  if (!reply.error_kind.empty()) {
    context_->AddTrailingMetadata(std::string(kErrorHeader), reply.error_kind);
  }
  if (reply.code == grpc::StatusCode::OK) *this->reply() = reply.body;
  Answer(grpc::Status(reply.code, reply.message));
}

void ServerCall::Answer(const grpc::Status& status, bool deliver) {
  if (!request_id_.empty()) {
    ReplyCache& cache = adapter_->reply_cache();
    if (executed_) {
      CachedReply cached;
      cached.code = status.error_code();
      cached.message = status.error_message();
      cached.error_kind = error_kind_;
      if (status.ok()) cached.body = *reply();
      cache.Complete(cache_object_, request_id_, std::move(cached));
    } else {
      cache.Abandon(cache_object_, request_id_);
    }
    request_id_.clear();
  }
  if (adapter_ != nullptr) {
    int load =
        adapter_->CallAnswered(absl::Now() - arrival_, status.ok(), bound_ ? object_ : nullptr);
    context_->AddTrailingMetadata(std::string(kLoadTrailer), std::to_string(load));
  }
  if (!deliver) {
    Complete(grpc::Status(grpc::StatusCode::UNAVAILABLE, "reply dropped by fault injection"));
    return;
  }
  Complete(status);
}

void ServerCall::Run() {
  // A call whose caller gave up while it waited for a thread is dropped
  // without running the servant.
  bool cancelled;
  {
    MutexLock lock(&cancel_mu_);
    cancelled = cancelled_;
  }
  if (cancelled || context_->IsCancelled()) {
    Answer(grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled while queued"));
    return;
  }
  if (context_->deadline() <= std::chrono::system_clock::now()) {
    Answer(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline passed while queued"));
    return;
  }
  grpc::Status status = adapter_->Invoke(this);
  if (executed_ && adapter_->DropReplyForTesting(object_id(), method_path())) {
    // Keep the real reply for a retry, then lose it on the way out.
    Answer(status, /*deliver=*/false);
    return;
  }
  Answer(status);
}

grpc::Status ServerCall::InvokeServant(Servant& servant, const InterfaceInfo& interface,
                                       int method_index) {
  const MethodInfo& method = interface.methods[method_index];
  CallContext call_context(context_, adapter_, object_id(), &method, this);
  {
    MutexLock lock(&cancel_mu_);
    running_ = true;
  }
  MetricsRecorder& metrics = adapter_->metrics_recorder();
  executed_ = true;
  metrics.CallStarted();
  grpc::Status status = servant.korb_dispatch(method_index, call_context, request(), reply());
  metrics.CallEnded();
  {
    MutexLock lock(&cancel_mu_);
    running_ = false;
    on_cancel_ = nullptr;
  }
  return status;
}

void ServerCall::SetCancelCallback(std::function<void()> callback) {
  {
    MutexLock lock(&cancel_mu_);
    if (!cancelled_) {
      on_cancel_ = std::move(callback);
      return;
    }
  }
  callback();
}

void ServerCall::Cancelled() {
  std::function<void()> callback;
  MetricsRecorder* metrics;
  {
    MutexLock lock(&cancel_mu_);
    metrics = cancelled_ ? nullptr : cancel_metrics_;
    cancelled_ = true;
    if (running_) callback = std::move(on_cancel_);
    on_cancel_ = nullptr;
  }
  if (metrics != nullptr) metrics->CallCancelled();
  if (callback) callback();
}

StreamServerCall::StreamServerCall(ObjectServer* server,
                                   grpc::GenericCallbackServerContext* context)
    : ServerCall(context, context->method()), server_(server) {
  server_->CallOpened();
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
  ObjectServer* server = server_;
  delete this;
  server->CallClosed();
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
  HappensBefore(this);  // gRPC runs OnDone() on another thread
  Finish(status);
}

UnaryServerCall::UnaryServerCall(ObjectServer* server, grpc::CallbackServerContext* context,
                                 absl::string_view method_path, const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* reply)
    : ServerCall(context, method_path), server_(server), request_(request), reply_(reply) {
  server_->CallOpened();
}

void UnaryServerCall::OnDone() {
  HappensAfter(this);
  ObjectServer* server = server_;
  delete this;
  server->CallClosed();
}

}  // namespace korb::internal
