#include "client/internal/target.h"

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/internal/name_resolver.h"
#include "common/wire.h"

namespace korb::internal {

std::shared_ptr<const Target> BuildTarget(Client& client, const Ref& ref,
                                          const InterfaceInfo& interface) {
  auto target = std::make_shared<Target>();
  target->ref = ref;
  target->interface = &interface;
  target->object_key = EncodeObjectKey(ref.adapter(), ref.id());
  target->endpoints.reserve(ref.endpoints().size());
  for (const HostPort& address : ref.endpoints()) {
    Endpoint& endpoint = target->endpoints.emplace_back();
    endpoint.address = address;
    endpoint.channel = client.Channel(address);
    endpoint.health = client.Health(address);
    endpoint.methods.reserve(interface.methods.size());
    for (const MethodInfo& method : interface.methods) {
      // `path` is a NUL-terminated literal from the generated method table.
      endpoint.methods.emplace_back(method.path.data(), grpc::internal::RpcMethod::NORMAL_RPC,
                                    endpoint.channel);
    }
    target->health.push_back(endpoint.health.get());
  }
  return target;
}

std::shared_ptr<const Binding> Bind(Client& client, const Ref& ref,
                                    const InterfaceInfo& interface) {
  auto binding = std::make_shared<Binding>();
  binding->ref = ref;
  binding->interface = &interface;
  binding->status = ref.Validate();
  // An interface without a name (korb::Resolve's) accepts any type.
  if (binding->status.ok() && !ref.type().empty() && !interface.name.empty() &&
      ref.type() != interface.name) {
    binding->status = absl::InvalidArgumentError(
        absl::StrCat("reference ", ref.ToString(), " is to an object of interface ",
                     ref.type(), ", not ", interface.name));
  }
  if (!binding->status.ok()) return binding;
  if (ref.is_indirect()) {
    binding->name_key = NameKey(ref);
  } else {
    binding->target = BuildTarget(client, ref, interface);
  }
  return binding;
}

}  // namespace korb::internal
