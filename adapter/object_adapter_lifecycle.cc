// ObjectAdapter: the lifecycle of objects a servant manager supplies —
// single-flight incarnation, locator calls, state persistence, eviction (LRU
// cap and idle timeout) and etherealization on the adapter's lifecycle
// thread; installing servant managers and default servants, and finding the
// target of a call. The request path and explicit activation are in
// object_adapter.cc.
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/active_object.h"
#include "adapter/internal/adapter_impl.h"
#include "adapter/object_adapter.h"
#include "adapter/servant_manager.h"
#include "common/log.h"
#include "common/wire.h"
#include "skeletons/dispatch.h"

namespace korb {

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
      absl::NotFoundError(absl::StrCat("object '", Echo(id), "' does not exist")),
      ErrorKind::kObjectNotExist);
}

namespace internal {

using Origin = ActiveObject::Origin;
using State = ActiveObject::State;

absl::Status AdapterImpl::Incarnate(ActiveObject& object) {
  {
    MutexLock lock(&mu_);
    auto settled = [&object]() {
      return object.state() != State::kIncarnating &&
             object.state() != State::kLeavingIncarnating;
    };
    mu_.Await(absl::Condition(&settled));
    switch (object.state()) {
      case State::kReady:
      case State::kLeaving:
        return absl::OkStatus();
      case State::kFailed:
        return object.failure;
      default: {
        // kPending, or kLeavingPending: deactivated before its first call
        // ran, it is still incarnated for the calls bound to it.
        absl::Status begun = object.BeginIncarnation();
        CheckTransition(begun);
        if (!begun.ok()) return absl::InternalError(begun.message());
      }
    }
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
                                              Echo(object.id),
                                              "': ", state.status().message())),
          ErrorKind::kTransient);
    }
    if (!loaded.ok()) servant = loaded;
  }
  MutexLock lock(&mu_);
  if (servant.ok()) {
    CheckTransition(object.FinishIncarnation(*std::move(servant), persistent));
    lifecycle_counts_.Count(LifecycleCounters::kIncarnated);
    return absl::OkStatus();
  }
  lifecycle_counts_.Count(LifecycleCounters::kIncarnationFailed);
  // Nothing is retained: the next call to this id tries again with a new
  // entry. The calls bound to this one are answered with its failure.
  if (object.in_map()) UnmapLocked(object);
  CheckTransition(object.FailIncarnation(servant.status()));
  return servant.status();
}

absl::StatusOr<ServantLocator::Located> AdapterImpl::Locate(ActiveObject& object,
                                                                 absl::string_view method_path) {
  try {
    absl::StatusOr<ServantLocator::Located> located =
        object.locator->PreInvoke(object.id, method_path);
    if (located.ok() && located->servant == nullptr) {
      // PostInvoke() still pairs with this successful PreInvoke().
      ReturnLocated(object, method_path, *located, absl::InternalError("null servant"));
      return absl::InternalError("servant locator returned a null servant");
    }
    return located;
  } catch (const std::exception& e) {
    return Threw("servant locator", e.what());
  } catch (...) {
    return Threw("servant locator", "non-standard exception");
  }
}

void AdapterImpl::ReturnLocated(ActiveObject& object, absl::string_view method_path,
                                const ServantLocator::Located& located,
                                const absl::Status& outcome) {
  try {
    object.locator->PostInvoke(object.id, method_path, located, outcome);
  } catch (const std::exception& e) {
    KORB_LOG(kError, "adapter") << "adapter '" << name_
                                << "': servant locator PostInvoke threw: " << e.what();
  } catch (...) {
    KORB_LOG(kError, "adapter") << "adapter '" << name_ << "': servant locator PostInvoke threw";
  }
}

