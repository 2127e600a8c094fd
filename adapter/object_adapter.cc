#include "adapter/object_adapter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/server_call.h"
#include "adapter/object_server.h"
#include "common/status_macros.h"
#include "common/wire.h"

namespace korb {
namespace {

absl::Status Refused(absl::string_view adapter, AdapterState state) {
  return WithErrorKind(absl::UnavailableError(absl::StrCat("object adapter '", adapter, "' is ",
                                                           AdapterStateName(state))),
                       ErrorKind::kTransient);
}

absl::Status NotActive(absl::string_view adapter, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                          "' is not active in adapter '", adapter, "'"));
}

}  // namespace

absl::string_view AdapterStateName(AdapterState state) {
  switch (state) {
    case AdapterState::kActive:
      return "active";
    case AdapterState::kHolding:
      return "holding";
    case AdapterState::kDiscarding:
      return "discarding";
    case AdapterState::kInactive:
      return "inactive";
  }
  return "unknown";
}

ObjectAdapter::ObjectAdapter(ObjectServer* server, std::string name, AdapterOptions options,
                             std::unique_ptr<ThreadingPolicy> policy)
    : server_(server), name_(std::move(name)), options_(std::move(options)) {
  MutexLock lock(&mu_);
  policies_.emplace_back(options_.threading, std::move(policy));
}

ObjectAdapter::~ObjectAdapter() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

ThreadingPolicy* ObjectAdapter::PolicyFor(const ThreadingOptions& options,
                                          absl::Status* status) {
  for (auto& [existing, policy] : policies_) {
    if (existing == options) return policy.get();
  }
  absl::StatusOr<std::unique_ptr<ThreadingPolicy>> policy = MakeThreadingPolicy(options);
  if (!policy.ok()) {
    *status = policy.status();
    return nullptr;
  }
  policies_.emplace_back(options, *std::move(policy));
  return policies_.back().second.get();
}

absl::Status ObjectAdapter::CheckActivatable(absl::string_view id) const {
  if (state_ == AdapterState::kInactive) {
    return absl::FailedPreconditionError(absl::StrCat("object adapter '", name_, "' is inactive"));
  }
  if (objects_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("object '", absl::CHexEscape(id),
                                                 "' is already active in adapter '", name_, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Ref> ObjectAdapter::Activate(std::string id, std::shared_ptr<Servant> servant,
                                            const ActivateOptions& options) {
  if (id.empty()) return absl::InvalidArgumentError("object id must not be empty");
  if (servant == nullptr) return absl::InvalidArgumentError("servant must not be null");
  auto object = std::make_shared<internal::ActiveObject>();
  object->interface = &servant->korb_interface();
  object->servant = std::move(servant);
  const void* identity = object.get();
  absl::string_view type = object->interface->name;
  ThreadingPolicy* policy;
  {
    MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckActivatable(id));
    absl::Status status;
    policy = options.threading.has_value() ? PolicyFor(*options.threading, &status)
                                           : policies_.front().second.get();
    if (policy == nullptr) return status;
    object->policy = policy;
  }
  // The policy learns of the object before any call or Deactivate() can see
  // it, so OnObjectDeactivated() never overtakes OnObjectActivated().
  policy->OnObjectActivated(identity);
  absl::Status published;
  {
    MutexLock lock(&mu_);
    published = CheckActivatable(id);
    if (published.ok()) objects_.emplace(id, std::move(object));
  }
  if (!published.ok()) {
    // Lost a race with another Activate() of `id` or with Shutdown().
    policy->OnObjectDeactivated(identity);
    return published;
  }
  return CreateReference(id, type);
}

absl::StatusOr<Ref> ObjectAdapter::Activate(std::shared_ptr<Servant> servant,
                                            const ActivateOptions& options) {
  // 96 random bits: unique without coordination and not guessable, so a
  // reference cannot be forged by enumerating ids.
  absl::BitGen gen;
  for (;;) {
    std::string id = absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16),
                                  absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8));
    absl::StatusOr<Ref> ref = Activate(std::move(id), servant, options);
    if (ref.status().code() != absl::StatusCode::kAlreadyExists) return ref;
  }
}

