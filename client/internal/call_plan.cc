#include "client/internal/collocation.h"
#include "client/internal/call_plan.h"

#include <algorithm>
#include <utility>

#include <grpcpp/support/time.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/internal/cancellation.h"
#include "client/internal/tls_hint.h"
#include "client/internal/location_cache.h"
#include "client/replica_selector.h"
#include "common/wire.h"

namespace korb::internal {
namespace {

// A trailing metadata value, or nullopt.
std::optional<absl::string_view> Trailer(const TrailerView& trailers, absl::string_view key) {
  for (const auto& [name, value] : trailers) {
    if (name == key) return value;
  }
  return std::nullopt;
}

// The korb-load an answer carried: the largest valid value if there are
// several, nullopt if none.
std::optional<double> LoadOf(const TrailerView& trailers) {
  std::optional<double> load;
  for (const auto& [name, value] : trailers) {
    if (name != kLoadTrailer) continue;
    std::optional<double> parsed = ParseLoad(value);
    if (parsed.has_value() && (!load.has_value() || *parsed > *load)) load = parsed;
  }
  return load;
}

TrailerView TrailersOf(const grpc::ClientContext& context) {
  TrailerView view;
  for (const auto& [name, value] : context.GetServerTrailingMetadata()) {
    view.emplace_back(absl::string_view(name.data(), name.size()),
                      absl::string_view(value.data(), value.size()));
  }
  return view;
}

TrailerView TrailersOf(const MetadataList& trailers) {
  TrailerView view;
  view.reserve(trailers.size());
  for (const auto& [name, value] : trailers) view.emplace_back(name, value);
  return view;
}

// Where a reference leads, whatever its type says: for loop detection.
std::string LocationKey(const Ref& ref) {
  Ref location = ref;
  location.set_type("");
  return location.ToString();
}

absl::Status ForwardError(absl::string_view message) {
  return WithErrorKind(absl::NotFoundError(message), ErrorKind::kForward);
}

AttemptOutcome OutcomeOf(const absl::Status& error) {
  if (IsTransientFailure(error)) return AttemptOutcome::kFailure;
  if (error.code() == absl::StatusCode::kDeadlineExceeded ||
      error.code() == absl::StatusCode::kCancelled) {
    return AttemptOutcome::kNeither;
  }
  return AttemptOutcome::kReply;
}

}  // namespace

absl::StatusOr<CallParams> ResolveCallParams(const Client& client, const StubConfig& config,
                                             const MethodSemantics& semantics,
                                             const CallOptions& options) {
  const ClientOptions& defaults = client.options();
  CallParams params;
  for (const auto& [key, value] : options.metadata) {
    if (absl::StartsWith(key, "korb-")) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata key '", key, "' is reserved for Korb"));
    }
  }
  params.metadata = options.metadata;
  params.priority = options.priority;
  if (options.deadline.has_value()) {
    params.deadline = *options.deadline;
  } else {
    absl::Duration timeout = options.timeout.value_or(defaults.default_timeout);
    if (timeout != absl::InfiniteDuration()) params.deadline = absl::Now() + timeout;
  }
  if (options.cancellation != nullptr) params.cancellation = options.cancellation->state();
  params.selection = options.selection.value_or(config.selection.value_or(defaults.selection));
  params.retry = defaults.retry;
  params.retry.max_attempts = std::max(1, options.max_attempts.value_or(defaults.retry.max_attempts));
  params.max_forward_hops = std::max(0, defaults.max_forward_hops);
  params.collocated = options.collocated.value_or(defaults.collocated_calls);
  if (options.request_id.has_value()) {
    if (!IsValidRequestId(*options.request_id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "request id '", *options.request_id, "' is not 1 to ", kMaxRequestIdBytes,
          " printable ASCII characters"));
    }
    params.request_id = *options.request_id;
  }
  const bool may_retry = params.retry.max_attempts > 1;
  if (semantics.retry_safe()) {
    params.retryable = may_retry;
  } else if (may_retry && params.retry.retry_non_idempotent) {
    if (params.request_id.empty()) params.request_id = NewRequestId();
    params.retryable = true;
  }
  return params;
}

