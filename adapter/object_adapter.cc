#include "adapter/object_adapter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/adapter_impl.h"
#include "adapter/internal/server_impl.h"
#include "common/status_macros.h"
#include "common/wire.h"

namespace korb {
namespace {

absl::Status NotActive(absl::string_view adapter, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("object '", Echo(id),
                                          "' is not active in adapter '", adapter, "'"));
}

// 64 random bits: a restarted adapter's tag differs from its predecessor's.
std::string NewInstanceTag() {
  absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
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
    case AdapterState::kDeactivating:
      return "deactivating";
    case AdapterState::kInactive:
      return "inactive";
  }
  return "unknown";
}

namespace internal {

AdapterImpl::AdapterImpl(ServerImpl* server, std::string name, AdapterOptions options,
                             std::unique_ptr<ThreadingPolicy> policy)
    : server_(server),
      name_(std::move(name)),
      options_(std::move(options)),
      instance_tag_(options_.lifespan == Lifespan::kTransient ? NewInstanceTag() : ""),
      reply_cache_(options_.reply_cache) {
  MutexLock lock(&mu_);
  policies_.emplace_back(options_.threading, std::move(policy));
}

AdapterImpl::~AdapterImpl() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

ObjectServer& AdapterImpl::server() const { return *server_; }

ThreadingPolicy* AdapterImpl::PolicyFor(const ThreadingOptions& options,
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

absl::Status AdapterImpl::InactiveError() const {
  return absl::FailedPreconditionError(
      absl::StrCat("object adapter '", name_, "' is shut down"));
}

absl::Status AdapterImpl::CheckActivatable(absl::string_view id) const {
  if (ShutDownLocked()) return InactiveError();
  if (objects_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("object '", Echo(id),
                                                 "' is already active in adapter '", name_, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Ref> AdapterImpl::Activate(std::string id, std::shared_ptr<Servant> servant,
                                            const ActivateOptions& options) {
  if (id.empty()) return absl::InvalidArgumentError("object id must not be empty");
  if (servant == nullptr) return absl::InvalidArgumentError("servant must not be null");
  auto object = std::make_shared<ActiveObject>(ActiveObject::State::kReady);
  object->id = id;
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
    if (published.ok()) {
      CheckTransition(object->Publish(&census_));
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

absl::StatusOr<Ref> AdapterImpl::Activate(std::shared_ptr<Servant> servant,
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

absl::Status AdapterImpl::Deactivate(absl::string_view id) {
  std::shared_ptr<ActiveObject> object;
  // Set if no call is bound: etherealized here.
  std::shared_ptr<ActiveObject> release;
  {
    MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return NotActive(name_, id);
    object = it->second;
    release = LeaveLocked(*object, EtherealizeReason::kDeactivated);
  }
  // An explicit activation's policy learns at once (calls still bound run);
  // an incarnated object's when it is etherealized, after its last call.
  if (object->origin != ActiveObject::Origin::kActivator) {
    object->policy->OnObjectDeactivated(object.get());
  }
  if (release != nullptr) Etherealize(release, EtherealizeReason::kDeactivated);
  // `object` is released here, outside the lock: the servant is destroyed now
  // unless calls in flight still hold it.
  return absl::OkStatus();
}

absl::Status AdapterImpl::SetDefaultObject(absl::string_view id) {
  absl::string_view interface;
  {
    ReaderMutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return NotActive(name_, id);
    if (it->second->known_interface() == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "object '", absl::CHexEscape(id), "' is not incarnated yet in adapter '", name_, "'"));
    }
    interface = it->second->known_interface()->name;
  }
  server_->SetDefaultObject(interface, this, std::string(id));
  return absl::OkStatus();
}

Ref AdapterImpl::CreateReference(absl::string_view id, absl::string_view type) const {
  std::string adapter = instance_tag_.empty() ? name_ : absl::StrCat(name_, "@", instance_tag_);
  return Ref(std::string(type), server_->endpoints(), std::move(adapter), std::string(id));
}

bool AdapterImpl::IsActive(absl::string_view id) const {
  ReaderMutexLock lock(&mu_);
  return objects_.contains(id);
}

size_t AdapterImpl::active_objects() const {
  ReaderMutexLock lock(&mu_);
  return objects_.size();
}

std::vector<ActiveObjectInfo> AdapterImpl::ListActiveObjects(absl::string_view after,
                                                             size_t limit) const {
  // The `limit` smallest ids after `after`, kept as a max-heap: a page costs
  // one pass over the map and O(limit) memory, however large the map is.
  auto id_less = [](const ActiveObjectInfo& a, const ActiveObjectInfo& b) { return a.id < b.id; };
  std::vector<ActiveObjectInfo> page;
  if (limit == 0) return page;
  ReaderMutexLock lock(&mu_);
  for (const auto& [id, object] : objects_) {
    if (id <= after) continue;
    if (page.size() == limit && !(id < page.front().id)) continue;
    // Known once the servant is in place (explicit activation, incarnation).
    const InterfaceInfo* interface = object->known_interface();
    page.push_back({id, interface == nullptr ? "" : std::string(interface->name)});
    std::push_heap(page.begin(), page.end(), id_less);
    if (page.size() > limit) {
      std::pop_heap(page.begin(), page.end(), id_less);
      page.pop_back();
    }
  }
  std::sort_heap(page.begin(), page.end(), id_less);
  return page;
}

AdapterState AdapterImpl::state() const {
  ReaderMutexLock lock(&mu_);
  return state_;
}

absl::Status AdapterImpl::Hold() {
  MutexLock lock(&mu_);
  if (ShutDownLocked()) return InactiveError();
  state_ = AdapterState::kHolding;
  return absl::OkStatus();
}

absl::Status AdapterImpl::Discard() {
  std::deque<Call*> held;
  {
    MutexLock lock(&mu_);
    if (ShutDownLocked()) return InactiveError();
    state_ = AdapterState::kDiscarding;
    held.swap(held_);
  }
  ReleaseHeldCalls(std::move(held), /*run=*/false);
  return absl::OkStatus();
}

absl::Status AdapterImpl::Resume() {
  std::deque<Call*> held;
  {
    MutexLock lock(&mu_);
    if (ShutDownLocked()) return InactiveError();
    state_ = AdapterState::kActive;
    held.swap(held_);
  }
  ReleaseHeldCalls(std::move(held), /*run=*/true);
  return absl::OkStatus();
}

absl::Status AdapterImpl::Forward(absl::string_view id, const Ref& location) {
  RETURN_IF_ERROR(location.Validate());
  {
    MutexLock lock(&mu_);
    if (ShutDownLocked()) return InactiveError();
    forwards_.insert_or_assign(std::string(id), location.ToString());
  }
  absl::Status deactivated = Deactivate(id);
  if (!deactivated.ok() && !absl::IsNotFound(deactivated)) return deactivated;
  return absl::OkStatus();
}

absl::Status AdapterImpl::RemoveForward(absl::string_view id) {
  MutexLock lock(&mu_);
  if (forwards_.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("no forward for object '", Echo(id),
                                            "' in adapter '", name_, "'"));
  }
  return absl::OkStatus();
}

absl::Status AdapterImpl::Shutdown(absl::Duration grace) {
  std::deque<Call*> held;
  bool first;
  {
    MutexLock lock(&mu_);
    first = !ShutDownLocked();
    if (first) state_ = AdapterState::kDeactivating;
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
  // Every object leaves the map; those with calls still bound are
  // etherealized after their last one (which the policies' shutdown answers).
  std::vector<ThreadingPolicy*> policies;
  std::vector<std::shared_ptr<ActiveObject>> left;     // explicit activations
  std::vector<std::shared_ptr<ActiveObject>> release;  // no call bound
  decltype(default_servants_) defaults;
  {
    MutexLock lock(&mu_);
    for (auto& [options, policy] : policies_) policies.push_back(policy.get());
    defaults.swap(default_servants_);
    std::vector<std::shared_ptr<ActiveObject>> objects;
    objects.reserve(objects_.size());
    for (const auto& [id, object] : objects_) objects.push_back(object);
    for (const std::shared_ptr<ActiveObject>& object : objects) {
      if (object->origin != ActiveObject::Origin::kActivator) left.push_back(object);
      std::shared_ptr<ActiveObject> idle = LeaveLocked(*object, EtherealizeReason::kShutdown);
      if (idle != nullptr) release.push_back(std::move(idle));
    }
  }
  // Policies reject what is still queued and wait for running operations.
  for (ThreadingPolicy* policy : policies) policy->Shutdown();
  // No call runs any more: finish the etherealizations under way, then
  // etherealize what is left.
  StopLifecycle();
  for (const auto& object : release) Etherealize(object, EtherealizeReason::kShutdown);
  for (const auto& object : left) object->policy->OnObjectDeactivated(object.get());
  for (const auto& [type, object] : defaults) object->policy->OnObjectDeactivated(object.get());
  release.clear();
  left.clear();
  {
    MutexLock lock(&mu_);
    state_ = AdapterState::kInactive;
  }
  shutdown_status_ =
      drained ? absl::OkStatus()
              : absl::DeadlineExceededError(absl::StrCat(
                    "object adapter '", name_, "': calls still in flight after ",
                    absl::FormatDuration(grace), "; queued calls were rejected"));
  shutdown_done_.Notify();
  return shutdown_status_;
}

AdapterMetrics AdapterImpl::Metrics() const {
  AdapterMetrics metrics;
  metrics_.Snapshot(&metrics);
  lifecycle_counts_.Snapshot(&metrics.lifecycle);
  std::vector<ThreadingPolicy*> policies;
  {
    ReaderMutexLock lock(&mu_);
    metrics.active_objects = objects_.size();
    metrics.objects = census_.Counts();
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

void AdapterImpl::ResetMetrics() {
  metrics_.Reset();
  lifecycle_counts_.Reset();
}

}  // namespace internal
}  // namespace korb
