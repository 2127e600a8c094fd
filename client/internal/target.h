// A reference resolved for calling: its endpoints with their channels, the
// gRPC methods registered on each channel, and each endpoint's health record
// in the Client. A stub's Binding holds the Target of its own reference; a
// call that follows a forward builds Targets on the way, and the Client's
// location cache keeps the last one that answered.
//
// Thread-safety: immutable once built (but for the round-robin cursor, which
// is atomic); thread-safe.
#ifndef KORB_CLIENT_INTERNAL_TARGET_H_
#define KORB_CLIENT_INTERNAL_TARGET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/impl/rpc_method.h>

#include "absl/status/status.h"
#include "client/endpoint_health.h"
#include "client/policy.h"
#include "common/ref.h"
#include "skeletons/method_table.h"

namespace korb {

class Client;

namespace internal {

struct Endpoint {
  HostPort address;
  std::shared_ptr<grpc::Channel> channel;
  std::vector<grpc::internal::RpcMethod> methods;  // by method index
  std::shared_ptr<EndpointHealth> health;  // shared with the Client's records
};

struct Target {
  Ref ref;
  const InterfaceInfo* interface = nullptr;
  std::string object_key;  // korb-object metadata value
  std::vector<Endpoint> endpoints;        // reference order
  std::vector<EndpointHealth*> health;    // endpoints[i].health, for the selector
  mutable std::atomic<uint32_t> cursor{0};  // round-robin position
};

// Resolves the valid reference `ref` for calls of `interface` through `client`.
std::shared_ptr<const Target> BuildTarget(Client& client, const Ref& ref,
                                          const InterfaceInfo& interface);

// A stub's resolved reference. Immutable once built; shared by stub copies.
// For an indirect reference (korbname://) there is no target: each call
// looks the name up in the Client's NameResolver, which hands out the
// Binding of the direct reference it resolves to.
struct Binding {
  Ref ref;
  const InterfaceInfo* interface = nullptr;
  absl::Status status;  // not OK: every call fails with it
  std::shared_ptr<const Target> target;  // set when status is OK and ref is direct
  std::string name_key;  // indirect refs: NameKey(ref), the resolver's cache key
};

// Binds `ref` for `interface`: checks it is valid and of that interface
// (an indirect reference's stated type, if any; its resolution's type is
// checked when it is resolved).
std::shared_ptr<const Binding> Bind(Client& client, const Ref& ref,
                                    const InterfaceInfo& interface);

// A stub's own policy settings; unset fields defer to the Client's.
struct StubConfig {
  std::optional<SelectionPolicy> selection;
  Replication replication = Replication::kNone;
  Completion completion = Completion::kAll;
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_CLIENT_INTERNAL_TARGET_H_
