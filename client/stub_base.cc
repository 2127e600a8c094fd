#include "client/stub_base.h"

#include <string>

#include <grpcpp/support/time.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "common/wire.h"

namespace korb {

struct CancellationToken::State {
  korb::Mutex mu;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_set<grpc::ClientContext*> calls ABSL_GUARDED_BY(mu);
};

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

void CancellationToken::Cancel() {
  korb::MutexLock lock(&state_->mu);
  state_->cancelled = true;
  for (grpc::ClientContext* call : state_->calls) call->TryCancel();
}

bool CancellationToken::cancelled() const {
  korb::MutexLock lock(&state_->mu);
  return state_->cancelled;
}

namespace internal {
namespace {

std::shared_ptr<const Binding> Bind(Client& client, const Ref& ref,
                                    const InterfaceInfo& interface) {
  auto binding = std::make_shared<Binding>();
  binding->ref = ref;
  binding->interface = &interface;
  binding->status = ref.Validate();
  if (binding->status.ok() && !ref.type().empty() && ref.type() != interface.name) {
    binding->status = absl::InvalidArgumentError(
        absl::StrCat("reference ", ref.ToString(), " is to an object of interface ",
                     ref.type(), ", not ", interface.name));
  }
  if (!binding->status.ok()) return binding;
  binding->object_key = EncodeObjectKey(ref.adapter(), ref.id());
  // Replica selection comes with failover; until then the first endpoint.
  binding->channel = client.Channel(ref.endpoints().front());
  binding->methods.reserve(interface.methods.size());
  for (const MethodInfo& method : interface.methods) {
    // `path` is a NUL-terminated literal from the generated method table.
    binding->methods.emplace_back(method.path.data(),
                                  grpc::internal::RpcMethod::NORMAL_RPC,
                                  binding->channel);
  }
  return binding;
}

}  // namespace

CallSetup::CallSetup(Client& client, const Binding& binding, int method,
                     const CallOptions& options, grpc::ClientContext* context)
    : context_(context) {
  context->AddMetadata(std::string(kObjectKeyHeader), binding.object_key);
  if (options.priority.has_value()) {
    context->AddMetadata(std::string(kPriorityHeader), absl::StrCat(*options.priority));
  }
  for (const auto& [key, value] : options.metadata) {
    if (absl::StartsWith(key, "korb-")) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("metadata key '", key, "' is reserved for Korb"));
      return;
    }
    context->AddMetadata(key, value);
  }
  absl::Time deadline = absl::InfiniteFuture();
  if (options.deadline.has_value()) {
    deadline = *options.deadline;
  } else {
    absl::Duration timeout = options.timeout.value_or(client.options().default_timeout);
    if (timeout != absl::InfiniteDuration()) deadline = absl::Now() + timeout;
  }
  if (deadline != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(deadline));
  }
  if (options.cancellation != nullptr) {
    CancellationToken::State& state = *options.cancellation->state();
    korb::MutexLock lock(&state.mu);
    if (state.cancelled) {
      status_ = absl::CancelledError("call cancelled before it started");
      return;
    }
    state.calls.insert(context);
    cancellation_ = options.cancellation->state();
  }
}

CallSetup::~CallSetup() {
  if (cancellation_ != nullptr) {
    korb::MutexLock lock(&cancellation_->mu);
    cancellation_->calls.erase(context_);
  }
}

absl::Status CallFailed(const grpc::Status& status, const grpc::ClientContext& context) {
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(grpc::string_ref(kErrorHeader.data(), kErrorHeader.size()));
  if (it != trailers.end()) {
    ErrorKind kind = ParseErrorKind(absl::string_view(it->second.data(), it->second.size()));
    if (kind != ErrorKind::kNone) result = WithErrorKind(std::move(result), kind);
  }
  return result;
}

}  // namespace internal

StubBase::StubBase(Client& client, const Ref& ref, const InterfaceInfo& interface)
    : client_(&client), binding_(internal::Bind(client, ref, interface)) {}

StubBase::StubBase(Client& client, const ObjectRef& ref, const InterfaceInfo& interface)
    : client_(&client) {
  absl::StatusOr<Ref> parsed = Ref::FromProto(ref);
  if (parsed.ok()) {
    binding_ = internal::Bind(client, *parsed, interface);
  } else {
    auto binding = std::make_shared<internal::Binding>();
    binding->interface = &interface;
    binding->status = parsed.status();
    binding_ = std::move(binding);
  }
}

}  // namespace korb
