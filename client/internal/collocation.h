// The client runtime's way into collocated calls (adapter/internal/
// collocated.h). Collocated calls are served by the server library; the
// client library must not need it (a client-only program links no server
// side), so the server library installs these operations when its first
// ObjectServer starts. Until then — and always in a client-only program,
// which hosts no server to collocate with — OpenCollocated() finds nothing
// and every call goes over gRPC.
//
// Thread-safety: thread-safe.
#ifndef KORB_CLIENT_INTERNAL_COLLOCATION_H_
#define KORB_CLIENT_INTERNAL_COLLOCATION_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/ref.h"

namespace korb::internal {

class CollocatedCall;

// CollocatedCall's operations that live in the server library.
struct CollocationOps {
  std::shared_ptr<CollocatedCall> (*open)(const HostPort& endpoint);
  void (*start)(std::shared_ptr<CollocatedCall> call);
  void (*on_end)(CollocatedCall& call, std::function<void()> done);
  void (*abandon)(CollocatedCall& call, absl::Status status);
  void (*wait)(CollocatedCall& call, absl::Time deadline);
};

// Called by the server library; `ops` lives for the process. Idempotent.
void InstallCollocationOps(const CollocationOps* ops);

// As CollocatedCall::Open(): null if no server of this process answers to
// `endpoint` (or none was ever started).
std::shared_ptr<CollocatedCall> OpenCollocated(const HostPort& endpoint);
// As the CollocatedCall methods of the same names; only for a call that
// OpenCollocated() returned.
void StartCollocated(std::shared_ptr<CollocatedCall> call);
void OnCollocatedEnd(CollocatedCall& call, std::function<void()> done);
void AbandonCollocated(CollocatedCall& call, absl::Status status);
void WaitCollocated(CollocatedCall& call, absl::Time deadline);

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_COLLOCATION_H_
