#include "adapter/object_adapter.h"

#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/internal/server_call.h"
#include "adapter/object_server.h"
#include "common/wire.h"

namespace korb {

ObjectAdapter::ObjectAdapter(ObjectServer* server, std::string name,
                             std::unique_ptr<ThreadingPolicy> policy)
    : server_(server), name_(std::move(name)), policy_(std::move(policy)) {}

ObjectAdapter::~ObjectAdapter() { Shutdown(); }

absl::StatusOr<Ref> ObjectAdapter::Activate(std::string id,
                                            std::shared_ptr<Servant> servant) {
  if (id.empty()) return absl::InvalidArgumentError("object id must not be empty");
  if (servant == nullptr) return absl::InvalidArgumentError("servant must not be null");
  auto object = std::make_shared<internal::ActiveObject>();
  object->interface = &servant->korb_interface();
  object->servant = std::move(servant);
  const void* identity = object.get();
  absl::string_view type = object->interface->name;
  {
    korb::MutexLock lock(&mu_);
    if (shut_down_) {
      return absl::FailedPreconditionError(
          absl::StrCat("object adapter '", name_, "' is shut down"));
    }
    auto [it, inserted] = objects_.try_emplace(id, std::move(object));
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat(
          "object '", absl::CHexEscape(id), "' is already active in adapter '", name_, "'"));
    }
  }
  policy_->OnObjectActivated(identity);
  return CreateReference(id, type);
}

absl::StatusOr<Ref> ObjectAdapter::Activate(std::shared_ptr<Servant> servant) {
  // 96 random bits: unique without coordination and not guessable, so a
  // reference cannot be forged by enumerating ids.
  absl::BitGen gen;
  for (;;) {
    std::string id = absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16),
                                  absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8));
    absl::StatusOr<Ref> ref = Activate(std::move(id), servant);
    if (ref.status().code() != absl::StatusCode::kAlreadyExists) return ref;
  }
}

absl::Status ObjectAdapter::Deactivate(absl::string_view id) {
  std::shared_ptr<const internal::ActiveObject> object;
  {
    korb::MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      return absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                              "' is not active in adapter '", name_, "'"));
    }
    object = std::move(it->second);
    objects_.erase(it);
  }
  policy_->OnObjectDeactivated(object.get());
  // `object` is released here, outside the lock: the servant is destroyed now
  // unless calls in flight still hold it.
  return absl::OkStatus();
}

absl::Status ObjectAdapter::SetDefaultObject(absl::string_view id) {
  absl::string_view interface;
  {
    korb::ReaderMutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      return absl::NotFoundError(absl::StrCat("object '", absl::CHexEscape(id),
                                              "' is not active in adapter '", name_, "'"));
    }
    interface = it->second->interface->name;
  }
  server_->SetDefaultObject(interface, this, std::string(id));
  return absl::OkStatus();
}

Ref ObjectAdapter::CreateReference(absl::string_view id, absl::string_view type) const {
  return Ref(std::string(type), server_->endpoints(), name_, std::string(id));
}

bool ObjectAdapter::IsActive(absl::string_view id) const {
  korb::ReaderMutexLock lock(&mu_);
  return objects_.contains(id);
}

size_t ObjectAdapter::active_objects() const {
  korb::ReaderMutexLock lock(&mu_);
  return objects_.size();
}

void ObjectAdapter::Dispatch(internal::ServerCall* call, absl::string_view id) {
  std::shared_ptr<const internal::ActiveObject> object;
  {
    korb::ReaderMutexLock lock(&mu_);
    if (shut_down_) {
      call->FinishWithError(WithErrorKind(
          absl::UnavailableError(absl::StrCat("object adapter '", name_, "' is shut down")),
          ErrorKind::kTransient));
      return;
    }
    auto it = objects_.find(id);
    if (it != objects_.end()) object = it->second;
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
  call->Bind(this, std::move(object), std::string(id), method_index, priority);
  policy_->Execute(call);
}

void ObjectAdapter::Shutdown() {
  {
    korb::MutexLock lock(&mu_);
    shut_down_ = true;
  }
  policy_->Shutdown();
  decltype(objects_) released;
  {
    korb::MutexLock lock(&mu_);
    released.swap(objects_);
  }
  for (const auto& [id, object] : released) policy_->OnObjectDeactivated(object.get());
}

}  // namespace korb
