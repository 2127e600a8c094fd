// ObjectAdapter: the lifecycle of objects a servant manager supplies —
// single-flight incarnation, locator calls, state persistence, eviction (LRU
// cap and idle timeout) and etherealization on the adapter's lifecycle
// thread; installing servant managers and default servants, and finding the
// target of a call. The request path and explicit activation are in
// object_adapter.cc.
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/active_object.h"
#include "adapter/object_adapter.h"
#include "adapter/servant_manager.h"
#include "common/wire.h"
#include "skeletons/dispatch.h"

namespace korb {

using internal::ActiveObject;
using Phase = ActiveObject::Phase;

namespace {

absl::Status Threw(absl::string_view what, absl::string_view detail) {
  return absl::InternalError(absl::StrCat(what, " threw: ", detail));
}

absl::StatusOr<std::shared_ptr<Servant>> CallIncarnate(ServantActivator& activator,
                                                       absl::string_view id) {
  try {
    absl::StatusOr<std::shared_ptr<Servant>> servant = activator.Incarnate(id);
    if (servant.ok() && *servant == nullptr) {
      return absl::InternalError("servant activator returned a null servant");
    }
    return servant;
  } catch (const std::exception& e) {
    return Threw("servant activator", e.what());
  } catch (...) {
    return Threw("servant activator", "non-standard exception");
  }
}

}  // namespace

absl::string_view EtherealizeReasonName(EtherealizeReason reason) {
  switch (reason) {
    case EtherealizeReason::kDeactivated:
      return "deactivated";
    case EtherealizeReason::kEvicted:
      return "evicted";
    case EtherealizeReason::kShutdown:
      return "shutdown";
    case EtherealizeReason::kSaveFailed:
      return "save-failed";
  }
  return "unknown";
}

absl::Status ObjectNotExist(absl::string_view id) {
  return WithErrorKind(
      absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id), "' does not exist")),
      ErrorKind::kObjectNotExist);
}

absl::Status ObjectAdapter::EnsureIncarnated(ActiveObject& object) {
  {
    MutexLock lock(&object.mu);
    auto settled = [&object]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(object.mu) {
      return object.phase != Phase::kIncarnating;
    };
    object.mu.Await(absl::Condition(&settled));
    if (object.phase == Phase::kReady) return absl::OkStatus();
    if (object.phase == Phase::kFailed) return object.failure;
    object.phase = Phase::kIncarnating;
  }
  // The previous incarnation's state must be saved before it is loaded.
  if (object.previous_etherealized != nullptr) {
    object.previous_etherealized->WaitForNotification();
  }
  absl::StatusOr<std::shared_ptr<Servant>> servant = CallIncarnate(*object.activator, object.id);
  PersistentState* persistent = nullptr;
  if (servant.ok() && options_.persistence.store != nullptr) {
    persistent = dynamic_cast<PersistentState*>(servant->get());
  }
  if (persistent != nullptr) {
    absl::StatusOr<std::string> state = options_.persistence.store->Load(object.id);
    absl::Status loaded;
    if (state.ok()) {
      try {
        loaded = persistent->LoadState(*state);
      } catch (const std::exception& e) {
        loaded = Threw("LoadState()", e.what());
      } catch (...) {
        loaded = Threw("LoadState()", "non-standard exception");
      }
    } else if (!absl::IsNotFound(state.status())) {
      loaded = WithErrorKind(
          absl::UnavailableError(absl::StrCat("cannot load the state of object '",
                                              absl::CHexEscape(object.id),
                                              "': ", state.status().message())),
          ErrorKind::kTransient);
    }
    if (!loaded.ok()) servant = loaded;
  }
  {
    MutexLock lock(&object.mu);
    if (servant.ok()) {
      object.servant = *std::move(servant);
      object.interface = &object.servant->korb_interface();
      object.persistent = persistent;
      object.ready_interface.store(object.interface, std::memory_order_release);
      object.phase = Phase::kReady;
      lifecycle_counts_.Count(LifecycleCounters::kIncarnated);
      return absl::OkStatus();
    }
    lifecycle_counts_.Count(LifecycleCounters::kIncarnationFailed);
    object.phase = Phase::kFailed;
    object.failure = servant.status();
  }
  // Nothing is retained: the next call to this id tries again. The calls
  // bound to this entry meanwhile are answered with its failure.
  MutexLock lock(&mu_);
  if (object.in_map) EvictLocked(&object, EtherealizeReason::kDeactivated, /*queue=*/true);
  return servant.status();
}

