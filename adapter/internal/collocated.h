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
// the pipeline; its outcome may be read once it has ended (after Wait(), or
// in OnEnd()'s callback).
//
// Usage (the client runtime, client/internal/invocation.cc):
//   std::shared_ptr<CollocatedCall> call = CollocatedCall::Open(endpoint);
//   if (call == nullptr) { ... over gRPC ... }
//   call->object_key = ...; call->payload = request; call->deadline = ...;
//   CollocatedCall::Start(call);
//   call->Wait(deadline);   // or OnEnd(callback) before Start()
//   if (call->answered() && call->status().ok()) Use(call->reply());
#ifndef KORB_ADAPTER_INTERNAL_COLLOCATED_H_
#define KORB_ADAPTER_INTERNAL_COLLOCATED_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/internal/call.h"
#include "adapter/internal/request.h"
#include "common/ref.h"

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

  // Open()'s, made public for std::make_shared (one allocation per call).
  struct OpenTag {
   private:
    friend class CollocatedCall;
    OpenTag() = default;
  };
  CollocatedCall(OpenTag, LocalServer* server) : server_(server) {}
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
  void OnEnd(std::function<void()> done);
  // Hands `call` to its server's pipeline (an inline policy answers it
  // before this returns). Does nothing if it was abandoned already.
  static void Start(std::shared_ptr<CollocatedCall> call);
  // The caller gives up with `status` (CANCELLED, DEADLINE_EXCEEDED): unless
  // it has ended, the call ends with `status` now and the pipeline sees it
  // cancelled. Any thread.
  void Abandon(absl::Status status);
  // Blocks until the call has ended; at `deadline` abandons it with
  // DEADLINE_EXCEEDED.
  void Wait(absl::Time deadline);

  // --- The outcome, once ended ---
  // True if the server's answer ended the call in time: reply() and
  // trailers() are the caller's to read. False if the caller abandoned it,
  // or the answer came after the deadline (DEADLINE_EXCEEDED, as a gRPC
  // client would report): the pipeline may still be writing them.
  bool answered() const { return (state_.load(std::memory_order_acquire) & kAnswered) != 0; }
  // The server's status, or the one the call was abandoned with.
  const absl::Status& status() const { return status_; }
  grpc::ByteBuffer& reply() { return body_; }
  const MetadataList& trailers() const { return trailers_; }

  // Inbound:
  std::optional<absl::string_view> Metadata(absl::string_view key) const override;
  MetadataList CopyMetadata() const override;
  absl::string_view Peer() const override { return peer; }
  // No transport security and no certificate: an anonymous caller (TLS
  // endpoints are never called collocated).
  PeerIdentity Identity() const override {
    PeerIdentity identity;
    identity.address = peer;
    return identity;
  }
  bool IsCancelled() const override {
    return (state_.load(std::memory_order_acquire) & kAbandoned) != 0;
  }
  // Responder:
  void AddTrailer(absl::string_view key, absl::string_view value) override {
    trailers_.emplace_back(std::string(key), std::string(value));
  }
  grpc::ByteBuffer* body() override { return &body_; }
  void Send(const absl::Status& status) override;

 private:

  // The call's state: one word, so that a call answered before its caller
  // waits (an inline adapter) costs no lock. Whoever ends the call first
  // (Send, Abandon) claims it, writes status_, then publishes kEnded;
  // OnEnd() and the end hand `done_` over through kHasDone; a blocked
  // Wait() sets kWaiter and sleeps on the word (futex).
  static constexpr uint32_t kClaimed = 1;    // an end is being written
  static constexpr uint32_t kEnded = 2;      // ... and is published
  static constexpr uint32_t kAnswered = 4;   // by the server, in time
  static constexpr uint32_t kAbandoned = 8;  // by the caller
  static constexpr uint32_t kHasDone = 16;   // OnEnd() has set done_
  static constexpr uint32_t kWaiter = 32;    // Wait() may sleep on state_

  // True for the first of the call's ends, which then writes the outcome.
  bool Claim() { return (state_.fetch_or(kClaimed, std::memory_order_acq_rel) & kClaimed) == 0; }
  // Publishes the claimed end: wakes Wait(), runs done_ if OnEnd() set it.
  void Publish(uint32_t outcome);

  LocalServer* const server_;  // counts this call until destroyed
  Call call_{this, this};
  std::atomic<uint32_t> state_{0};
  // Written by the end's claimant before kEnded, read after it.
  absl::Status status_;
  std::function<void()> done_;  // written before kHasDone
  // Written by the pipeline before Send(); the caller's once answered().
  grpc::ByteBuffer body_;
  MetadataList trailers_;
  // The pipeline's reference, from Start() to Send().
  std::shared_ptr<CollocatedCall> self_;
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_COLLOCATED_H_
