// The request pipeline, in the order a call goes through it
// (docs/architecture.md has the diagram):
//
//   transport ─> Accept ─> Route ─> Admit ─> Resolve ─> Schedule ─> Perform ─> Reply ─> transport
//               (server)  (server)  (adapter)                       (policy's thread)
//
// Every stage either passes the call on or answers it through Reply(); no
// stage calls back into an earlier one. The transport only fills the
// Request and carries out Responder::Send().
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/adapter_impl.h"
#include "adapter/internal/call.h"
#include "adapter/internal/server_impl.h"
#include "common/log.h"
#include "common/wire.h"
#include "skeletons/call_context.h"
#include "skeletons/dispatch.h"

namespace korb::internal {
namespace {

absl::Status Refused(absl::string_view adapter, AdapterState state) {
  return WithErrorKind(absl::UnavailableError(absl::StrCat("object adapter '", adapter, "' is ",
                                                           AdapterStateName(state))),
                       ErrorKind::kTransient);
}

absl::Status NoSuchOperation(absl::string_view id, absl::string_view interface,
                             absl::string_view method_path) {
  return WithErrorKind(
      absl::UnimplementedError(absl::StrCat("object '", Echo(id), "' (", interface,
                                            ") has no operation ", Echo(method_path))),
      ErrorKind::kNoSuchMethod);
}


// Answers a call no adapter took (Route's refusals).
void Refuse(Call& call, Responder& responder, const absl::Status& status) {
  call.ReleaseRequestBytes();
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) responder.AddTrailer(kErrorHeader, ErrorKindName(kind));
  responder.Send(status);
}

}  // namespace

// --- Accept and Route (server) ---------------------------------------------

bool ServerImpl::ChargeRequestBytes(Call& call) {
  if (call.request.payload == nullptr) return true;
  const size_t bytes = call.request.payload->Length();
  if (bytes == 0) return true;
  const size_t before = request_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  call.charged_to_ = &request_bytes_;
  call.charged_bytes_ = bytes;
  // One call alone always gets in (its size is bounded by the transport's
  // largest message), so a budget smaller than a message cannot lock out
  // every large call.
  if (before == 0 || before + bytes <= max_request_bytes_) return true;
  Refuse(call, *call.responder_,
         WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                           "object server holds ", before, " bytes of requests; this one (",
                           bytes, " bytes) would pass its limit of ", max_request_bytes_,
                           " bytes (ObjectServerOptions::max_request_bytes_in_flight); retry "
                           "later")),
                       ErrorKind::kTransient));
  return false;
}

void ServerImpl::Accept(Call& call) {
  const Request& request = call.request;
  std::string adapter_name;
  std::string id;
  std::string tag;  // of a transient adapter's instance
  AdapterImpl* adapter = nullptr;
  {
    ReaderMutexLock lock(&mu_);
    if (shutting_down_) {
      Refuse(call, *call.responder_,
             WithErrorKind(absl::UnavailableError("object server is shutting down"),
                           ErrorKind::kTransient));
      return;
    }
    if (!ChargeRequestBytes(call)) return;
    if (request.object_key.has_value()) {
      if (!DecodeObjectKey(*request.object_key, &adapter_name, &id)) {
        Refuse(call, *call.responder_,
               WithErrorKind(absl::InvalidArgumentError(
                                 absl::StrCat("malformed korb-object metadata '",
                                              Echo(*request.object_key), "'")),
                             ErrorKind::kBadRequest));
        return;
      }
      if (size_t at = adapter_name.find('@'); at != std::string::npos) {
        tag = adapter_name.substr(at + 1);
        adapter_name.resize(at);
      }
      auto it = adapters_.find(adapter_name);
      if (it != adapters_.end()) adapter = it->second.get();
    } else {
      absl::string_view service = ServiceOfMethodPath(request.method_path);
      if (service.empty()) {
        Refuse(call, *call.responder_,
               WithErrorKind(absl::UnimplementedError(absl::StrCat(
                                 "malformed method path '", Echo(request.method_path), "'")),
                             ErrorKind::kNoSuchMethod));
        return;
      }
      auto it = default_objects_.find(service);
      if (it == default_objects_.end()) {
        Refuse(call, *call.responder_,
               WithErrorKind(absl::NotFoundError(absl::StrCat(
                                 "no korb-object metadata and no default object for interface ",
                                 Echo(service))),
                             ErrorKind::kObjectNotExist));
        return;
      }
      adapter = it->second.adapter;
      adapter_name = adapter->name();
      id = it->second.id;
      tag = adapter->instance_tag();
    }
  }
  if (adapter == nullptr) {
    Refuse(call, *call.responder_, NoSuchAdapter(adapter_name));
    return;
  }
  adapter->Admit(call, id, tag);
}

