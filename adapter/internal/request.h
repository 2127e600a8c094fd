// The transport-neutral face of a call, as the request pipeline sees it
// (docs/architecture.md):
//   internal::Request    the headers a transport found once (object key,
//                        method path, priority, request id, deadline) and the
//                        payload;
//   internal::Inbound    what a servant may still ask of the transport while
//                        it runs (other metadata, the peer, cancellation);
//   internal::Responder  the way back: trailers, the reply body, the status.
// A transport (the gRPC reactors in server_call.h, the in-memory transport
// of adapter/testing/in_memory_transport.h) implements Inbound and Responder,
// fills a Request and hands an internal::Call (call.h) to
// ServerImpl::Accept(). Nothing here names gRPC but the payload type: the
// skeletons decode from and encode into grpc::ByteBuffer, which keeps the
// gRPC path free of copies (a ByteBuffer holds the received slices).
//
// Thread-safety: a transport's implementation is used by one party at a time
// except Inbound::IsCancelled(), which may be called from any thread.
#ifndef KORB_ADAPTER_INTERNAL_REQUEST_H_
#define KORB_ADAPTER_INTERNAL_REQUEST_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "skeletons/peer_identity.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace korb::internal {

// A call's headers, found by the transport; the pipeline validates them. The
// views are valid until the call is answered.
struct Request {
  absl::string_view method_path;                 // "/package.Service/Method"
  std::optional<absl::string_view> object_key;   // korb-object, if sent
  std::optional<absl::string_view> priority;     // korb-priority, unparsed
  std::optional<absl::string_view> request_id;   // korb-request-id, unvalidated
  absl::Time deadline = absl::InfiniteFuture();  // the caller's
  const grpc::ByteBuffer* payload = nullptr;     // the serialized request message
};

// What a running operation may ask of its call's transport.
class Inbound {
 public:
  // The value of request metadata `key` (lower case), if present.
  virtual std::optional<absl::string_view> Metadata(absl::string_view key) const = 0;
  // Every request metadata entry, copied (for a oneway call, whose operation
  // outlives the transport's call).
  virtual std::vector<std::pair<std::string, std::string>> CopyMetadata() const = 0;
  // The caller's address ("ipv4:127.0.0.1:5555"), stable for the call.
  virtual absl::string_view Peer() const = 0;
  // The caller's verified identity (mTLS certificate) and address; see
  // skeletons/peer_identity.h. Computed on each call of this: the pipeline
  // asks once per call (Call::peer_identity()).
  virtual PeerIdentity Identity() const = 0;
  // Whether the transport saw the call cancelled. Any thread.
  virtual bool IsCancelled() const = 0;
  // The gRPC context of a call that came over gRPC, else null
  // (CallContext::grpc_context()).
  virtual grpc::ServerContextBase* grpc_context() const { return nullptr; }

 protected:
  ~Inbound() = default;
};

// The way back. AddTrailer() and body() before Send(); Send() exactly once,
// after which the call may be destroyed.
class Responder {
 public:
  virtual void AddTrailer(absl::string_view key, absl::string_view value) = 0;
  // Where the reply message goes; sent only with an OK status.
  virtual grpc::ByteBuffer* body() = 0;
  virtual void Send(const absl::Status& status) = 0;

 protected:
  ~Responder() = default;
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_REQUEST_H_