absl::Status CallFailed(absl::Status status, const TrailerView& trailers) {
  if (std::optional<absl::string_view> kind = Trailer(trailers, kErrorHeader)) {
    ErrorKind parsed = ParseErrorKind(*kind);
    if (parsed != ErrorKind::kNone) status = WithErrorKind(std::move(status), parsed);
  }
  return status;
}

CallPlan::CallPlan(Client& client, std::shared_ptr<const Binding> binding, int method,
                   CallParams params, std::optional<size_t> pinned)
    : client_(&client),
      binding_(std::move(binding)),
      method_(method),
      params_(std::move(params)),
      pinned_(pinned),
      use_cache_(!pinned.has_value()),
      backoff_(params_.retry) {
  current_ = binding_->target;
  if (use_cache_ && !client.locations().empty()) {
    std::shared_ptr<const Target> cached = client.locations().Get(binding_->ref);
    if (cached != nullptr) {
      // Cached by a stub of another interface (an untyped reference): same
      // location, this interface's methods.
      if (cached->interface != binding_->interface) {
        cached = BuildTarget(client, cached->ref, *binding_->interface);
      }
      current_ = cached;
      cached_ = std::move(cached);
    }
  }
  tried_.assign(current_->endpoints.size(), false);
}

absl::Status CallPlan::Next(absl::Duration* delay) {
  const absl::Time now = absl::Now();
  if (pinned_.has_value() && current_ == binding_->target) {
    endpoint_ = *pinned_;
  } else {
    endpoint_ = SelectReplica(params_.selection, current_->health, tried_, current_->cursor, now);
  }
  *delay = absl::ZeroDuration();
  if (retry_) {
    retry_ = false;
    // Failing over to an endpoint this call has not tried is immediate; going
    // back to one it has tried waits the backoff.
    if (tried_[endpoint_]) *delay = backoff_.Next();
    if (params_.deadline != absl::InfiniteFuture() && now + *delay >= params_.deadline) {
      return Annotate(last_error_, absl::StrCat("gave up after ", failures_,
                                                " attempts: the deadline leaves no time for another"));
    }
  }
  return absl::OkStatus();
}

void CallPlan::BeginAttempt(absl::Time now) {
  attempt_deadline_ = params_.deadline;
  if (params_.retry.attempt_timeout > absl::ZeroDuration() &&
      params_.retry.attempt_timeout != absl::InfiniteDuration()) {
    attempt_deadline_ = std::min(attempt_deadline_, now + params_.retry.attempt_timeout);
  }
}

absl::Status CallPlan::Start(grpc::ClientContext* context) {
  context->AddMetadata(std::string(kObjectKeyHeader), current_->object_key);
  if (params_.priority.has_value()) {
    context->AddMetadata(std::string(kPriorityHeader), absl::StrCat(*params_.priority));
  }
  if (!params_.request_id.empty()) {
    context->AddMetadata(std::string(kRequestIdHeader), params_.request_id);
  }
  for (const auto& [key, value] : params_.metadata) context->AddMetadata(key, value);
  const absl::Time now = absl::Now();
  BeginAttempt(now);
  if (attempt_deadline_ != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(attempt_deadline_));
  }
  if (!AttachAttempt(params_.cancellation.get(), context)) {
    return absl::CancelledError("call cancelled before it started");
  }
  context_ = context;
  started_ = now;
  probe_ = current_->endpoints[endpoint_].health->Begin(started_);
  tried_[endpoint_] = true;
  return absl::OkStatus();
}

std::shared_ptr<CollocatedCall> CallPlan::OpenLocal() const {
  if (!params_.collocated) return nullptr;
  return OpenCollocated(endpoint());
}

