#include "servants/naming/naming_service.h"

#include <string>
#include <utility>

#include "common/status_macros.h"
#include "servants/naming/naming_servant.h"

namespace korb::naming {

absl::StatusOr<Ref> Serve(ObjectServer& server, std::shared_ptr<NamingBackend> backend,
                          const ServeOptions& options) {
  if (backend == nullptr) return absl::InvalidArgumentError("naming backend is null");
  if (server.FindAdapter(kAdapterName) != nullptr) {
    return absl::AlreadyExistsError("this server already hosts the naming service");
  }
  AdapterOptions adapter_options;
  // A cached thread per call: long-poll waits block theirs (naming_servant.h).
  adapter_options.threading = ThreadingOptions::ThreadPerRequest(options.max_threads);
  adapter_options.lifespan = Lifespan::kPersistent;
  ASSIGN_OR_RETURN(ObjectAdapter * adapter,
                   server.CreateAdapter(std::string(kAdapterName), adapter_options));
  ASSIGN_OR_RETURN(Ref ref, adapter->Activate(std::string(kObjectId),
                                              std::make_shared<NamingContextImpl>(std::move(backend))));
  RETURN_IF_ERROR(adapter->SetDefaultObject(kObjectId));
  return ref;
}

}  // namespace korb::naming
