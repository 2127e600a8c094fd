#include "skeletons/call_context.h"

#include <utility>

#include "absl/time/clock.h"

namespace korb {

CallContext::CallContext(internal::CallHooks* hooks, ObjectAdapter* adapter,
                         absl::string_view object_id, const MethodInfo* method)
    : hooks_(hooks), adapter_(adapter), object_id_(object_id), method_(method) {}

void CallContext::OnCancel(std::function<void()> callback) {
  if (hooks_ != nullptr) hooks_->SetCancelCallback(std::move(callback));
}

std::optional<absl::string_view> CallContext::Metadata(absl::string_view key) const {
  if (hooks_ == nullptr) return std::nullopt;
  return hooks_->Metadata(key);
}

absl::Time CallContext::deadline() const {
  return hooks_ == nullptr ? absl::InfiniteFuture() : hooks_->deadline();
}

bool CallContext::IsCancelled() const { return hooks_ != nullptr && hooks_->IsCancelled(); }

std::string CallContext::peer() const {
  return hooks_ == nullptr ? std::string() : hooks_->peer();
}

void CallContext::AddTrailingMetadata(absl::string_view key, absl::string_view value) {
  if (hooks_ != nullptr) hooks_->AddTrailer(key, value);
}

const PeerIdentity& CallContext::peer_identity() const {
  static const PeerIdentity* const kNone = new PeerIdentity();
  return hooks_ == nullptr ? *kNone : hooks_->peer_identity();
}

grpc::ServerContextBase* CallContext::grpc_context() const {
  return hooks_ == nullptr ? nullptr : hooks_->grpc_context();
}

}  // namespace korb
