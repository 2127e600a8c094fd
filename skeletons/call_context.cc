#include "skeletons/call_context.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/time.h>

namespace korb {

CallContext::CallContext(grpc::ServerContextBase* server_context,
                         ObjectAdapter* adapter, absl::string_view object_id,
                         const MethodInfo* method, internal::CallHooks* hooks)
    : server_context_(server_context),
      adapter_(adapter),
      object_id_(object_id),
      method_(method),
      hooks_(hooks) {}

void CallContext::OnCancel(std::function<void()> callback) {
  if (hooks_ != nullptr) {
    hooks_->SetCancelCallback(std::move(callback));
  } else if (IsCancelled()) {
    callback();
  }
}

std::optional<absl::string_view> CallContext::Metadata(absl::string_view key) const {
  if (server_context_ == nullptr) return std::nullopt;
  const auto& metadata = server_context_->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

absl::Time CallContext::deadline() const {
  if (server_context_ == nullptr) return absl::InfiniteFuture();
  gpr_timespec raw = gpr_convert_clock_type(server_context_->raw_deadline(),
                                            GPR_CLOCK_REALTIME);
  if (gpr_time_cmp(raw, gpr_inf_future(GPR_CLOCK_REALTIME)) == 0) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixSeconds(raw.tv_sec) + absl::Nanoseconds(raw.tv_nsec);
}

bool CallContext::IsCancelled() const {
  if (server_context_ == nullptr) return false;
  return server_context_->IsCancelled() || absl::Now() > deadline();
}

std::string CallContext::peer() const {
  return server_context_ == nullptr ? std::string() : server_context_->peer();
}

void CallContext::AddTrailingMetadata(absl::string_view key, absl::string_view value) {
  if (server_context_ == nullptr) return;
  server_context_->AddTrailingMetadata(std::string(key), std::string(value));
}

}  // namespace korb