// --- Admit, Resolve, Schedule (adapter, on the transport's thread) -----------

void AdapterImpl::Admit(Call& call, absl::string_view id, absl::string_view tag) {
  call.adapter_ = this;
  if (tag != instance_tag_) {
    Reply(call, WithErrorKind(
                    absl::NotFoundError(absl::StrCat(
                        "object '", Echo(id), "' does not exist: the reference names ",
                        tag.empty() ? "no instance of" : "an earlier instance of", " ",
                        instance_tag_.empty() ? "persistent" : "transient", " adapter '", name_,
                        "'")),
                    ErrorKind::kObjectNotExist));
    return;
  }
  std::optional<int32_t> asked_priority;
  if (call.request.priority.has_value()) {
    int32_t priority;
    if (!absl::SimpleAtoi(*call.request.priority, &priority)) {
      Reply(call, WithErrorKind(
                      absl::InvalidArgumentError("korb-priority metadata must be a 32-bit integer"),
                      ErrorKind::kBadRequest));
      return;
    }
    asked_priority = priority;
  }
  // Before the reply cache: a denied call leaves nothing there.
  if (absl::Status allowed = CheckAccess(call, id, asked_priority); !allowed.ok()) {
    Reply(call, allowed);
    return;
  }
  if (call.request.request_id.has_value()) {
    absl::string_view value = *call.request.request_id;
    if (!IsValidRequestId(value)) {
      Reply(call, WithErrorKind(absl::InvalidArgumentError(
                                    absl::StrCat("korb-request-id must be 1 to ",
                                                 kMaxRequestIdBytes, " printable ASCII bytes")),
                                ErrorKind::kBadRequest));
      return;
    }
    CachedReply cached;
    const CallFingerprint fingerprint{
        .operation = call.request.method_path,
        .body_digest = call.request.payload == nullptr ? 0 : BodyDigest(*call.request.payload)};
    switch (reply_cache_.Begin(id, value, fingerprint, &cached)) {
      case ReplyCache::Claim::kDone:
        if (!cached.error_kind.empty()) call.responder_->AddTrailer(kErrorHeader, cached.error_kind);
        if (cached.code == grpc::StatusCode::OK) *call.responder_->body() = cached.body;
        Reply(call, absl::Status(static_cast<absl::StatusCode>(cached.code), cached.message));
        return;
      case ReplyCache::Claim::kInProgress:
        Reply(call, WithErrorKind(absl::UnavailableError(absl::StrCat(
                                      "request ", value, " to object '", Echo(id),
                                      "' is still executing; retry later")),
                                  ErrorKind::kTransient));
        return;
      case ReplyCache::Claim::kConflict:
        // Never another call's reply (issue #11): a reused id is an error.
        Reply(call, WithErrorKind(
                        absl::InvalidArgumentError(absl::StrCat(
                            "korb-request-id ", value, " to object '", Echo(id),
                            "' was used for another call (another operation or request body); "
                            "a request id names one logical call")),
                        ErrorKind::kBadRequest));
        return;
      case ReplyCache::Claim::kNew:
        // From here Reply() completes or abandons the claim.
        call.cache_object_ = std::string(id);
        call.request_id_ = std::string(value);
        break;
    }
  }
  Resolve(call, id, asked_priority);
}

