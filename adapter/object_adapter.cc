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

// 64 random bits: a restarted adapter's tag differs from its predecessor's.
std::string NewInstanceTag() {
  absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

absl::Status NoSuchOperation(absl::string_view id, absl::string_view interface,
                             absl::string_view method_path) {
  return WithErrorKind(
      absl::UnimplementedError(absl::StrCat("object '", absl::CHexEscape(id), "' (", interface,
                                            ") has no operation ", method_path)),
      ErrorKind::kNoSuchMethod);
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
    : server_(server),
      name_(std::move(name)),
      options_(std::move(options)),
      instance_tag_(options_.lifespan == Lifespan::kTransient ? NewInstanceTag() : ""),
      reply_cache_(options_.reply_cache) {
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

absl::Status ObjectAdapter::InactiveError() const {
  return absl::FailedPreconditionError(absl::StrCat("object adapter '", name_, "' is inactive"));
}

absl::Status ObjectAdapter::CheckActivatable(absl::string_view id) const {
  if (state_ == AdapterState::kInactive) {
    return InactiveError();
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
  object->id = id;
  object->interface = &servant->korb_interface();
  object->ready_interface.store(object->interface, std::memory_order_release);
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
    if (published.ok()) {
      object->in_map = true;
      objects_.emplace(id, std::move(object));
    }
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
  std::shared_ptr<internal::ActiveObject> object;
  bool etherealize_now = false;
  {
    MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return NotActive(name_, id);
    object = it->second;
    if (object->origin == internal::ActiveObject::Origin::kActivator) {
      etherealize_now = object->calls == 0;
      EvictLocked(object.get(), EtherealizeReason::kDeactivated, /*queue=*/false);
    } else {
      objects_.erase(it);
      object->in_map = false;
    }
  }
  if (object->origin != internal::ActiveObject::Origin::kActivator) {
    object->policy->OnObjectDeactivated(object.get());
  } else if (etherealize_now) {
    Etherealize(object, EtherealizeReason::kDeactivated);
  }
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
  std::string adapter = instance_tag_.empty() ? name_ : absl::StrCat(name_, "@", instance_tag_);
  return Ref(std::string(type), server_->endpoints(), std::move(adapter), std::string(id));
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
    return InactiveError();
  }
  state_ = AdapterState::kHolding;
  return absl::OkStatus();
}

absl::Status ObjectAdapter::Discard() {
  std::deque<internal::ServerCall*> held;
  {
    MutexLock lock(&mu_);
    if (state_ == AdapterState::kInactive) {
      return InactiveError();
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
      return InactiveError();
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

void ObjectAdapter::Dispatch(internal::ServerCall* call, absl::string_view id,
                             absl::string_view tag) {
  call->set_adapter(this);
  if (tag != instance_tag_) {
    call->FinishWithError(WithErrorKind(
        absl::NotFoundError(absl::StrCat(
            "object '", absl::CHexEscape(id), "' does not exist: the reference names ",
            tag.empty() ? "no instance of" : "an earlier instance of", " ",
            instance_tag_.empty() ? "persistent" : "transient", " adapter '", name_, "'")),
        ErrorKind::kObjectNotExist));
    return;
  }
  std::optional<int32_t> asked_priority;
  const auto& metadata = call->context()->client_metadata();
  auto header = metadata.find(grpc::string_ref(kPriorityHeader.data(), kPriorityHeader.size()));
  if (header != metadata.end()) {
    int32_t priority;
    if (!absl::SimpleAtoi(absl::string_view(header->second.data(), header->second.size()),
                          &priority)) {
      call->FinishWithError(WithErrorKind(
          absl::InvalidArgumentError("korb-priority metadata must be a 32-bit integer"),
          ErrorKind::kBadRequest));
      return;
    }
    asked_priority = priority;
  }
  auto request_id =
      metadata.find(grpc::string_ref(kRequestIdHeader.data(), kRequestIdHeader.size()));
  if (request_id != metadata.end()) {
    absl::string_view value(request_id->second.data(), request_id->second.size());
    if (!IsValidRequestId(value)) {
      call->FinishWithError(WithErrorKind(
          absl::InvalidArgumentError(absl::StrCat(
              "korb-request-id must be 1 to ", kMaxRequestIdBytes, " printable ASCII bytes")),
          ErrorKind::kBadRequest));
      return;
    }
    CachedReply cached;
    switch (reply_cache_.Begin(id, value, &cached)) {
      case ReplyCache::Claim::kDone:
        call->AnswerCached(cached);
        return;
      case ReplyCache::Claim::kInProgress:
        call->FinishWithError(WithErrorKind(
            absl::UnavailableError(absl::StrCat("request ", value, " to object '",
                                                absl::CHexEscape(id),
                                                "' is still executing; retry later")),
            ErrorKind::kTransient));
        return;
      case ReplyCache::Claim::kNew:
        // From here the call completes or abandons the claim when answered.
        call->set_request_id(id, value);
        break;
    }
  }
  absl::Status refusal;
  std::string forward_to;
  {
    MutexLock lock(&mu_);
    auto forward = objects_.contains(id) ? forwards_.end() : forwards_.find(id);
    if (state_ == AdapterState::kDiscarding || state_ == AdapterState::kInactive) {
      refusal = Refused(name_, state_);
    } else if (forward != forwards_.end()) {
      forward_to = forward->second;
      refusal = WithErrorKind(absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                                               "' moved to ", forward_to)),
                              ErrorKind::kForward);
    } else if (std::shared_ptr<internal::ActiveObject> object =
                   FindTarget(id, ServiceOfMethodPath(call->method_path()));
               object == nullptr) {
      refusal = WithErrorKind(
          absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                           "' does not exist in adapter '", name_, "'")),
          ErrorKind::kObjectNotExist);
    } else {
      // Known for active objects; for objects still to be incarnated or
      // located, the operation is resolved once the servant is known.
      const InterfaceInfo* interface = object->ready_interface.load(std::memory_order_acquire);
      int method_index = -1;
      if (interface != nullptr) {
        method_index = interface->FindMethodByPath(call->method_path());
        if (method_index < 0) refusal = NoSuchOperation(id, interface->name, call->method_path());
      }
      if (refusal.ok()) {
        int32_t priority = asked_priority.value_or(
            method_index >= 0 ? interface->methods[method_index].semantics.priority : 0);
        // From here the call counts as in flight until CallAnswered().
        ++in_flight_;
        load_.store(in_flight_, std::memory_order_relaxed);
        ++object->calls;
        if (object->evictable) TouchLocked(object.get());
        call->Bind(std::move(object), id, method_index, priority);
        if (state_ == AdapterState::kHolding) {
          if (held_.size() < options_.max_held_calls) {
            held_.push_back(call);
            return;
          }
          refusal = WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                                      "object adapter '", name_, "' is holding ",
                                      options_.max_held_calls, " calls already")),
                                  ErrorKind::kTransient);
        }
      }
    }
  }
  if (!refusal.ok()) {
    if (!forward_to.empty()) {
      call->context()->AddTrailingMetadata(std::string(kForwardHeader), forward_to);
    }
    call->FinishWithError(refusal);
    return;
  }
  Execute(call);
}