absl::Status CallPlan::StartLocal(const std::shared_ptr<CollocatedCall>& call,
                                  const grpc::ByteBuffer& request) {
  const ClientOptions& options = client_->options();
  if (options.max_send_message_bytes >= 0 &&
      request.Length() > static_cast<size_t>(options.max_send_message_bytes)) {
    // As gRPC's client refuses it.
    return absl::ResourceExhaustedError(absl::StrCat("Sent message larger than max (",
                                                     request.Length(), " vs. ",
                                                     options.max_send_message_bytes, ")"));
  }
  call->method_path = current_->interface->methods[method_].path;
  call->object_key = current_->object_key;
  if (params_.priority.has_value()) call->priority = absl::StrCat(*params_.priority);
  call->request_id = params_.request_id;
  call->metadata = params_.metadata;
  call->payload = request;
  call->peer = client_->collocated_peer();
  const absl::Time now = absl::Now();
  BeginAttempt(now);
  call->deadline = attempt_deadline_;
  if (!AttachAttempt(params_.cancellation.get(), call)) {
    return absl::CancelledError("call cancelled before it started");
  }
  context_ = nullptr;
  started_ = now;
  probe_ = current_->endpoints[endpoint_].health->Begin(started_);
  tried_[endpoint_] = true;
  return absl::OkStatus();
}

grpc::ChannelInterface* CallPlan::channel() const {
  return current_->endpoints[endpoint_].channel.get();
}

const grpc::internal::RpcMethod& CallPlan::rpc_method() const {
  return current_->endpoints[endpoint_].methods[method_];
}

bool CallPlan::Finish(const grpc::Status& status, grpc::ByteBuffer* reply) {
  DetachAttempt(params_.cancellation.get(), context_);
  return Conclude(absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                               status.error_message()),
                  TrailersOf(*context_), reply);
}

bool CallPlan::FinishLocal(CollocatedCall& call) {
  DetachAttempt(params_.cancellation.get(), &call);
  if (!call.answered()) return Conclude(call.status(), TrailerView(), nullptr);
  const absl::Status& status = call.status();
  // Only the code and message cross, as on the wire.
  absl::Status answer = status.ok() ? absl::OkStatus() : absl::Status(status.code(), status.message());
  const int max_receive = client_->options().max_receive_message_bytes;
  if (answer.ok() && max_receive >= 0 && call.reply().Length() > static_cast<size_t>(max_receive)) {
    answer = absl::ResourceExhaustedError(absl::StrCat(
        "Received message larger than max (", call.reply().Length(), " vs. ", max_receive, ")"));
  }
  return Conclude(std::move(answer), TrailersOf(call.trailers()), &call.reply());
}

bool CallPlan::Conclude(absl::Status status, const TrailerView& trailers,
                        grpc::ByteBuffer* reply) {
  const absl::Time now = absl::Now();
  const bool ok = status.ok();
  absl::Status error = ok ? absl::OkStatus()
                          : ExplainConnectionFailure(CallFailed(std::move(status), trailers),
                                                     current_->endpoints[endpoint_].address);
  if (error.code() == absl::StatusCode::kCancelled && !CancelledByCaller(now)) {
    // Nobody here cancelled: the server or the connection dropped the call
    // (a server shutting down cancels calls it has not started). That is a
    // connection failure, and retried as one.
    error = absl::UnavailableError(
        absl::StrCat("the call was dropped by the server or the connection (", error.ToString(), ")"));
  } else if (error.code() == absl::StatusCode::kDeadlineExceeded &&
             attempt_deadline_ < params_.deadline && now < params_.deadline) {
    // The attempt's own timeout, not the call's: its endpoint is too slow
    // or hangs, and the call may go on elsewhere.
    error = absl::UnavailableError(absl::StrCat(
        "no answer within the attempt timeout of ",
        absl::FormatDuration(params_.retry.attempt_timeout), " (", error.ToString(), ")"));
  }
  current_->endpoints[endpoint_].health->End(
      probe_, ok ? AttemptOutcome::kReply : OutcomeOf(error), now - started_, LoadOf(trailers),
      now);

  if (ok) {
    if (use_cache_ && moved_) {
      client_->locations().Put(binding_->ref, current_);
    } else if (cached_ != nullptr && current_ == binding_->target) {
      // Forwarded from the cached location back to the original: the object
      // is home again, the entry stale.
      client_->locations().Drop(binding_->ref, cached_->ref);
    }
    result_ = std::move(*reply);
    return true;
  }
  const ErrorKind kind = ErrorKindOf(error);
  if (error.code() == absl::StatusCode::kNotFound && kind == ErrorKind::kForward) {
    absl::Status followed = FollowForward(trailers);
    if (followed.ok()) return false;
    result_ = followed;
    return true;
  }
  if (cached_ != nullptr && (IsTransientFailure(error) || kind == ErrorKind::kObjectNotExist)) {
    // The cached location (or where it forwarded to) is dead or lost the
    // object: back to the original reference, which forwards again if the
    // object moved on.
    client_->locations().Drop(binding_->ref, cached_->ref);
    cached_ = nullptr;
    seen_.clear();
    hops_ = 0;
    MoveTo(binding_->target);
    moved_ = false;
    return false;
  }
  if (IsTransientFailure(error) && params_.retryable &&
      failures_ + 1 < params_.retry.max_attempts) {
    ++failures_;
    last_error_ = std::move(error);
    retry_ = true;
    return false;
  }
  if (failures_ > 0) error = Annotate(error, absl::StrCat("after ", failures_ + 1, " attempts"));
  result_ = std::move(error);
  return true;
}