absl::Status ObjectAdapter::Deactivate(absl::string_view id) {
  std::shared_ptr<const internal::ActiveObject> object;
  {
    MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return NotActive(name_, id);
    object = std::move(it->second);
    objects_.erase(it);
  }
  object->policy->OnObjectDeactivated(object.get());
  // `object` is released here, outside the lock: the servant is destroyed now
  // unless calls in flight still hold it.
  return absl::OkStatus();
}

absl::Status ObjectAdapter::SetDefaultObject(absl::string_view id) {
  absl::string_view interface;
  {
    ReaderMutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return NotActive(name_, id);
    interface = it->second->interface->name;
  }
  server_->SetDefaultObject(interface, this, std::string(id));
  return absl::OkStatus();
}

Ref ObjectAdapter::CreateReference(absl::string_view id, absl::string_view type) const {
  return Ref(std::string(type), server_->endpoints(), name_, std::string(id));
}

bool ObjectAdapter::IsActive(absl::string_view id) const {
  ReaderMutexLock lock(&mu_);
  return objects_.contains(id);
}

size_t ObjectAdapter::active_objects() const {
  ReaderMutexLock lock(&mu_);
  return objects_.size();
}

AdapterState ObjectAdapter::state() const {
  ReaderMutexLock lock(&mu_);
  return state_;
}

absl::Status ObjectAdapter::Hold() {
  MutexLock lock(&mu_);
  if (state_ == AdapterState::kInactive) {
    return absl::FailedPreconditionError(absl::StrCat("object adapter '", name_, "' is inactive"));
  }
  state_ = AdapterState::kHolding;
  return absl::OkStatus();
}

absl::Status ObjectAdapter::Discard() {
  std::deque<internal::ServerCall*> held;
  {
    MutexLock lock(&mu_);
    if (state_ == AdapterState::kInactive) {
      return absl::FailedPreconditionError(
          absl::StrCat("object adapter '", name_, "' is inactive"));
    }
    state_ = AdapterState::kDiscarding;
    held.swap(held_);
  }
  ReleaseHeldCalls(std::move(held), /*run=*/false);
  return absl::OkStatus();
}

absl::Status ObjectAdapter::Resume() {
  std::deque<internal::ServerCall*> held;
  {
    MutexLock lock(&mu_);
    if (state_ == AdapterState::kInactive) {
      return absl::FailedPreconditionError(
          absl::StrCat("object adapter '", name_, "' is inactive"));
    }
    state_ = AdapterState::kActive;
    held.swap(held_);
  }
  ReleaseHeldCalls(std::move(held), /*run=*/true);
  return absl::OkStatus();
}

void ObjectAdapter::ReleaseHeldCalls(std::deque<internal::ServerCall*> held, bool run) {
  // In arrival order. Calls held across Resume() while new calls arrive may
  // interleave with those; each still runs exactly once.
  for (internal::ServerCall* call : held) {
    if (run) {
      Execute(call);
    } else {
      call->FinishWithError(Refused(name_, AdapterState::kDiscarding));
    }
  }
}

void ObjectAdapter::Dispatch(internal::ServerCall* call, absl::string_view id) {
  call->set_adapter(this);
  std::shared_ptr<const internal::ActiveObject> object;
  AdapterState state;
  {
    ReaderMutexLock lock(&mu_);
    state = state_;
    auto it = objects_.find(id);
    if (it != objects_.end()) object = it->second;
  }
  if (state == AdapterState::kDiscarding || state == AdapterState::kInactive) {
    call->FinishWithError(Refused(name_, state));
    return;
  }
  if (object == nullptr) {
    call->FinishWithError(WithErrorKind(
        absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                         "' does not exist in adapter '", name_, "'")),
        ErrorKind::kObjectNotExist));
    return;
  }
  int method_index = object->interface->FindMethodByPath(call->method_path());
  if (method_index < 0) {
    call->FinishWithError(WithErrorKind(
        absl::UnimplementedError(absl::StrCat("object '", absl::CHexEscape(id), "' (",
                                              object->interface->name, ") has no operation ",
                                              call->method_path())),
        ErrorKind::kNoSuchMethod));
    return;
  }
  int32_t priority = object->interface->methods[method_index].semantics.priority;
  const auto& metadata = call->context()->client_metadata();
  auto header = metadata.find(grpc::string_ref(kPriorityHeader.data(), kPriorityHeader.size()));
  if (header != metadata.end() &&
      !absl::SimpleAtoi(absl::string_view(header->second.data(), header->second.size()),
                        &priority)) {
    call->FinishWithError(WithErrorKind(
        absl::InvalidArgumentError("korb-priority metadata must be a 32-bit integer"),
        ErrorKind::kBadRequest));
    return;
  }
  call->Bind(std::move(object), std::string(id), method_index, priority);
  absl::Status refusal;
  {
    MutexLock lock(&mu_);
    // The state may have changed since it was read above; decide under the
    // lock that also guards held_ and in_flight_. From here the call counts
    // as in flight until CallAnswered().
    ++in_flight_;
    if (state_ == AdapterState::kHolding && held_.size() < options_.max_held_calls) {
      held_.push_back(call);
      return;
    }
    if (state_ == AdapterState::kHolding) {
      refusal = WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                                  "object adapter '", name_, "' is holding ",
                                  options_.max_held_calls, " calls already")),
                              ErrorKind::kTransient);
    } else if (state_ != AdapterState::kActive) {
      refusal = Refused(name_, state_);
    }
  }
  if (!refusal.ok()) {
    call->FinishWithError(refusal);
    return;
  }
  Execute(call);
}