grpc::Status ObjectAdapter::Invoke(internal::ServerCall* call) {
  internal::ActiveObject& object = call->target();
  using Origin = internal::ActiveObject::Origin;
  std::shared_ptr<Servant> servant;
  const InterfaceInfo* interface = nullptr;
  std::optional<ServantLocator::Located> located;
  switch (object.origin) {
    case Origin::kExplicit:
    case Origin::kDefault:
      servant = object.servant;
      interface = object.interface;
      break;
    case Origin::kActivator: {
      absl::Status incarnated = EnsureIncarnated(object);
      if (!incarnated.ok()) return call->Failure(incarnated);
      // Immutable once incarnated.
      servant = object.servant;
      interface = object.interface;
      break;
    }
    case Origin::kLocator: {
      absl::StatusOr<ServantLocator::Located> found = PreInvoke(object, call->method_path());
      if (!found.ok()) return call->Failure(found.status());
      located = *std::move(found);
      servant = located->servant;
      interface = &servant->korb_interface();
      break;
    }
  }
  int method_index = call->method_index();
  if (method_index < 0) method_index = interface->FindMethodByPath(call->method_path());
  grpc::Status status =
      method_index < 0
          ? call->Failure(NoSuchOperation(call->object_id(), interface->name, call->method_path()))
          : call->InvokeServant(*servant, *interface, method_index);
  if (located.has_value()) PostInvoke(object, call->method_path(), *located, status);
  if (status.ok() && object.persistent != nullptr &&
      options_.persistence.mode == PersistenceMode::kWriteThrough &&
      !interface->methods[method_index].semantics.readonly) {
    absl::Status saved = SaveState(object);
    if (!saved.ok()) {
      DropUnsavedState(object);
      call->ForgetExecution();
      return call->Failure(WithErrorKind(
          absl::UnavailableError(absl::StrCat("object '", absl::CHexEscape(object.id),
                                              "': the change was not saved: ",
                                              saved.message())),
          ErrorKind::kTransient));
    }
  }
  return status;
}