void AdapterImpl::Resolve(Call& call, absl::string_view id,
                          std::optional<int32_t> asked_priority) {
  absl::Status refusal;
  std::string forward_to;
  // An entry for the activator to incarnate, made outside mu_ (MakeSpare).
  std::shared_ptr<ActiveObject> spare;
  bool held = false;
  bool need_spare = false;
  do {
    if (need_spare) {
      if (spare != nullptr) spare->policy->OnObjectDeactivated(spare.get());
      spare = MakeSpare(id);
    }
    MutexLock lock(&mu_);
    auto forward = objects_.contains(id) ? forwards_.end() : forwards_.find(id);
    std::shared_ptr<ActiveObject> object;
    if (state_ == AdapterState::kDiscarding || ShutDownLocked()) {
      refusal = Refused(name_, state_);
    } else if (state_ == AdapterState::kHolding) {
      // Held before any lookup (as a POA manager holds): while the
      // application is still activating objects, none of them may be denied.
      // Resolved again when released.
      if (held_.size() < options_.max_held_calls) {
        if (call.held_id_.data() != id.data()) call.held_id_ = std::string(id);
        call.held_priority_ = asked_priority;
        held_.push_back(&call);
        held = true;
      } else {
        refusal = WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                                    "object adapter '", name_, "' is holding ",
                                    options_.max_held_calls, " calls already")),
                                ErrorKind::kTransient);
      }
    } else if (forward != forwards_.end()) {
      forward_to = forward->second;
      refusal = WithErrorKind(absl::NotFoundError(absl::StrCat("object '", Echo(id),
                                                               "' moved to ", forward_to)),
                              ErrorKind::kForward);
    } else if (object = FindTarget(id, ServiceOfMethodPath(call.request.method_path), &spare,
                                   &need_spare);
               need_spare) {
      continue;  // made outside mu_, then looked up again
    } else if (object == nullptr) {
      refusal = WithErrorKind(
          absl::NotFoundError(absl::StrCat("object '", Echo(id),
                                           "' does not exist in adapter '", name_, "'")),
          ErrorKind::kObjectNotExist);
    } else {
      // Known for active objects; for objects still to be incarnated or
      // located, the operation is resolved once the servant is known.
      const InterfaceInfo* interface = object->known_interface();
      int method_index = -1;
      if (interface != nullptr) {
        method_index = interface->FindMethodByPath(call.request.method_path);
        if (method_index < 0) {
          refusal = NoSuchOperation(id, interface->name, call.request.method_path);
        }
      }
      if (refusal.ok()) {
        call.priority_ = asked_priority.value_or(
            method_index >= 0 ? interface->methods[method_index].semantics.priority : 0);
        call.method_index_ = method_index;
        call.oneway_ = method_index >= 0 && interface->methods[method_index].semantics.oneway;
        // From here the call counts as in flight until Account().
        ++in_flight_;
        load_.store(in_flight_, std::memory_order_relaxed);
        ++object->calls;
        if (InLruLocked(*object)) TouchLocked(object.get());
        // Other entries serve one id, which they keep; no copy per call.
        if (object->origin == ActiveObject::Origin::kDefault) {
          call.default_servant_id_ = std::string(id);
        }
        call.object_ = std::move(object);
        call.bound_ = true;
      }
    }
  } while (need_spare);
  // Lost a race: another call published an entry for `id` first, or the
  // activator changed.
  if (spare != nullptr) spare->policy->OnObjectDeactivated(spare.get());
  if (held) return;  // `call` belongs to Resume() or Discard() now
  if (call.bound_) {
    MutexLock lock(&call.cancel_mu_);
    call.cancel_metrics_ = &metrics_;
  }
  if (!refusal.ok()) {
    if (!forward_to.empty()) call.responder_->AddTrailer(kForwardHeader, forward_to);
    Reply(call, refusal);
    return;
  }
  Schedule(call);
}

void AdapterImpl::Schedule(Call& call) {
  Call& scheduled = call.oneway_ && !call.detached_ ? Detach(call) : call;
  scheduled.object_->policy->Execute(&scheduled);
}

