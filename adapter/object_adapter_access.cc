// The adapter's side of access control (adapter/access_control.h): its
// policy, swapped atomically, and the Admit stage's check.
#include <memory>
#include <optional>
#include <utility>

#include "adapter/access_control.h"
#include "adapter/internal/adapter_impl.h"
#include "adapter/internal/call.h"

namespace korb::internal {

absl::Status AdapterImpl::SetAccessPolicy(AccessPolicy policy) {
  if (policy.empty()) {
    InstallAccessControl(nullptr);
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<const AccessControl>> access =
      AccessControl::Create(std::move(policy));
  if (!access.ok()) return access.status();
  InstallAccessControl(*std::move(access));
  return absl::OkStatus();
}

absl::Status AdapterImpl::CheckAccess(Call& call, absl::string_view id,
                                      std::optional<int32_t> asked_priority) {
  if (!has_access_control_.load(std::memory_order_acquire)) return absl::OkStatus();
  const std::shared_ptr<const AccessControl> access = access_.load(std::memory_order_acquire);
  if (access == nullptr) return absl::OkStatus();
  const absl::string_view path = call.request.method_path;
  return access->Check(
      name_, call.peer_identity(),
      [&call](absl::string_view key) { return call.Metadata(key); }, path, asked_priority,
      [&]() -> const MethodInfo* {
        const MethodInfo* method = access->FindMethod(path);
        return method != nullptr ? method : KnownMethod(id, path);
      });
}

const MethodInfo* AdapterImpl::KnownMethod(absl::string_view id,
                                           absl::string_view method_path) const {
  const InterfaceInfo* interface = nullptr;
  {
    ReaderMutexLock lock(&mu_);
    if (auto it = objects_.find(id); it != objects_.end()) {
      interface = it->second->known_interface();
    } else if (auto it = default_servants_.find(ServiceOfMethodPath(method_path));
               it != default_servants_.end()) {
      interface = it->second->known_interface();
    }
  }
  if (interface == nullptr) return nullptr;
  const int index = interface->FindMethodByPath(method_path);
  return index < 0 ? nullptr : &interface->methods[index];
}

}  // namespace korb::internal