absl::Status AdapterImpl::Persist(ActiveObject& object) {
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

void AdapterImpl::DropUnsavedState(ActiveObject& object) {
  MutexLock lock(&mu_);
  object.drop_state = true;
  // The failing call is bound to `object`: its Account() etherealizes it.
  if (object.in_map()) LeaveLocked(object, EtherealizeReason::kSaveFailed);
}

std::shared_ptr<ActiveObject> AdapterImpl::UnmapLocked(ActiveObject& object) {
  std::shared_ptr<ActiveObject> owned;
  auto it = objects_.find(object.id);
  if (it != objects_.end() && it->second.get() == &object) {
    owned = std::move(it->second);
    objects_.erase(it);
  }
  if (InLruLocked(object)) lru_.erase(object.lru);
  return owned;
}

std::shared_ptr<ActiveObject> AdapterImpl::LeaveLocked(ActiveObject& object,
                                                       EtherealizeReason reason) {
  std::shared_ptr<ActiveObject> owned = UnmapLocked(object);
  CheckTransition(object.Leave(reason));
  if (object.origin == Origin::kActivator) {
    // A new incarnation of the id waits for this one's state to be saved.
    object.etherealized = std::make_shared<Notification>();
    etherealizing_[object.id] = object.etherealized;
  }
  if (object.calls > 0) return nullptr;
  CheckTransition(object.BeginEtherealization());
  return owned;
}

void AdapterImpl::QueueLocked(std::shared_ptr<ActiveObject> object) {
  if (object == nullptr) return;
  EtherealizeReason reason = object->leave_reason;
  to_etherealize_.push_back({std::move(object), reason});
}

void AdapterImpl::Etherealize(const std::shared_ptr<ActiveObject>& object,
                                EtherealizeReason reason) {
  std::shared_ptr<Servant> servant;
  bool drop_state;
  {
    MutexLock lock(&mu_);
    // No call is bound (kEtherealizing): nothing else reads the servant.
    servant = std::move(object->servant);
    drop_state = object->drop_state;
  }
  // An explicit activation's policy was told when it left; its servant goes
  // with the entry.
  if (object->origin == Origin::kActivator) {
    if (servant != nullptr && object->persistent != nullptr && !drop_state &&
        options_.persistence.mode == PersistenceMode::kWriteBack) {
      absl::Status saved = Persist(*object);
      if (!saved.ok()) {
        // Nobody is left to tell but the operator: the object's changes since
        // its incarnation are lost.
        KORB_LOG(kError, "adapter") << "adapter '" << name_ << "': write-back of object '"
                                    << Echo(object->id)
                                    << "' failed, its changes are lost: " << saved;
      }
    }
    if (servant != nullptr) {
      lifecycle_counts_.Count(LifecycleCounters::kEtherealized);
      if (reason == EtherealizeReason::kEvicted) {
        lifecycle_counts_.Count(LifecycleCounters::kEvicted);
      }
      try {
        object->activator->Etherealize(object->id, servant, reason);
      } catch (const std::exception& e) {
        KORB_LOG(kError, "adapter") << "adapter '" << name_ << "': Etherealize threw: "
                                    << e.what();
      } catch (...) {
        KORB_LOG(kError, "adapter") << "adapter '" << name_ << "': Etherealize threw";
      }
    }
    servant.reset();
    object->policy->OnObjectDeactivated(object.get());
  }
  servant.reset();
  {
    MutexLock lock(&mu_);
    CheckTransition(object->FinishEtherealization());
    auto it = etherealizing_.find(object->id);
    if (it != etherealizing_.end() && it->second == object->etherealized) {
      etherealizing_.erase(it);
    }
  }
  if (object->etherealized != nullptr) object->etherealized->Notify();
}

void AdapterImpl::TouchLocked(ActiveObject* object) {
  object->last_used = absl::Now();
  lru_.splice(lru_.end(), lru_, object->lru);
}

void AdapterImpl::EnforceCapLocked() {
  if (options_.max_active_objects == 0) return;
  for (auto it = lru_.begin(); lru_.size() > options_.max_active_objects && it != lru_.end();) {
    ActiveObject* object = *it++;  // LeaveLocked() erases *object's node
    if (object->calls == 0 && object->state() == State::kReady) {
      QueueLocked(LeaveLocked(*object, EtherealizeReason::kEvicted));
    }
  }
}

absl::Time AdapterImpl::EvictIdleLocked() {
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
    if (object->calls == 0 && object->state() == State::kReady) {
      QueueLocked(LeaveLocked(*object, EtherealizeReason::kEvicted));
    }
  }
  return next;
}

void AdapterImpl::StartLifecycleThreadLocked() {
  lifecycle_thread_ = std::make_unique<std::thread>([this] { LifecycleLoop(); });
}