void AdapterImpl::ReleaseHeldCalls(std::deque<Call*> held, bool run) {
  // In arrival order. Calls held across Resume() while new calls arrive may
  // interleave with those; each still runs exactly once.
  for (Call* call : held) {
    if (run) {
      Resolve(*call, call->held_id_, call->held_priority_);
    } else {
      Reply(*call, Refused(name_, AdapterState::kDiscarding));
    }
  }
}

// --- Perform (on the policy's thread) -----------------------------------------

void Call::Run() { adapter_->Perform(*this); }
void Call::Reject(const absl::Status& status) { adapter_->Reply(*this, status); }

void AdapterImpl::Perform(Call& call) {
  // A call whose caller gave up while it waited for a thread is dropped
  // without running the servant.
  if (call.CancelledByCaller()) {
    Reply(call, absl::CancelledError("call cancelled while queued"));
    return;
  }
  if (call.request.deadline <= absl::Now()) {
    Reply(call, absl::DeadlineExceededError("deadline passed while queued"));
    return;
  }
  Call* answering = &call;
  absl::Status status = Invoke(&answering);
  Reply(*answering, status);
}

absl::Status AdapterImpl::Invoke(Call** current) {
  Call* call = *current;
  ActiveObject& object = *call->object_;
  using Origin = ActiveObject::Origin;
  std::shared_ptr<Servant> servant;
  const InterfaceInfo* interface = nullptr;
  std::optional<ServantLocator::Located> located;
  // Owned here: `call` may be answered (and gone) once a oneway detaches.
  const std::string method_path(call->request.method_path);
  switch (object.origin) {
    case Origin::kExplicit:
    case Origin::kDefault:
      servant = object.servant;
      interface = object.interface;
      break;
    case Origin::kActivator: {
      absl::Status incarnated = Incarnate(object);
      if (!incarnated.ok()) return incarnated;
      // Immutable once incarnated.
      servant = object.servant;
      interface = object.interface;
      break;
    }
    case Origin::kLocator: {
      absl::StatusOr<ServantLocator::Located> found = Locate(object, method_path);
      if (!found.ok()) return found.status();
      located = *std::move(found);
      servant = located->servant;
      interface = &servant->korb_interface();
      break;
    }
  }
  int method_index = call->method_index_;
  if (method_index < 0) method_index = interface->FindMethodByPath(method_path);
  if (method_index >= 0 && !call->detached_ && interface->methods[method_index].semantics.oneway) {
    // Known only now that the servant is (a oneway to an object still to be
    // incarnated or located): the caller is answered before the operation.
    call = *current = &Detach(*call);
  }
  absl::Status status =
      method_index < 0 ? NoSuchOperation(call->object_id(), interface->name, method_path)
                       : InvokeServant(*call, *servant, *interface, method_index);
  if (located.has_value()) ReturnLocated(object, method_path, *located, status);
  if (status.ok() && object.persistent != nullptr &&
      options_.persistence.mode == PersistenceMode::kWriteThrough &&
      !interface->methods[method_index].semantics.readonly) {
    absl::Status saved = Persist(object);
    if (!saved.ok()) {
      DropUnsavedState(object);
      // The effect was undone: a retry may run it again, so the reply is not
      // cached.
      call->executed_ = false;
      return WithErrorKind(absl::UnavailableError(absl::StrCat(
                               "object '", Echo(object.id),
                               "': the change was not saved: ", saved.message())),
                           ErrorKind::kTransient);
    }
  }
  return status;
}

absl::Status AdapterImpl::InvokeServant(Call& call, Servant& servant,
                                        const InterfaceInfo& interface, int method_index) {
  CallContext context(&call, this, call.object_id(), &interface.methods[method_index]);
  {
    MutexLock lock(&call.cancel_mu_);
    call.running_ = true;
  }
  call.executed_ = true;
  call.readonly_ = interface.methods[method_index].semantics.readonly;
  metrics_.CallStarted();
  grpc::Status status =
      servant.korb_dispatch(method_index, context, *call.request.payload, call.responder_->body());
  metrics_.CallEnded();
  {
    MutexLock lock(&call.cancel_mu_);
    call.running_ = false;
    call.on_cancel_ = nullptr;
  }
  return ToAbslStatus(status);
}

