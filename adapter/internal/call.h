// internal::Call: one call in the request pipeline (docs/architecture.md),
// from Accept() to Reply(). Its transport creates it with the call's Request,
// Inbound and Responder and hands it to ServerImpl::Accept(); from there the
// pipeline's stages (adapter/pipeline.cc) own it until Reply() has Send()
// the answer, after which the transport may destroy it.
//
// It is also what the pipeline hands to a threading policy (PendingCall) and
// to a servant (through CallContext's hooks), so it carries the pipeline's
// per-call state: the target it is bound to, its reply cache claim, whether
// the operation ran, and its cancellation.
//
// Thread-safety: the stages use it one at a time, in order; the
// cancellation state is guarded by its own mutex because the transport
// reports a cancellation on any thread.
#ifndef KORB_ADAPTER_INTERNAL_CALL_H_
#define KORB_ADAPTER_INTERNAL_CALL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/internal/active_object.h"
#include "adapter/internal/request.h"
#include "adapter/metrics.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"
#include "skeletons/call_context.h"

namespace korb::internal {

class AdapterImpl;
class ServerImpl;

class Call final : public PendingCall, public CallHooks {
 public:
  // `inbound` and `responder` are borrowed until Send().
  Call(Inbound* inbound, Responder* responder) : inbound_(inbound), responder_(responder) {}
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() override = default;

  // Filled by the transport before Accept().
  Request request;

  // The transport saw the call cancelled (any thread): runs the servant's
  // cancel callback if its operation is running.
  void Cancelled() ABSL_LOCKS_EXCLUDED(cancel_mu_);

  // Returns the request's payload bytes to the server's in-flight budget
  // (when the call is answered). Idempotent.
  void ReleaseRequestBytes() {
    if (charged_bytes_ == 0) return;
    charged_to_->fetch_sub(charged_bytes_, std::memory_order_relaxed);
    charged_bytes_ = 0;
  }

  // PendingCall (the threading policy's side): Run() is the Perform stage.
  void Run() override;
  void Reject(const absl::Status& status) override;
  int32_t priority() const override { return priority_; }
  const void* object() const override { return object_.get(); }
  absl::string_view connection() const override { return inbound_->Peer(); }

  // CallHooks (the servant's side, through CallContext).
  std::optional<absl::string_view> Metadata(absl::string_view key) const override {
    return inbound_->Metadata(key);
  }
  absl::Time deadline() const override { return request.deadline; }
  bool IsCancelled() const override;
  std::string peer() const override { return std::string(inbound_->Peer()); }
  // Asked of the transport once, by the first stage that needs it (Admit
  // when the adapter has an access policy, else the servant); the stages run
  // one at a time, so the cache needs no lock.
  const PeerIdentity& peer_identity() const override {
    if (!identity_.has_value()) identity_ = inbound_->Identity();
    return *identity_;
  }
  void AddTrailer(absl::string_view key, absl::string_view value) override {
    responder_->AddTrailer(key, value);
  }
  grpc::ServerContextBase* grpc_context() const override { return inbound_->grpc_context(); }
  void SetCancelCallback(std::function<void()> callback) override ABSL_LOCKS_EXCLUDED(cancel_mu_);
  void RequestUndecodable() override { executed_ = false; }

 private:
  // The pipeline's stages read and write the per-call state below.
  friend class AdapterImpl;
  friend class ServerImpl;

  // The id the call names (a default servant's entry serves many).
  absl::string_view object_id() const {
    return object_->origin == ActiveObject::Origin::kDefault ? default_servant_id_ : object_->id;
  }
  // The caller (or the transport) cancelled; a passed deadline aside.
  bool CancelledByCaller() const ABSL_LOCKS_EXCLUDED(cancel_mu_);

  Inbound* const inbound_;
  Responder* const responder_;
  const absl::Time arrival_ = absl::Now();
  AdapterImpl* adapter_ = nullptr;  // once admitted: the adapter that answers it
  std::shared_ptr<ActiveObject> object_;  // once bound: the target
  std::string default_servant_id_;        // object_id() of calls to a default servant
  // A call held by a holding adapter: what Resolve() needs again on release.
  std::string held_id_;
  std::optional<int32_t> held_priority_;
  // Reply cache claim, if the call carried korb-request-id.
  std::string cache_object_;
  std::string request_id_;
  // The request's payload bytes, counted in the server's in-flight bytes
  // (`charged_to_`) from Accept() until the reply.
  std::atomic<size_t>* charged_to_ = nullptr;
  size_t charged_bytes_ = 0;
  bool executed_ = false;   // the servant's operation ran
  bool readonly_ = false;   // ... and it is a readonly operation (its reply is not cached)
  bool bound_ = false;
  bool oneway_ = false;     // answered before the operation runs
  bool detached_ = false;   // the oneway operation's own call, its caller answered
  std::string error_kind_;  // the korb-error trailer sent, if any
  mutable std::optional<PeerIdentity> identity_;  // peer_identity(), once asked
  int method_index_ = -1;
  int32_t priority_ = 0;
  mutable Mutex cancel_mu_;
  bool cancelled_ ABSL_GUARDED_BY(cancel_mu_) = false;
  bool running_ ABSL_GUARDED_BY(cancel_mu_) = false;
  // Set once bound to an adapter: where a cancellation is counted.
  MetricsRecorder* cancel_metrics_ ABSL_GUARDED_BY(cancel_mu_) = nullptr;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(cancel_mu_);
};

}  // namespace korb::internal

#endif  // KORB_ADAPTER_INTERNAL_CALL_H_
