// korb::naming::Serve: hosts the naming service in any ObjectServer, as the
// `korb-naming` program does: adapter "korb-naming" (persistent lifespan, so
// the reference stays valid across restarts on the same endpoint), object
// "root", which is also the server's default object of
// korb.naming.NamingContext (plain gRPC clients reach it with no korb-object
// metadata).
//
// Thread-safety: thread-safe (as ObjectServer::CreateAdapter).
//
// Usage:
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start({}));
//   ASSIGN_OR_RETURN(korb::Ref naming,
//                    korb::naming::Serve(*server, std::make_shared<korb::naming::MemoryBackend>()));
//   std::cout << naming << "\n";
//   // korb://127.0.0.1:PORT/korb-naming/root?type=korb.naming.NamingContext
#ifndef KORB_SERVANTS_NAMING_NAMING_SERVICE_H_
#define KORB_SERVANTS_NAMING_NAMING_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapter/object_server.h"
#include "common/ref.h"
#include "servants/naming/naming_backend.h"

namespace korb::naming {

inline constexpr absl::string_view kAdapterName = "korb-naming";
inline constexpr absl::string_view kObjectId = "root";

struct ServeOptions {
  // Calls running at once. WaitForChanges holds a thread for its whole wait,
  // so this should exceed the backend's waiter bound (MemoryBackendOptions::
  // max_waiters, 256 by default) by the calls that must never queue behind
  // waiters. Beyond it calls queue (ThreadingOptions::max_queued_calls).
  int max_threads = 256 + 64;
};

// Creates the adapter and activates the service over `backend` (not null).
// ALREADY_EXISTS if this server already has an adapter "korb-naming".
absl::StatusOr<Ref> Serve(ObjectServer& server, std::shared_ptr<NamingBackend> backend,
                          const ServeOptions& options = {});

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_NAMING_SERVICE_H_
