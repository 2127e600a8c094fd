// internal::ServerCall: one unary call on the server, from the arrival of its
// request to its reply, and the PendingCall a threading policy schedules.
//
// Calls arrive by one of two gRPC paths, one subclass each:
//   StreamServerCall  gRPC's generic callback service (any method path); the
//                     call is a bidi reactor that reads one request message.
//   UnaryServerCall   a registered unary method of an interface listed in
//                     ObjectServerOptions::interfaces (cheaper per call).
// Both are routed the same way: ObjectServer::Route() and
// ObjectAdapter::Dispatch() either finish the call with an error or Bind() it
// to a servant and hand it to the threading policy, which calls Run() or
// Reject() once. The call keeps its target's active object entry (and so the
// servant) alive from Bind() until it is destroyed.
//
// Thread-safety: each method is called by one party at a time, in the order
// above; no internal locking.
#ifndef KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
#define KORB_ADAPTER_INTERNAL_SERVER_CALL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/metrics.h"
#include "adapter/reply_cache.h"
#include "adapter/internal/active_object.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"
#include "servants/servant.h"
#include "skeletons/method_table.h"

namespace korb {

class ObjectAdapter;
class ObjectServer;

namespace internal {

class ServerCall : public PendingCall, public CallHooks {
 public:
  grpc::ServerContextBase* context() const { return context_; }
  // "/package.Service/Method"
  absl::string_view method_path() const { return method_path_; }

  // The call has reached `adapter`, which will answer it (for metrics).
  void set_adapter(ObjectAdapter* adapter) { adapter_ = adapter; }
  ObjectAdapter* adapter() const { return adapter_; }
  // Names the call's target: operation `method_index` (-1: resolved when the
  // servant is known, as for objects still to be incarnated) of `object`.
  // From now on the adapter counts the call as in flight until it is
  // answered.
  void Bind(std::shared_ptr<ActiveObject> object, absl::string_view id, int method_index,
            int32_t priority);
  ActiveObject& target() const { return *object_; }
  // The id the call names (a default servant's entry serves many).
  absl::string_view object_id() const;
  int method_index() const { return method_index_; }

  // Runs operation `method_index` of `interface` on `servant` for this call
  // (the adapter calls this from Run(), through ObjectAdapter::Invoke()).
  grpc::Status InvokeServant(Servant& servant, const InterfaceInfo& interface, int method_index);
  // The operation ran but its effect was undone (a failed write-through
  // save): a retry may run it again, so its reply is not cached.
  void ForgetExecution() { executed_ = false; }

  // The call claimed korb-request-id `request_id` for object `id` in the
  // adapter's reply cache; its answer completes (or abandons) the claim.
  void set_request_id(absl::string_view id, absl::string_view request_id) {
    cache_object_ = std::string(id);
    request_id_ = std::string(request_id);
  }
  // Answers with a reply cached for an earlier execution of this request.
  void AnswerCached(const CachedReply& reply);

  // Replies with `status` (not OK); its korb::ErrorKind, if any, becomes the
  // korb-error trailer. The call may be destroyed when this returns.
  void FinishWithError(const absl::Status& status);
  // The gRPC status to answer with for `status` (not OK), its korb::ErrorKind
  // added as the korb-error trailer.
  grpc::Status Failure(const absl::Status& status);

  // PendingCall: runs the bound operation and replies; a call cancelled or
  // past its deadline while it waited is answered CANCELLED or
  // DEADLINE_EXCEEDED without running. The call may be destroyed when these
  // return.
  void Run() override;
  void Reject(const absl::Status& status) override { FinishWithError(status); }
  int32_t priority() const override { return priority_; }
  const void* object() const override { return object_.get(); }
  absl::string_view connection() const override;

  // CallHooks:
  void SetCancelCallback(std::function<void()> callback) override;
  void RequestUndecodable() override { executed_ = false; }

 protected:
  ServerCall(grpc::ServerContextBase* context, absl::string_view method_path)
      : context_(context), method_path_(method_path) {}
  ~ServerCall() override = default;

  virtual const grpc::ByteBuffer& request() const = 0;
  virtual grpc::ByteBuffer* reply() = 0;
  // Sends `status`, with the reply message if it is OK.
  virtual void Complete(const grpc::Status& status) = 0;
  // gRPC reports the call cancelled: runs the servant's cancel callback.
  void Cancelled();

 private:
  // Accounts the answer with the adapter, then Complete()s.
  // With `deliver` false the caller gets UNAVAILABLE instead (fault
  // injection), after the reply cache kept `status`.
  void Answer(const grpc::Status& status, bool deliver = true);

  grpc::ServerContextBase* const context_;
  const absl::string_view method_path_;
  ObjectAdapter* adapter_ = nullptr;
  std::shared_ptr<ActiveObject> object_;
  std::string default_servant_id_;  // object_id() of calls to a default servant
  // Reply cache claim, if the call carried korb-request-id.
  std::string cache_object_;
  std::string request_id_;
  bool executed_ = false;         // the servant's operation ran
  std::string error_kind_;        // the korb-error trailer sent, if any
  int method_index_ = -1;
  int32_t priority_ = 0;
  bool bound_ = false;
  const absl::Time arrival_ = absl::Now();
  mutable std::string peer_;  // computed on first use by connection()
  Mutex cancel_mu_;
  bool cancelled_ ABSL_GUARDED_BY(cancel_mu_) = false;
  bool running_ ABSL_GUARDED_BY(cancel_mu_) = false;
  // Set once bound to an adapter: where a cancellation is counted.
  MetricsRecorder* cancel_metrics_ ABSL_GUARDED_BY(cancel_mu_) = nullptr;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(cancel_mu_);
};

// A call through the generic service: reads its one request message, then
// routes itself. Deletes itself when gRPC reports OnDone().
class StreamServerCall final : public grpc::ServerGenericBidiReactor, public ServerCall {
 public:
  StreamServerCall(ObjectServer* server, grpc::GenericCallbackServerContext* context);

 private:
  void OnReadDone(bool ok) override;
  void OnCancel() override { Cancelled(); }
  void OnDone() override;
  const grpc::ByteBuffer& request() const override { return request_; }
  grpc::ByteBuffer* reply() override { return &reply_; }
  void Complete(const grpc::Status& status) override;

  ObjectServer* const server_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
};

// A call through a registered unary method; it is the call's reactor. gRPC
// owns the messages. Deletes itself when gRPC reports OnDone().
class UnaryServerCall final : public grpc::ServerUnaryReactor, public ServerCall {
 public:
  UnaryServerCall(ObjectServer* server, grpc::CallbackServerContext* context,
                  absl::string_view method_path, const grpc::ByteBuffer* request,
                  grpc::ByteBuffer* reply);

 private:
  const grpc::ByteBuffer& request() const override { return *request_; }
  grpc::ByteBuffer* reply() override { return reply_; }
  void Complete(const grpc::Status& status) override;
  void OnCancel() override { Cancelled(); }
  void OnDone() override;

  ObjectServer* const server_;
  const grpc::ByteBuffer* const request_;
  grpc::ByteBuffer* const reply_;
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