absl::StatusOr<ServantLocator::Located> ObjectAdapter::PreInvoke(ActiveObject& object,
                                                                 absl::string_view method_path) {
  try {
    absl::StatusOr<ServantLocator::Located> located =
        object.locator->PreInvoke(object.id, method_path);
    if (located.ok() && located->servant == nullptr) {
      // PostInvoke() still pairs with this successful PreInvoke().
      PostInvoke(object, method_path, *located,
                 grpc::Status(grpc::StatusCode::INTERNAL, "null servant"));
      return absl::InternalError("servant locator returned a null servant");
    }
    return located;
  } catch (const std::exception& e) {
    return Threw("servant locator", e.what());
  } catch (...) {
    return Threw("servant locator", "non-standard exception");
  }
}

void ObjectAdapter::PostInvoke(ActiveObject& object, absl::string_view method_path,
                               const ServantLocator::Located& located,
                               const grpc::Status& outcome) {
  try {
    object.locator->PostInvoke(object.id, method_path, located, ToAbslStatus(outcome));
  } catch (const std::exception& e) {
    std::cerr << "korb: adapter '" << name_ << "': servant locator PostInvoke threw: "
              << e.what() << std::endl;
  } catch (...) {
    std::cerr << "korb: adapter '" << name_ << "': servant locator PostInvoke threw"
              << std::endl;
  }
}

absl::Status ObjectAdapter::SaveState(ActiveObject& object) {
  MutexLock lock(&object.save_mu);
  absl::Status saved;
  try {
    saved = options_.persistence.store->Save(object.id, object.persistent->SaveState());
  } catch (const std::exception& e) {
    saved = Threw("SaveState()", e.what());
  } catch (...) {
    saved = Threw("SaveState()", "non-standard exception");
  }
  lifecycle_counts_.Count(saved.ok() ? LifecycleCounters::kSaved : LifecycleCounters::kSaveFailed);
  return saved;
}

void ObjectAdapter::DropUnsavedState(ActiveObject& object) {
  MutexLock lock(&mu_);
  object.drop_state = true;
  if (object.in_map) EvictLocked(&object, EtherealizeReason::kSaveFailed, /*queue=*/true);
}

void ObjectAdapter::EvictLocked(ActiveObject* object, EtherealizeReason reason, bool queue) {
  std::shared_ptr<ActiveObject> owned;
  auto it = objects_.find(object->id);
  if (it != objects_.end() && it->second.get() == object) {
    owned = std::move(it->second);
    objects_.erase(it);
  }
  object->in_map = false;
  if (object->evictable) {
    lru_.erase(object->lru);
    object->evictable = false;
  }
  object->etherealized = std::make_shared<Notification>();
  etherealizing_[object->id] = object->etherealized;
  if (object->calls > 0) {
    object->leaving = true;
    object->leave_reason = reason;
  } else if (queue && owned != nullptr) {
    to_etherealize_.push_back({std::move(owned), reason});
  }
}