void ObjectAdapter::Execute(internal::ServerCall* call) { call->target().policy->Execute(call); }

int ObjectAdapter::CallAnswered(absl::Duration latency, bool ok,
                                const std::shared_ptr<internal::ActiveObject>& object) {
  metrics_.CallAnswered(latency, ok);
  if (object == nullptr) return load_.load(std::memory_order_relaxed);
  MutexLock lock(&mu_);
  --in_flight_;
  load_.store(in_flight_, std::memory_order_relaxed);
  if (--object->calls > 0) return in_flight_;
  if (object->evictable) {
    TouchLocked(object.get());
    EnforceCapLocked();
  } else if (object->leaving) {
    // Left the map while calls were in flight; this was the last of them.
    to_etherealize_.push_back({object, object->leave_reason});
  }
  return in_flight_;
}

absl::Status ObjectAdapter::Forward(absl::string_view id, const Ref& location) {
  RETURN_IF_ERROR(location.Validate());
  {
    MutexLock lock(&mu_);
    if (state_ == AdapterState::kInactive) {
      return InactiveError();
    }
    forwards_.insert_or_assign(std::string(id), location.ToString());
  }
  absl::Status deactivated = Deactivate(id);
  if (!deactivated.ok() && !absl::IsNotFound(deactivated)) return deactivated;
  return absl::OkStatus();
}

absl::Status ObjectAdapter::RemoveForward(absl::string_view id) {
  MutexLock lock(&mu_);
  if (forwards_.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("no forward for object '", absl::CHexEscape(id),
                                            "' in adapter '", name_, "'"));
  }
  return absl::OkStatus();
}

void ObjectAdapter::SetReplyDropperForTesting(
    std::function<bool(absl::string_view, absl::string_view)> drop) {
  MutexLock lock(&mu_);
  has_reply_dropper_.store(drop != nullptr);
  reply_dropper_ = std::move(drop);
}

bool ObjectAdapter::DropReplyForTesting(absl::string_view id, absl::string_view method_path) {
  if (!has_reply_dropper_.load()) return false;
  MutexLock lock(&mu_);
  return reply_dropper_ != nullptr && reply_dropper_(id, method_path);
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
  decltype(default_servants_) defaults;
  {
    MutexLock lock(&mu_);
    for (auto& [options, policy] : policies_) policies.push_back(policy.get());
    released.swap(objects_);
    defaults.swap(default_servants_);
    lru_.clear();
    for (auto& [id, object] : released) {
      object->in_map = false;
      object->evictable = false;
    }
  }
  for (ThreadingPolicy* policy : policies) policy->Shutdown();
  // No call runs any more: finish the etherealizations under way, then
  // etherealize what is left.
  StopLifecycle();
  for (const auto& [id, object] : released) {
    if (object->origin == internal::ActiveObject::Origin::kActivator) {
      Etherealize(object, EtherealizeReason::kShutdown);
    } else {
      object->policy->OnObjectDeactivated(object.get());
    }
  }
  for (const auto& [type, object] : defaults) object->policy->OnObjectDeactivated(object.get());
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
  lifecycle_counts_.Snapshot(&metrics.lifecycle);
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

void ObjectAdapter::ResetMetrics() {
  metrics_.Reset();
  lifecycle_counts_.Reset();
}

}  // namespace korb