absl::Status CallPlan::FollowForward(const TrailerView& trailers) {
  // Loops are among the locations this call has visited: it starts at the
  // cached location, if any, not at the original reference.
  if (seen_.empty()) seen_.push_back(LocationKey(current_->ref));
  if (++hops_ > params_.max_forward_hops) {
    return ForwardError(absl::StrCat("more than ", params_.max_forward_hops,
                                     " forward hops: ", Path()));
  }
  std::optional<absl::string_view> uri = Trailer(trailers, kForwardHeader);
  if (!uri.has_value()) {
    return ForwardError(absl::StrCat(current_->ref.ToString(),
                                     " answered forward without a korb-forward reference"));
  }
  absl::StatusOr<Ref> next = Ref::Parse(*uri);
  if (!next.ok()) {
    return ForwardError(absl::StrCat(current_->ref.ToString(), " forwarded to a malformed reference: ",
                                     next.status().message()));
  }
  if (next->is_indirect()) {
    return ForwardError(absl::StrCat(current_->ref.ToString(), " forwarded to ", next->ToString(),
                                     ", an indirect reference (forwards name locations)"));
  }
  if (!next->type().empty() && next->type() != binding_->interface->name) {
    return ForwardError(absl::StrCat(current_->ref.ToString(), " forwarded to ", next->ToString(),
                                     ", an object of interface ", next->type(), ", not ",
                                     binding_->interface->name));
  }
  std::string key = LocationKey(*next);
  if (std::find(seen_.begin(), seen_.end(), key) != seen_.end()) {
    return ForwardError(absl::StrCat("forward loop: ", Path(), " -> ", key));
  }
  if (key == LocationKey(binding_->ref)) {
    // Back to the stub's own reference (the object moved home).
    MoveTo(binding_->target);
    moved_ = false;
  } else {
    MoveTo(BuildTarget(*client_, *next, *binding_->interface));
    moved_ = true;
  }
  seen_.push_back(std::move(key));
  return absl::OkStatus();
}

void CallPlan::MoveTo(std::shared_ptr<const Target> target) {
  current_ = std::move(target);
  tried_.assign(current_->endpoints.size(), false);
  retry_ = false;
}

bool CallPlan::CancelledByCaller(absl::Time now) const {
  if (now >= params_.deadline) return true;
  if (params_.cancellation == nullptr) return false;
  korb::MutexLock lock(&params_.cancellation->mu);
  return params_.cancellation->cancelled;
}

std::string CallPlan::Path() const { return absl::StrJoin(seen_, " -> "); }

}  // namespace korb::internal