// --- Oneway -------------------------------------------------------------------

namespace {

// The transport of a oneway operation once its caller has been answered: it
// owns copies of what the operation may read, and logs the outcome, which
// nobody waits for. Deletes itself when answered.
class DetachedCall final : public Inbound, public Responder {
 public:
  DetachedCall(const Inbound& inbound, const Request& request)
      : method_path_(request.method_path),
        metadata_(inbound.CopyMetadata()),
        peer_(inbound.Peer()),
        identity_(inbound.Identity()),
        payload_(*request.payload) {
    // No deadline: the caller no longer waits; nothing cancels it.
    call.request.method_path = method_path_;
    call.request.payload = &payload_;
  }

  Call call{this, this};

  std::optional<absl::string_view> Metadata(absl::string_view key) const override {
    for (const auto& [name, value] : metadata_) {
      if (name == key) return value;
    }
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> CopyMetadata() const override {
    return metadata_;
  }
  absl::string_view Peer() const override { return peer_; }
  PeerIdentity Identity() const override { return identity_; }
  bool IsCancelled() const override { return false; }

  void AddTrailer(absl::string_view, absl::string_view) override {}
  grpc::ByteBuffer* body() override { return &body_; }
  void Send(const absl::Status& status) override {
    if (!status.ok()) {
      KORB_LOG(kWarning, "adapter") << "oneway call " << method_path_ << " failed: " << status;
    }
    delete this;
  }

 private:
  const std::string method_path_;
  const std::vector<std::pair<std::string, std::string>> metadata_;
  const std::string peer_;
  const PeerIdentity identity_;
  const grpc::ByteBuffer payload_;  // shares the received slices
  grpc::ByteBuffer body_;
};

}  // namespace

Call& AdapterImpl::Detach(Call& call) {
  auto* detached = new DetachedCall(*call.inbound_, call.request);
  Call& next = detached->call;
  next.adapter_ = this;
  next.object_ = call.object_;
  next.default_servant_id_ = call.default_servant_id_;
  next.method_index_ = call.method_index_;
  next.priority_ = call.priority_;
  next.oneway_ = true;
  next.detached_ = true;
  // The payload lives on in the detached call: so does its charge.
  next.charged_to_ = call.charged_to_;
  next.charged_bytes_ = std::exchange(call.charged_bytes_, 0);
  // The call's place in flight (and its object's call count) moves to `next`.
  next.bound_ = true;
  call.bound_ = false;
  {
    MutexLock lock(&next.cancel_mu_);
    next.cancel_metrics_ = &metrics_;
  }
  if (!call.request_id_.empty()) {
    // Never cached: the reply is only "accepted", not the operation's.
    reply_cache_.Abandon(call.cache_object_, call.request_id_);
    call.request_id_.clear();
  }
  // Accepted: OK with the empty korb.Empty reply.
  grpc::Slice empty;
  *call.responder_->body() = grpc::ByteBuffer(&empty, 1);
  call.responder_->AddTrailer(kLoadTrailer, std::to_string(load_.load(std::memory_order_relaxed)));
  call.responder_->Send(absl::OkStatus());
  return next;
}

// --- Reply ----------------------------------------------------------------------

void AdapterImpl::Reply(Call& call, const absl::Status& status) {
  call.ReleaseRequestBytes();
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) {
    call.error_kind_ = std::string(ErrorKindName(kind));
    call.responder_->AddTrailer(kErrorHeader, call.error_kind_);
  }
  if (!call.request_id_.empty()) {
    // A readonly operation changed nothing: running it again is safe, and
    // keeping its (possibly large) reply would only cost memory.
    if (call.executed_ && !call.readonly_) {
      CachedReply cached;
      cached.code = static_cast<grpc::StatusCode>(status.code());
      cached.message = std::string(status.message());
      cached.error_kind = call.error_kind_;
      if (status.ok()) cached.body = *call.responder_->body();
      reply_cache_.Complete(call.cache_object_, call.request_id_, std::move(cached));
    } else {
      reply_cache_.Abandon(call.cache_object_, call.request_id_);
    }
    call.request_id_.clear();
  }
  int load = Account(call, status.ok());
  call.responder_->AddTrailer(kLoadTrailer, std::to_string(load));
  if (call.executed_ && has_reply_dropper_.load(std::memory_order_relaxed) &&
      DropReply(call.object_id(), call.request.method_path)) {
    // The reply cache kept the real reply for a retry; it is lost on the way.
    call.responder_->Send(absl::UnavailableError("reply dropped by fault injection"));
    return;
  }
  call.responder_->Send(status);
}