void ObjectAdapter::Etherealize(const std::shared_ptr<ActiveObject>& object,
                                EtherealizeReason reason) {
  std::shared_ptr<Servant> servant;
  {
    MutexLock lock(&object->mu);
    if (object->phase == Phase::kReady) servant = std::move(object->servant);
  }
  bool drop_state;
  {
    MutexLock lock(&mu_);
    drop_state = object->drop_state;
  }
  if (servant != nullptr && object->persistent != nullptr && !drop_state &&
      options_.persistence.mode == PersistenceMode::kWriteBack) {
    absl::Status saved = SaveState(*object);
    if (!saved.ok()) {
      // Nobody is left to tell but the operator: the object's changes since
      // its incarnation are lost.
      std::cerr << "korb: adapter '" << name_ << "': write-back of object '"
                << absl::CHexEscape(object->id) << "' failed, its changes are lost: " << saved
                << std::endl;
    }
  }
  if (servant != nullptr) {
    lifecycle_counts_.Count(LifecycleCounters::kEtherealized);
    if (reason == EtherealizeReason::kEvicted) lifecycle_counts_.Count(LifecycleCounters::kEvicted);
    try {
      object->activator->Etherealize(object->id, servant, reason);
    } catch (const std::exception& e) {
      std::cerr << "korb: adapter '" << name_ << "': Etherealize threw: " << e.what()
                << std::endl;
    } catch (...) {
      std::cerr << "korb: adapter '" << name_ << "': Etherealize threw" << std::endl;
    }
  }
  servant.reset();
  object->policy->OnObjectDeactivated(object.get());
  {
    MutexLock lock(&mu_);
    auto it = etherealizing_.find(object->id);
    if (it != etherealizing_.end() && it->second == object->etherealized) {
      etherealizing_.erase(it);
    }
  }
  if (object->etherealized != nullptr) object->etherealized->Notify();
}

void ObjectAdapter::TouchLocked(ActiveObject* object) {
  object->last_used = absl::Now();
  lru_.splice(lru_.end(), lru_, object->lru);
}

void ObjectAdapter::EnforceCapLocked() {
  if (options_.max_active_objects == 0) return;
  for (auto it = lru_.begin(); lru_.size() > options_.max_active_objects && it != lru_.end();) {
    ActiveObject* object = *it++;  // EvictLocked() erases *object's node
    if (object->calls == 0 && object->ready_interface.load(std::memory_order_acquire) != nullptr) {
      EvictLocked(object, EtherealizeReason::kEvicted, /*queue=*/true);
    }
  }
}

absl::Time ObjectAdapter::EvictIdleLocked() {
  if (options_.idle_timeout == absl::InfiniteDuration()) return absl::InfiniteFuture();
  const absl::Time now = absl::Now();
  // Anything used from now on expires no earlier than this.
  absl::Time next = now + options_.idle_timeout;
  for (auto it = lru_.begin(); it != lru_.end();) {
    ActiveObject* object = *it++;
    const absl::Time expiry = object->last_used + options_.idle_timeout;
    if (expiry > now) {
      next = std::min(next, expiry);
      break;  // later entries were used later
    }
    // A busy object is touched again when its last call is answered.
    if (object->calls == 0 && object->ready_interface.load(std::memory_order_acquire) != nullptr) {
      EvictLocked(object, EtherealizeReason::kEvicted, /*queue=*/true);
    }
  }
  return next;
}

void ObjectAdapter::StartLifecycleThreadLocked() {
  lifecycle_thread_ = std::make_unique<std::thread>([this] { LifecycleLoop(); });
}

void ObjectAdapter::LifecycleLoop() {
  for (;;) {
    std::deque<PendingEtherealization> work;
    {
      MutexLock lock(&mu_);
      const absl::Time wake = EvictIdleLocked();
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return lifecycle_stopping_ || !to_etherealize_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&has_work), wake);
      work.swap(to_etherealize_);
      if (work.empty() && lifecycle_stopping_) return;
    }
    for (const PendingEtherealization& next : work) Etherealize(next.object, next.reason);
  }
}