void ObjectAdapter::Execute(internal::ServerCall* call) { call->target().policy->Execute(call); }

void ObjectAdapter::CallAnswered(absl::Duration latency, bool ok, bool dispatched) {
  metrics_.CallAnswered(latency, ok);
  if (!dispatched) return;
  MutexLock lock(&mu_);
  --in_flight_;
}

absl::Status ObjectAdapter::Shutdown(absl::Duration grace) {
  std::deque<internal::ServerCall*> held;
  bool first;
  {
    MutexLock lock(&mu_);
    first = !shutdown_started_;
    shutdown_started_ = true;
    state_ = AdapterState::kInactive;
    held.swap(held_);
  }
  if (!first) {
    shutdown_done_.WaitForNotification();
    return shutdown_status_;
  }
  ReleaseHeldCalls(std::move(held), /*run=*/false);

  bool drained;
  {
    MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    drained = mu_.AwaitWithTimeout(absl::Condition(&idle), grace);
  }
  // Policies reject what is still queued and wait for running operations.
  std::vector<ThreadingPolicy*> policies;
  decltype(objects_) released;
  {
    MutexLock lock(&mu_);
    for (auto& [options, policy] : policies_) policies.push_back(policy.get());
    released.swap(objects_);
  }
  for (ThreadingPolicy* policy : policies) policy->Shutdown();
  for (const auto& [id, object] : released) object->policy->OnObjectDeactivated(object.get());
  released.clear();
  shutdown_status_ =
      drained ? absl::OkStatus()
              : absl::DeadlineExceededError(absl::StrCat(
                    "object adapter '", name_, "': calls still in flight after ",
                    absl::FormatDuration(grace), "; queued calls were rejected"));
  shutdown_done_.Notify();
  return shutdown_status_;
}

AdapterMetrics ObjectAdapter::Metrics() const {
  AdapterMetrics metrics;
  metrics_.Snapshot(&metrics);
  std::vector<ThreadingPolicy*> policies;
  {
    ReaderMutexLock lock(&mu_);
    metrics.active_objects = objects_.size();
    metrics.held_calls = held_.size();
    for (const auto& [options, policy] : policies_) policies.push_back(policy.get());
  }
  for (ThreadingPolicy* policy : policies) {
    PolicyStats stats = policy->Stats();
    metrics.policy.threads += stats.threads;
    metrics.policy.queued += stats.queued;
    for (const auto& [priority, depth] : stats.queued_by_priority) {
      auto it = std::find_if(metrics.policy.queued_by_priority.begin(),
                             metrics.policy.queued_by_priority.end(),
                             [p = priority](const auto& lane) { return lane.first <= p; });
      if (it != metrics.policy.queued_by_priority.end() && it->first == priority) {
        it->second += depth;
      } else {
        metrics.policy.queued_by_priority.insert(it, {priority, depth});
      }
    }
  }
  return metrics;
}

void ObjectAdapter::ResetMetrics() { metrics_.Reset(); }

}  // namespace korb
