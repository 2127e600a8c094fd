// korb::CallContext: what a servant sees of the call it is serving — the
// target object's id, the operation, the caller's metadata, deadline and
// cancellation — and the adapter that hosts it (so factories can activate
// new objects).
//
// Lifetime: created by the object adapter for one call and passed by
// reference to the servant operation; valid only until that operation
// returns. Do not keep pointers to it.
//
// Thread-safety: not thread-safe; use it from the thread running the
// operation. IsCancelled() and deadline() may be called from any thread
// while the operation runs.
//
// Usage (in a servant):
//   absl::StatusOr<bank::Balance> Deposit(korb::CallContext& ctx,
//                                         const bank::Amount& amount) override {
//     if (ctx.IsCancelled()) return absl::CancelledError("client gave up");
//     std::optional<absl::string_view> who = ctx.Metadata("x-user");
//     ...
//   }
#ifndef KORB_SKELETONS_CALL_CONTEXT_H_
#define KORB_SKELETONS_CALL_CONTEXT_H_

#include <functional>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/time/time.h"
#include "skeletons/method_table.h"
#include "skeletons/peer_identity.h"

namespace grpc {
class ServerContextBase;
class Status;
}  // namespace grpc

namespace korb {

class ObjectAdapter;

class CallContext;

namespace internal {
// What the runtime behind a CallContext provides: the call's transport and
// the adapter's bookkeeping for it (adapter/internal/call.h implements it).
class CallHooks {
 public:
  // The value of request metadata `key` (lower case), if present.
  virtual std::optional<absl::string_view> Metadata(absl::string_view key) const = 0;
  // The caller's deadline; absl::InfiniteFuture() if none. Any thread.
  virtual absl::Time deadline() const = 0;
  // The caller cancelled (or the deadline passed). Any thread.
  virtual bool IsCancelled() const = 0;
  virtual std::string peer() const = 0;
  // The caller's identity; the same object for the call's duration.
  virtual const PeerIdentity& peer_identity() const = 0;
  virtual void AddTrailer(absl::string_view key, absl::string_view value) = 0;
  // The gRPC context of a call that came over gRPC, else null.
  virtual grpc::ServerContextBase* grpc_context() const = 0;
  // Registers the callback CallContext::OnCancel() describes.
  virtual void SetCancelCallback(std::function<void()> callback) = 0;
  // The request payload did not decode: the operation did not run, so a
  // retry with the same korb-request-id must run it rather than be answered
  // from the reply cache.
  virtual void RequestUndecodable() = 0;

 protected:
  ~CallHooks() = default;
};

// The reply to a request whose payload does not decode (skeletons/dispatch.h).
grpc::Status BadRequest(CallContext& context, absl::string_view message_type);
}  // namespace internal

class CallContext {
 public:
  // `hooks` (the runtime's; null for a context made outside a call, e.g. in
  // a test calling korb_dispatch directly), `adapter`, `object_id` and
  // `method` are borrowed for the call's duration.
  CallContext(internal::CallHooks* hooks, ObjectAdapter* adapter, absl::string_view object_id,
              const MethodInfo* method);

  CallContext(const CallContext&) = delete;
  CallContext& operator=(const CallContext&) = delete;

  // The id of the target object within its adapter.
  absl::string_view object_id() const { return object_id_; }
  // The adapter hosting the target object (never null for adapter calls).
  ObjectAdapter* adapter() const { return adapter_; }
  // The operation being invoked.
  const MethodInfo& method() const { return *method_; }

  // The value of the caller's request metadata `key` (lower case), if present.
  // The view is valid for the call's duration.
  std::optional<absl::string_view> Metadata(absl::string_view key) const;
  // The caller's deadline; absl::InfiniteFuture() if it set none.
  absl::Time deadline() const;
  // True once the caller cancelled or the deadline passed; a long operation
  // should poll this and give up early.
  bool IsCancelled() const;
  // Registers `callback` to run once if the call is cancelled (the caller
  // cancelled, its deadline passed, or the server shuts down) while the
  // operation runs: immediately on this thread if it already is, else on a
  // gRPC thread, possibly concurrently with the operation. Never runs after
  // the operation has returned. A later registration replaces an earlier one.
  // Out-of-band interruption for operations that block on something
  // IsCancelled() polling cannot reach.
  void OnCancel(std::function<void()> callback);

  // The caller's address as gRPC reports it ("ipv4:127.0.0.1:5555"), or "".
  std::string peer() const;
  // Who is calling: the verified identity of its mTLS client certificate
  // (subject, SANs; empty without mTLS) and its address. Valid for the
  // call's duration.
  const PeerIdentity& peer_identity() const;
  // Adds trailing metadata to the reply. Keys are lower case; "korb-*" keys
  // are reserved for the runtime.
  void AddTrailingMetadata(absl::string_view key, absl::string_view value);

  // The underlying gRPC context, or null (a call that did not come over
  // gRPC). An escape hatch for advanced use.
  grpc::ServerContextBase* grpc_context() const;

 private:
  friend grpc::Status internal::BadRequest(CallContext& context, absl::string_view message_type);

  internal::CallHooks* hooks_;
  ObjectAdapter* adapter_;
  absl::string_view object_id_;
  const MethodInfo* method_;
};

}  // namespace korb

#endif  // KORB_SKELETONS_CALL_CONTEXT_H_
