// korb::admin::AdminImpl: the servant of Korb's admin object
// (idl/korb/admin.proto) over one ObjectServer. Hosted by korb::admin::Serve
// (admin_service.h); a program may also activate it in an adapter of its own.
//
// Every input is validated before it touches the server (admin.proto lists
// the bounds); nothing a caller sends is kept, so the servant holds no state
// a client can grow.
//
// Thread-safety: thread-safe; operations run concurrently on the admin
// adapter's threads and never hold a lock while calling into the server.
#ifndef KORB_SERVANTS_ADMIN_ADMIN_SERVANT_H_
#define KORB_SERVANTS_ADMIN_ADMIN_SERVANT_H_

#include "absl/time/time.h"
#include "adapter/object_server.h"
#include "korb/admin.korb.h"
#include "servants/admin/admin_service.h"

namespace korb::admin {

class AdminImpl : public AdminServant {
 public:
  // Page sizes of ListObjects.
  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 1000;
  // Longest adapter name and page token accepted.
  static constexpr size_t kMaxAdapterNameBytes = 256;
  static constexpr size_t kMaxPageTokenBytes = 4096;
  // Longest grace period of ShutdownAdapter/ShutdownServer; 0 means the default.
  static constexpr int kMaxGraceMs = 600000;
  static constexpr int kDefaultGraceMs = 5000;

  // `server` is borrowed and must outlive the servant (an ObjectServer
  // releases its servants when it shuts down, so hosting it there is enough).
  AdminImpl(ObjectServer& server, ServeOptions options);

  absl::StatusOr<ServerInfo> GetServerInfo(CallContext& context, const korb::Empty&) override;
  absl::StatusOr<ListAdaptersReply> ListAdapters(CallContext& context, const korb::Empty&) override;
  absl::StatusOr<AdapterInfo> GetAdapter(CallContext& context,
                                         const AdapterRequest& request) override;
  absl::StatusOr<AdapterMetrics> GetMetrics(CallContext& context,
                                            const AdapterRequest& request) override;
  absl::StatusOr<ListObjectsReply> ListObjects(CallContext& context,
                                               const ListObjectsRequest& request) override;
  absl::StatusOr<AdapterInfo> Hold(CallContext& context, const AdapterRequest& request) override;
  absl::StatusOr<AdapterInfo> Discard(CallContext& context, const AdapterRequest& request) override;
  absl::StatusOr<AdapterInfo> Resume(CallContext& context, const AdapterRequest& request) override;
  absl::StatusOr<ShutdownAdapterReply> ShutdownAdapter(
      CallContext& context, const ShutdownAdapterRequest& request) override;
  absl::StatusOr<korb::Empty> ShutdownServer(CallContext& context,
                                             const ShutdownServerRequest& request) override;
  absl::StatusOr<LogLevel> GetLogLevel(CallContext& context, const korb::Empty&) override;
  absl::StatusOr<LogLevel> SetLogLevel(CallContext& context, const LogLevel& request) override;

 private:
  // The adapter a request names: INVALID_ARGUMENT for a malformed name,
  // NOT_FOUND for one the server does not have.
  absl::StatusOr<ObjectAdapter*> FindAdapter(absl::string_view name) const;
  // As FindAdapter, and FAILED_PRECONDITION for the admin's own adapter
  // (holding, discarding or shutting it down would cut the admin off).
  absl::StatusOr<ObjectAdapter*> FindControllableAdapter(absl::string_view name) const;

  ObjectServer& server_;
  const ServeOptions options_;
  const absl::Time started_;
};

// Conversions to the admin messages, shared with tests.
AdapterInfo ToAdapterInfo(const ObjectAdapter& adapter);
AdapterMetrics ToAdapterMetrics(absl::string_view adapter, const korb::AdapterMetrics& metrics);

}  // namespace korb::admin

#endif  // KORB_SERVANTS_ADMIN_ADMIN_SERVANT_H_
