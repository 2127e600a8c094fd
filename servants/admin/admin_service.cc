#include "servants/admin/admin_service.h"

#include <memory>
#include <string>
#include <utility>

#include "common/status_macros.h"
#include "servants/admin/admin_servant.h"

namespace korb::admin {

absl::StatusOr<Ref> Serve(ObjectServer& server, ServeOptions options) {
  if (server.FindAdapter(kAdapterName) != nullptr) {
    return absl::AlreadyExistsError("this server already hosts the admin object");
  }
  if (options.max_threads < 1) {
    return absl::InvalidArgumentError("ServeOptions.max_threads must be at least 1");
  }
  AdapterOptions adapter_options;
  // A thread per call, capped: ShutdownAdapter blocks its thread while the
  // other adapter drains, and must not stall the readonly operations.
  adapter_options.threading = ThreadingOptions::ThreadPerRequest(options.max_threads);
  adapter_options.threading.max_queued_calls = options.max_queued_calls;
  // The reference depends only on the endpoint: korbctl builds it from one.
  adapter_options.lifespan = Lifespan::kPersistent;
  adapter_options.access = options.access;
  ASSIGN_OR_RETURN(ObjectAdapter * adapter,
                   server.CreateAdapter(std::string(kAdapterName), adapter_options));
  ASSIGN_OR_RETURN(Ref ref,
                   adapter->Activate(std::string(kObjectId),
                                     std::make_shared<AdminImpl>(server, std::move(options))));
  RETURN_IF_ERROR(adapter->SetDefaultObject(kObjectId));
  // Adapters hold calls until they are ready (docs/adapter.md, "Start-up").
  RETURN_IF_ERROR(adapter->Resume());
  return ref;
}

absl::StatusOr<Ref> AdminRef(absl::string_view endpoint) {
  ASSIGN_OR_RETURN(HostPort host_port, HostPort::Parse(endpoint));
  Ref ref(std::string(kInterfaceName), {std::move(host_port)}, std::string(kAdapterName),
          std::string(kObjectId));
  RETURN_IF_ERROR(ref.Validate());
  return ref;
}

}  // namespace korb::admin