void ObjectAdapter::StopLifecycle() {
  std::unique_ptr<std::thread> thread;
  {
    MutexLock lock(&mu_);
    lifecycle_stopping_ = true;
    thread = std::move(lifecycle_thread_);
  }
  if (thread != nullptr) thread->join();
  std::deque<PendingEtherealization> work;
  {
    MutexLock lock(&mu_);
    work.swap(to_etherealize_);
  }
  for (const PendingEtherealization& next : work) Etherealize(next.object, next.reason);
}

absl::Status ObjectAdapter::SetServantActivator(std::shared_ptr<ServantActivator> activator) {
  MutexLock lock(&mu_);
  if (state_ == AdapterState::kInactive) {
    return InactiveError();
  }
  if (activator != nullptr && locator_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("object adapter '", name_, "' has a servant locator already"));
  }
  activator_ = std::move(activator);
  if (activator_ != nullptr && lifecycle_thread_ == nullptr) StartLifecycleThreadLocked();
  return absl::OkStatus();
}

absl::Status ObjectAdapter::SetServantLocator(std::shared_ptr<ServantLocator> locator) {
  MutexLock lock(&mu_);
  if (state_ == AdapterState::kInactive) {
    return InactiveError();
  }
  if (locator != nullptr && activator_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("object adapter '", name_, "' has a servant activator already"));
  }
  locator_ = std::move(locator);
  return absl::OkStatus();
}

absl::Status ObjectAdapter::SetDefaultServant(std::shared_ptr<Servant> servant) {
  if (servant == nullptr) return absl::InvalidArgumentError("servant must not be null");
  auto entry = std::make_shared<internal::ActiveObject>();
  entry->origin = internal::ActiveObject::Origin::kDefault;
  entry->interface = &servant->korb_interface();
  entry->ready_interface.store(entry->interface, std::memory_order_release);
  entry->servant = std::move(servant);
  std::shared_ptr<internal::ActiveObject> replaced;
  {
    MutexLock lock(&mu_);
    if (state_ == AdapterState::kInactive) {
      return InactiveError();
    }
    entry->policy = policies_.front().second.get();
    // Activated under the lock so that a replacement cannot deactivate it first.
    entry->policy->OnObjectActivated(entry.get());
    auto& slot = default_servants_[entry->interface->name];
    replaced = std::move(slot);
    slot = std::move(entry);
  }
  if (replaced != nullptr) replaced->policy->OnObjectDeactivated(replaced.get());
  return absl::OkStatus();
}

std::shared_ptr<internal::ActiveObject> ObjectAdapter::FindTarget(absl::string_view id,
                                                                   absl::string_view service) {
  auto it = objects_.find(id);
  if (it != objects_.end()) return it->second;
  using Origin = internal::ActiveObject::Origin;
  if (activator_ != nullptr || locator_ != nullptr) {
    auto object = std::make_shared<internal::ActiveObject>();
    object->id = std::string(id);
    object->policy = policies_.front().second.get();
    if (locator_ != nullptr) {
      object->origin = Origin::kLocator;
      object->locator = locator_;
      object->policy->OnObjectActivated(object.get());
      return object;
    }
    object->origin = Origin::kActivator;
    object->activator = activator_;
    {
      MutexLock object_lock(&object->mu);
      object->phase = internal::ActiveObject::Phase::kPending;
    }
    auto previous = etherealizing_.find(id);
    if (previous != etherealizing_.end()) object->previous_etherealized = previous->second;
    // Before publication, as in Activate().
    object->policy->OnObjectActivated(object.get());
    object->in_map = true;
    objects_.emplace(object->id, object);
    if (evicting()) {
      object->last_used = absl::Now();
      object->lru = lru_.insert(lru_.end(), object.get());
      object->evictable = true;
      EnforceCapLocked();
    }
    return object;
  }
  auto fallback = default_servants_.find(service);
  if (fallback != default_servants_.end()) return fallback->second;
  return nullptr;
}

}  // namespace korb
