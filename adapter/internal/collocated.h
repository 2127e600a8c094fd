// The collocated transport (docs/architecture.md): a call from a Client to
// an object served by an ObjectServer of the same process enters that
// server's request pipeline directly — no socket, no HTTP/2, no gRPC thread
// — and goes through every stage a gRPC call goes through (Accept, Route,
// Admit, Resolve, Schedule, Perform, Reply).
//
//   LocalServers    the process-wide registry of running object servers,
//                   under every name a reference may give their endpoints
//                   (advertised host, listening host, loopback aliases)
//   CollocatedCall  one attempt of a call: the client fills it in, Start()s
//                   it, and learns once that it ended — answered by the
//                   pipeline, or abandoned by its caller (cancellation,
//                   deadline), which the pipeline then sees as cancelled
//
// What stays: the serialized payload (a grpc::ByteBuffer, which the
// skeletons decode; copying one shares its slices), every header the gRPC
// path carries (korb-object, korb-priority, korb-request-id, the caller's
// metadata), the deadline, trailers (korb-error, korb-load, korb-forward)
// and the threading policy's thread hand-off.
//
// Lifetime: a server's registration ends in its Shutdown(), which then
// waits until no collocated call opened on it is left (every call opened
// before is answered by then: the adapters have shut down).
//
// Thread-safety: thread-safe. A CollocatedCall is shared by its caller and
// the pipeline; its answer may be read once it has ended.
//
// Usage (the client runtime, client/internal/invocation.cc):
//   std::shared_ptr<CollocatedCall> call = CollocatedCall::Open(endpoint);
//   if (call == nullptr) { ... over gRPC ... }
//   call->object_key = ...; call->payload = request; call->deadline = ...;
//   CollocatedCall::Start(call);
//   call->Wait();   // or OnEnd(callback) before Start()
//   if (call->status().ok()) Use(call->reply());
#ifndef KORB_ADAPTER_INTERNAL_COLLOCATED_H_
#define KORB_ADAPTER_INTERNAL_COLLOCATED_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/internal/call.h"
#include "adapter/internal/request.h"
#include "common/ref.h"
#include "common/sync.h"

namespace korb::internal {

class ServerImpl;
struct LocalServer;

class LocalServers {
 public:
  // Makes `server` reachable by collocated calls under `names`. A name some
  // other server registered first stays with that server.
  static void Register(ServerImpl* server, const std::vector<HostPort>& names);
  // Ends the registration of `server` (if any), then waits until every
  // collocated call opened on it has ended. Idempotent.
  static void Unregister(ServerImpl* server);
  // The names under which a server listening on `listen_host` (as given in
  // ObjectServerOptions::listen, brackets removed) with advertised endpoint
  // `endpoint` is reached from this process: the endpoint itself, the
  // listening host, and for a loopback or wildcard listener the loopback
  // names (localhost, 127.0.0.1, ::1), for a wildcard one the host name too.
  static std::vector<HostPort> NamesOf(absl::string_view listen_host, const HostPort& endpoint);
};

// Request metadata a collocated call carries besides the korb-* headers.
using MetadataList = std::vector<std::pair<std::string, std::string>>;

class CollocatedCall final : public Inbound, public Responder {
 public:
  // A call to the server registered under `endpoint`, or null if no server
  // of this process answers there. The server cannot finish its shutdown
  // while the call exists.
  static std::shared_ptr<CollocatedCall> Open(const HostPort& endpoint);

  ~CollocatedCall();
  CollocatedCall(const CollocatedCall&) = delete;
  CollocatedCall& operator=(const CollocatedCall&) = delete;

  // --- Filled by the caller before Start() ---
  absl::string_view method_path;         // must outlive the call (a method table's literal)
  std::string object_key;                // korb-object
  std::optional<std::string> priority;   // korb-priority
  std::string request_id;                // korb-request-id; empty: none
  MetadataList metadata;                 // the caller's own metadata
  absl::Time deadline = absl::InfiniteFuture();
  grpc::ByteBuffer payload;              // the serialized request
  std::string peer;                      // what CallContext::peer() and policies see

  // `done` runs exactly once when the call ends (answered or abandoned), on
  // the thread that ended it: the adapter's policy thread, the caller's own
  // thread for an inline adapter, or Abandon()'s caller — or at once, on
  // this thread, if the call has ended already. Set at most once.
  void OnEnd(std::function<void()> done) ABSL_LOCKS_EXCLUDED(mu_);
  // Hands `call` to its server's pipeline (an inline policy answers it
  // before this returns). Does nothing if it was abandoned already.
  static void Start(std::shared_ptr<CollocatedCall> call) ABSL_LOCKS_EXCLUDED(mu_);
  // The caller gives up with `status` (CANCELLED, DEADLINE_EXCEEDED): unless
  // it has ended, the call ends with `status` now and the pipeline sees it
  // cancelled. Any thread.
  void Abandon(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until the call has ended; at `deadline` abandons it with
  // DEADLINE_EXCEEDED.
  void Wait(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

  // --- The outcome, once ended ---
  // True if the server's answer ended the call in time: reply() and
  // trailers() are the caller's to read. False if the caller abandoned it,
  // or the answer came after the deadline (DEADLINE_EXCEEDED, as a gRPC
  // client would report): the pipeline may still be writing them.
  bool answered() const ABSL_LOCKS_EXCLUDED(mu_);
  // The server's status, or the one the call was abandoned with.
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);
  grpc::ByteBuffer& reply() { return body_; }
  const MetadataList& trailers() const { return trailers_; }

  // Inbound:
  std::optional<absl::string_view> Metadata(absl::string_view key) const override;
  MetadataList CopyMetadata() const override;
  absl::string_view Peer() const override { return peer; }
  bool IsCancelled() const override ABSL_LOCKS_EXCLUDED(mu_);
  // Responder:
  void AddTrailer(absl::string_view key, absl::string_view value) override {
    trailers_.emplace_back(std::string(key), std::string(value));
  }
  grpc::ByteBuffer* body() override { return &body_; }
  void Send(const absl::Status& status) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit CollocatedCall(LocalServer* server) : server_(server) {}

  LocalServer* const server_;  // counts this call until destroyed
  Call call_{this, this};
  // Written by the pipeline before Send(); the caller's once answered().
  grpc::ByteBuffer body_;
  MetadataList trailers_;

  mutable Mutex mu_;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::function<void()> done_ ABSL_GUARDED_BY(mu_);
  // The pipeline's reference, from Start() to Send().
  std::shared_ptr<CollocatedCall> self_ ABSL_GUARDED_BY(mu_);
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_COLLOCATED_H_
