// The gRPC transport of the object server: each call's gRPC reactor adapts
// gRPC to the request pipeline's neutral interface (request.h) and does
// nothing else. It finds the call's headers in the client metadata, fills
// its internal::Call's Request, hands the call to ServerImpl::Accept(), and
// carries out the pipeline's Responder::Send() as gRPC's Finish().
//
// Calls arrive by one of two gRPC paths, one reactor each:
//   StreamServerCall  gRPC's generic callback service (any method path); the
//                     call is a bidi reactor that reads one request message.
//   UnaryServerCall   a registered unary method of an interface listed in
//                     ObjectServerOptions::interfaces (cheaper per call).
// Each deletes itself when gRPC reports OnDone().
//
// Thread-safety: gRPC calls each reactor method once, in order; the
// pipeline uses the Responder once Accept() has been called.
#ifndef KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
#define KORB_ADAPTER_INTERNAL_SERVER_CALL_H_

#include <optional>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapter/internal/call.h"
#include "adapter/internal/request.h"

namespace korb::internal {

class ServerImpl;

// What both gRPC paths share: reading the headers, the Inbound side, and
// trailers into the gRPC context.
class GrpcCallBase : public Inbound, public Responder {
 public:
  // Inbound:
  std::optional<absl::string_view> Metadata(absl::string_view key) const override;
  std::vector<std::pair<std::string, std::string>> CopyMetadata() const override;
  absl::string_view Peer() const override;
  PeerIdentity Identity() const override;
  bool IsCancelled() const override { return context_->IsCancelled(); }
  grpc::ServerContextBase* grpc_context() const override { return context_; }
  // Responder (but Send()):
  void AddTrailer(absl::string_view key, absl::string_view value) override {
    context_->AddTrailingMetadata(std::string(key), std::string(value));
  }

 protected:
  GrpcCallBase(ServerImpl* server, grpc::ServerContextBase* context);
  ~GrpcCallBase() = default;

  // Fills the call's Request from gRPC's metadata and hands it to the
  // pipeline.
  void Deliver(absl::string_view method_path, const grpc::ByteBuffer* payload);

  ServerImpl* const server_;
  grpc::ServerContextBase* const context_;
  Call korb_call_{this, this};

 private:
  mutable std::string peer_;  // computed on first use by Peer()
};

// A call through the generic service: reads its one request message, then
// delivers itself.
class StreamServerCall final : public grpc::ServerGenericBidiReactor, public GrpcCallBase {
 public:
  StreamServerCall(ServerImpl* server, grpc::GenericCallbackServerContext* context);

  grpc::ByteBuffer* body() override { return &reply_; }
  void Send(const absl::Status& status) override;

 private:
  void OnReadDone(bool ok) override;
  void OnCancel() override { korb_call_.Cancelled(); }
  void OnDone() override;

  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
};

// A call through a registered unary method; it is the call's reactor. gRPC
// owns the messages.
class UnaryServerCall final : public grpc::ServerUnaryReactor, public GrpcCallBase {
 public:
  UnaryServerCall(ServerImpl* server, grpc::CallbackServerContext* context,
                  absl::string_view method_path, const grpc::ByteBuffer* request,
                  grpc::ByteBuffer* reply);
  // Delivers the call to the pipeline.
  void Start() { Deliver(method_path_, request_); }

  grpc::ByteBuffer* body() override { return reply_; }
  void Send(const absl::Status& status) override;

 private:
  void OnCancel() override { korb_call_.Cancelled(); }
  void OnDone() override;

  const absl::string_view method_path_;
  const grpc::ByteBuffer* const request_;
  grpc::ByteBuffer* const reply_;
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_SERVER_CALL_H_