void AdapterImpl::LifecycleLoop() {
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

void AdapterImpl::StopLifecycle() {
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

absl::Status AdapterImpl::SetServantActivator(std::shared_ptr<ServantActivator> activator) {
  MutexLock lock(&mu_);
  if (ShutDownLocked()) return InactiveError();
  if (activator != nullptr && locator_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("object adapter '", name_, "' has a servant locator already"));
  }
  activator_ = std::move(activator);
  if (activator_ != nullptr && lifecycle_thread_ == nullptr) StartLifecycleThreadLocked();
  return absl::OkStatus();
}

absl::Status AdapterImpl::SetServantLocator(std::shared_ptr<ServantLocator> locator) {
  MutexLock lock(&mu_);
  if (ShutDownLocked()) return InactiveError();
  if (locator != nullptr && activator_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("object adapter '", name_, "' has a servant activator already"));
  }
  locator_ = std::move(locator);
  return absl::OkStatus();
}

absl::Status AdapterImpl::SetDefaultServant(std::shared_ptr<Servant> servant) {
  if (servant == nullptr) return absl::InvalidArgumentError("servant must not be null");
  auto entry = std::make_shared<ActiveObject>(State::kReady);
  entry->origin = ActiveObject::Origin::kDefault;
  entry->interface = &servant->korb_interface();
  entry->servant = std::move(servant);
  {
    ReaderMutexLock lock(&mu_);
    entry->policy = policies_.front().second.get();
  }
  // Before publication, so that no call and no replacement reaches the
  // policy first; outside mu_ (adapter/threading_policy.h).
  entry->policy->OnObjectActivated(entry.get());
  std::shared_ptr<ActiveObject> replaced;
  absl::Status published;
  {
    MutexLock lock(&mu_);
    if (ShutDownLocked()) {
      published = InactiveError();
      replaced = std::move(entry);
    } else {
      auto& slot = default_servants_[entry->interface->name];
      replaced = std::move(slot);
      slot = std::move(entry);
    }
  }
  if (replaced != nullptr) replaced->policy->OnObjectDeactivated(replaced.get());
  return published;
}

std::shared_ptr<ActiveObject> AdapterImpl::FindTarget(absl::string_view id,
                                                      absl::string_view service,
                                                      std::shared_ptr<ActiveObject>* spare,
                                                      bool* need_spare) {
  *need_spare = false;
  auto it = objects_.find(id);
  if (it != objects_.end()) return it->second;
  if (locator_ != nullptr) {
    // One call's entry, never published and never announced to the policy:
    // a pin would have nothing to unpin it (thread-per-object would keep a
    // thread per call until shutdown); unannounced, the policy gives it a
    // lane that ends with its call (adapter/thread_per_object_policy.h).
    auto object = std::make_shared<ActiveObject>(State::kPending);
    object->id = std::string(id);
    object->policy = policies_.front().second.get();
    object->origin = Origin::kLocator;
    object->locator = locator_;
    return object;
  }
  if (activator_ != nullptr) {
    // The entry to incarnate is published in the map, so its policy must know
    // it first; OnObjectActivated() runs outside mu_, so the entry is made
    // there (MakeSpare) and published on the next pass.
    ActiveObject* candidate = spare->get();
    if (candidate == nullptr || candidate->activator != activator_ ||
        candidate->policy != policies_.front().second.get() || candidate->id != id) {
      *need_spare = true;
      return nullptr;
    }
    std::shared_ptr<ActiveObject> object = std::move(*spare);
    auto previous = etherealizing_.find(id);
    if (previous != etherealizing_.end()) object->previous_etherealized = previous->second;
    CheckTransition(object->Publish(&census_));
    objects_.emplace(object->id, object);
    if (evicting()) {
      object->last_used = absl::Now();
      object->lru = lru_.insert(lru_.end(), object.get());
      EnforceCapLocked();
    }
    return object;
  }
  auto fallback = default_servants_.find(service);
  if (fallback != default_servants_.end()) return fallback->second;
  return nullptr;
}

std::shared_ptr<ActiveObject> AdapterImpl::MakeSpare(absl::string_view id) {
  auto object = std::make_shared<ActiveObject>(State::kPending);
  object->id = std::string(id);
  object->origin = Origin::kActivator;
  {
    ReaderMutexLock lock(&mu_);
    if (activator_ == nullptr) return nullptr;
    object->activator = activator_;
    object->policy = policies_.front().second.get();
  }
  object->policy->OnObjectActivated(object.get());
  return object;
}

}  // namespace internal
}  // namespace korb
