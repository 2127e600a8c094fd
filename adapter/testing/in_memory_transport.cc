#include "adapter/testing/in_memory_transport.h"

#include <utility>

#include <grpcpp/support/byte_buffer.h>

#include "adapter/internal/call.h"
#include "adapter/internal/request.h"
#include "adapter/internal/server_impl.h"
#include "common/sync.h"
#include "common/wire.h"

namespace korb::testing {

// The transport's side of one call: the recorded request it delivers and
// the reply it records.
class InMemoryCall::Impl final : public internal::Inbound, public internal::Responder {
 public:
  explicit Impl(InMemoryRequest request) : request_(std::move(request)) {
    grpc::Slice slice(request_.payload);
    payload_ = grpc::ByteBuffer(&slice, 1);
  }

  void Deliver(internal::ServerImpl& server, std::shared_ptr<Impl> self) {
    {
      MutexLock lock(&mu_);
      self_ = std::move(self);  // until Send()
    }
    internal::Request& request = call_.request;
    request.method_path = request_.method_path;
    if (request_.object_key.has_value()) request.object_key = *request_.object_key;
    request.priority = Metadata(kPriorityHeader);
    request.request_id = Metadata(kRequestIdHeader);
    request.deadline = request_.deadline;
    request.payload = &payload_;
    server.CallOpened();
    server_ = &server;
    server.Accept(call_);
  }

  void Cancel() {
    {
      MutexLock lock(&mu_);
      if (cancelled_ || answered_) return;
      cancelled_ = true;
    }
    call_.Cancelled();
  }

  bool Wait(absl::Duration timeout) const {
    MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return answered_; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }
  bool answered() const {
    MutexLock lock(&mu_);
    return answered_;
  }
  const InMemoryReply& reply() const { return reply_; }
  int answers() const {
    MutexLock lock(&mu_);
    return answers_;
  }

  // Inbound:
  std::optional<absl::string_view> Metadata(absl::string_view key) const override {
    for (const auto& [name, value] : request_.metadata) {
      if (name == key) return value;
    }
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> CopyMetadata() const override {
    return request_.metadata;
  }
  absl::string_view Peer() const override { return request_.peer; }
  PeerIdentity Identity() const override {
    PeerIdentity identity = request_.identity;
    if (identity.address.empty()) identity.address = request_.peer;
    return identity;
  }
  bool IsCancelled() const override {
    MutexLock lock(&mu_);
    return cancelled_;
  }

  // Responder:
  void AddTrailer(absl::string_view key, absl::string_view value) override {
    reply_.trailers.insert_or_assign(std::string(key), std::string(value));
  }
  grpc::ByteBuffer* body() override { return &body_; }
  void Send(const absl::Status& status) override {
    {
      MutexLock lock(&mu_);
      // A second answer leaves the first one recorded.
      if (++answers_ > 1) return;
    }
    reply_.status = status;
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      if (body_.Dump(&slices).ok()) {
        for (const grpc::Slice& slice : slices) {
          reply_.body.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
    }
    std::shared_ptr<Impl> self;
    internal::ServerImpl* server = server_;
    {
      MutexLock lock(&mu_);
      answered_ = true;
      self = std::move(self_);
    }
    server->CallClosed();
    // `self` may be the last reference: nothing of this object is used after.
  }

 private:
  const InMemoryRequest request_;
  grpc::ByteBuffer payload_;
  grpc::ByteBuffer body_;
  internal::Call call_{this, this};
  internal::ServerImpl* server_ = nullptr;
  InMemoryReply reply_;  // written before answered_, read after
  mutable Mutex mu_;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  int answers_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<Impl> self_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<ObjectServer> StartInMemoryServer(absl::Duration startup_window,
                                                  size_t max_request_bytes_in_flight) {
  return internal::ServerImpl::StartWithoutNetwork({HostPort{"in-memory", 1}}, startup_window,
                                                   max_request_bytes_in_flight);
}

std::string InMemoryReply::korb_error() const {
  auto it = trailers.find(std::string(kErrorHeader));
  return it == trailers.end() ? std::string() : it->second;
}

std::shared_ptr<InMemoryCall> InMemoryCall::Start(ObjectServer& server, InMemoryRequest request) {
  auto impl = std::make_shared<Impl>(std::move(request));
  auto call = std::make_shared<InMemoryCall>(impl);
  // Every ObjectServer is a ServerImpl.
  impl->Deliver(static_cast<internal::ServerImpl&>(server), impl);
  return call;
}

void InMemoryCall::Cancel() { impl_->Cancel(); }
bool InMemoryCall::Wait(absl::Duration timeout) const { return impl_->Wait(timeout); }
bool InMemoryCall::answered() const { return impl_->answered(); }
int InMemoryCall::answers() const { return impl_->answers(); }
const InMemoryReply& InMemoryCall::reply() const { return impl_->reply(); }

}  // namespace korb::testing
