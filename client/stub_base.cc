#include "client/stub_base.h"

#include <utility>

namespace korb {

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

Ref StubBase::korb_location() const {
  Ref start = binding_->ref;
  if (start.is_indirect()) {
    std::optional<Ref> resolved = client_->CachedResolution(start);
    if (!resolved.has_value()) return start;
    start = *std::move(resolved);
  }
  std::optional<Ref> cached = client_->CachedLocation(start);
  return cached.has_value() ? *std::move(cached) : start;
}

}  // namespace korb