int AdapterImpl::Account(Call& call, bool ok) {
  metrics_.CallAnswered(absl::Now() - call.arrival_, ok);
  if (!call.bound_) return load_.load(std::memory_order_relaxed);
  ActiveObject* object = call.object_.get();
  // Etherealized here, without mu_, when the lifecycle thread cannot.
  std::shared_ptr<ActiveObject> release;
  int load;
  {
    MutexLock lock(&mu_);
    load = --in_flight_;
    load_.store(in_flight_, std::memory_order_relaxed);
    if (--object->calls > 0) return load;
    using State = ActiveObject::State;
    switch (object->state()) {
      case State::kReady:
        if (InLruLocked(*object)) {
          TouchLocked(object);
          EnforceCapLocked();
        }
        break;
      case State::kPending:
        // An activator's entry whose calls were all rejected before one
        // incarnated it: it leaves, so that ids a client makes up cannot
        // pile up in the map. (A located entry is never in the map.)
        if (!object->in_map()) break;
        LeaveLocked(*object, EtherealizeReason::kDeactivated);
        [[fallthrough]];
      case State::kLeavingPending:
      case State::kLeaving:
      case State::kFailed:
        // Left the map while calls were bound; this was the last of them.
        if (object->state() != State::kEtherealizing) {
          CheckTransition(object->BeginEtherealization());
        }
        if (object->origin == ActiveObject::Origin::kActivator && lifecycle_thread_ != nullptr) {
          QueueLocked(call.object_);
        } else {
          release = call.object_;
        }
        break;
      default:
        break;
    }
  }
  if (release != nullptr) Etherealize(release, release->leave_reason);
  return load;
}

bool AdapterImpl::DropReply(absl::string_view id, absl::string_view method_path) {
  MutexLock lock(&mu_);
  return reply_dropper_ != nullptr && reply_dropper_(id, method_path);
}

void AdapterImpl::SetReplyDropper(
    std::function<bool(absl::string_view, absl::string_view)> drop) {
  MutexLock lock(&mu_);
  has_reply_dropper_.store(drop != nullptr);
  reply_dropper_ = std::move(drop);
}

// --- Call's cancellation ----------------------------------------------------------

bool Call::CancelledByCaller() const {
  {
    MutexLock lock(&cancel_mu_);
    if (cancelled_) return true;
  }
  return inbound_->IsCancelled();
}

bool Call::IsCancelled() const { return CancelledByCaller() || absl::Now() > request.deadline; }

void Call::SetCancelCallback(std::function<void()> callback) {
  {
    MutexLock lock(&cancel_mu_);
    if (!cancelled_) {
      on_cancel_ = std::move(callback);
      return;
    }
  }
  callback();
}

void Call::Cancelled() {
  std::function<void()> callback;
  MetricsRecorder* metrics;
  {
    MutexLock lock(&cancel_mu_);
    metrics = cancelled_ ? nullptr : cancel_metrics_;
    cancelled_ = true;
    if (running_) callback = std::move(on_cancel_);
    on_cancel_ = nullptr;
  }
  if (metrics != nullptr) metrics->CallCancelled();
  if (callback) callback();
}

}  // namespace korb::internal
