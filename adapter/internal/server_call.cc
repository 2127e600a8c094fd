#include "adapter/internal/server_call.h"

#include <chrono>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include "absl/time/time.h"
#include "adapter/internal/server_impl.h"
#include "common/sync.h"
#include "common/wire.h"
#include "skeletons/dispatch.h"

namespace korb::internal {
namespace {

std::optional<absl::string_view> Find(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, absl::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

GrpcCallBase::GrpcCallBase(ServerImpl* server, grpc::ServerContextBase* context)
    : server_(server), context_(context) {
  server_->CallOpened();
}

std::optional<absl::string_view> GrpcCallBase::Metadata(absl::string_view key) const {
  return Find(context_->client_metadata(), key);
}

std::vector<std::pair<std::string, std::string>> GrpcCallBase::CopyMetadata() const {
  std::vector<std::pair<std::string, std::string>> copy;
  for (const auto& [key, value] : context_->client_metadata()) {
    copy.emplace_back(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  }
  return copy;
}

absl::string_view GrpcCallBase::Peer() const {
  if (peer_.empty()) peer_ = context_->peer();
  return peer_;
}

PeerIdentity GrpcCallBase::Identity() const {
  PeerIdentity identity;
  identity.address = std::string(Peer());
  std::shared_ptr<const grpc::AuthContext> auth = context_->auth_context();
  if (auth == nullptr) return identity;
  auto values = [&auth](const char* property) {
    std::vector<std::string> found;
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      found.emplace_back(value.data(), value.size());
    }
    return found;
  };
  std::vector<std::string> security = values(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  // "tls" from TlsServerCredentials (what ObjectServer uses), "ssl" from
  // SslServerCredentials.
  identity.tls = !security.empty() && (security.front() == "tls" ||
                                       security.front() == GRPC_SSL_TRANSPORT_SECURITY_TYPE);
  // gRPC makes the peer authenticated only when a client certificate was
  // verified; its identity is then the certificate's SANs or common name.
  if (!identity.tls || !auth->IsPeerAuthenticated()) return identity;
  identity.verified = true;
  if (std::vector<std::string> subject = values(GRPC_X509_SUBJECT_PROPERTY_NAME); !subject.empty()) {
    identity.subject = std::move(subject.front());
  }
  if (std::vector<std::string> cn = values(GRPC_X509_CN_PROPERTY_NAME); !cn.empty()) {
    identity.common_name = std::move(cn.front());
  }
  identity.dns_names = values(GRPC_PEER_DNS_PROPERTY_NAME);
  identity.uris = values(GRPC_PEER_URI_PROPERTY_NAME);
  identity.emails = values(GRPC_PEER_EMAIL_PROPERTY_NAME);
  identity.ip_addresses = values(GRPC_PEER_IP_PROPERTY_NAME);
  return identity;
}

void GrpcCallBase::Deliver(absl::string_view method_path, const grpc::ByteBuffer* payload) {
  const auto& metadata = context_->client_metadata();
  Request& request = korb_call_.request;
  request.method_path = method_path;
  request.payload = payload;
  request.object_key = Find(metadata, kObjectKeyHeader);
  request.priority = Find(metadata, kPriorityHeader);
  request.request_id = Find(metadata, kRequestIdHeader);
  const std::chrono::system_clock::time_point deadline = context_->deadline();
  request.deadline = deadline == std::chrono::system_clock::time_point::max()
                         ? absl::InfiniteFuture()
                         : absl::FromChrono(deadline);
  server_->Accept(korb_call_);
}

StreamServerCall::StreamServerCall(ServerImpl* server,
                                   grpc::GenericCallbackServerContext* context)
    : GrpcCallBase(server, context) {
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
  Deliver(static_cast<grpc::GenericCallbackServerContext*>(context_)->method(), &request_);
}

void StreamServerCall::OnDone() {
  HappensAfter(this);
  ServerImpl* server = server_;
  delete this;
  server->CallClosed();
}

void StreamServerCall::Send(const absl::Status& status) {
  request_.Clear();
  HappensBefore(this);  // gRPC runs OnDone() on another thread
  if (status.ok()) {
    StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
  } else {
    Finish(ToGrpcStatus(status));
  }
}

UnaryServerCall::UnaryServerCall(ServerImpl* server, grpc::CallbackServerContext* context,
                                 absl::string_view method_path, const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* reply)
    : GrpcCallBase(server, context),
      method_path_(method_path),
      request_(request),
      reply_(reply) {}

void UnaryServerCall::Send(const absl::Status& status) {
  HappensBefore(this);  // gRPC runs OnDone() on another thread
  Finish(ToGrpcStatus(status));
}

void UnaryServerCall::OnDone() {
  HappensAfter(this);
  ServerImpl* server = server_;
  delete this;
  server->CallClosed();
}

}  // namespace korb::internal
