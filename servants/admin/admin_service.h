// korb::admin::Serve: hosts Korb's admin object (idl/korb/admin.proto) in any
// ObjectServer: adapter "korb-admin" (persistent lifespan, so the reference
// depends only on the server's endpoint), object "admin", which is also the
// server's default object of korb.admin.Admin. `korbctl` finds it there from
// a server's "host:port" alone (docs/operations.md).
//
// The admin object reports and changes what the server serves (adapter
// states, shutdown): host it only where the server's port is trusted. When
// Korb gains access control, the "korb-admin" adapter is the place to guard.
//
// Thread-safety: thread-safe (as ObjectServer::CreateAdapter).
//
// Usage:
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start({}));
//   ASSIGN_OR_RETURN(korb::Ref admin, korb::admin::Serve(*server));
//   std::cout << admin << "\n";
//   // korb://127.0.0.1:PORT/korb-admin/admin?type=korb.admin.Admin
//   // then: korbctl stats 127.0.0.1:PORT
#ifndef KORB_SERVANTS_ADMIN_ADMIN_SERVICE_H_
#define KORB_SERVANTS_ADMIN_ADMIN_SERVICE_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/access_control.h"
#include "adapter/object_server.h"
#include "common/ref.h"

namespace korb::admin {

inline constexpr absl::string_view kAdapterName = "korb-admin";
inline constexpr absl::string_view kObjectId = "admin";
inline constexpr absl::string_view kInterfaceName = "korb.admin.Admin";

struct ServeOptions {
  // Called by the ShutdownServer operation with the grace period the caller
  // asked for; null (the default) refuses remote shutdown with
  // FAILED_PRECONDITION. It runs on one of the admin adapter's call threads,
  // possibly concurrently with itself, and must not block nor shut the
  // server down itself (that waits for this very call): tell the thread
  // that owns the server, e.g. raise(SIGTERM) where the main thread waits in
  // korb::TerminationSignals::Wait().
  std::function<void(absl::Duration grace)> on_shutdown;
  // Admin calls running at once (ShutdownAdapter blocks one for up to its
  // grace period); beyond it calls queue, up to max_queued_calls.
  int max_threads = 8;
  size_t max_queued_calls = 256;
  // Who may call the admin object (adapter/access_control.h). The default
  // has no rule and lets every caller in: wherever others can reach the
  // port, name the operators (mTLS identities, or an Authenticator's
  // principals) in `callers`, and perhaps monitoring in `readonly_callers`
  // (the readonly operations only). Also settable later through
  // FindAdapter("korb-admin")->SetAccessPolicy().
  AccessPolicy access{};
};

// Creates the adapter and activates the admin object over `server` (which
// owns it and outlives it). ALREADY_EXISTS if the server already has an
// adapter "korb-admin".
absl::StatusOr<Ref> Serve(ObjectServer& server, ServeOptions options = {});

// The admin object's reference on a server listening at `endpoint`
// ("host:port"); INVALID_ARGUMENT if `endpoint` is malformed.
absl::StatusOr<Ref> AdminRef(absl::string_view endpoint);

}  // namespace korb::admin

#endif  // KORB_SERVANTS_ADMIN_ADMIN_SERVICE_H_
