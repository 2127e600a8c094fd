#include "bank/bank_app.h"

#include <memory>
#include <utility>

#include "bank/bank_servants.h"
#include "common/status_macros.h"
#include "servants/memory_state_store.h"

namespace bank {

absl::StatusOr<HostedBank> HostBank(korb::ObjectServer& server, const BankConfig& config) {
  HostedBank hosted;
  if (config.db_path.empty()) {
    hosted.store = std::make_shared<korb::MemoryStateStore>();
  } else {
    ASSIGN_OR_RETURN(
        std::unique_ptr<korb::SqliteStateStore> sqlite,
        korb::SqliteStateStore::Open(config.db_path, {.synchronous = config.synchronous}));
    hosted.store = std::move(sqlite);
  }
  korb::AdapterOptions options;
  options.threading = config.threading;
  options.lifespan = korb::Lifespan::kPersistent;
  options.max_active_objects = config.max_active;
  options.persistence = {.store = hosted.store, .mode = config.mode};
  ASSIGN_OR_RETURN(hosted.adapter, server.CreateAdapter("bank", options));
  RETURN_IF_ERROR(hosted.adapter->SetServantActivator(
      std::make_shared<AccountActivator>(hosted.store, config.record_requests)));
  ASSIGN_OR_RETURN(hosted.bank_ref,
                   hosted.adapter->Activate("main", std::make_shared<BankImpl>(hosted.store)));
  RETURN_IF_ERROR(hosted.adapter->SetDefaultObject("main"));
  // Calls that arrived while the activator and the bank were being set up
  // (e.g. clients retrying across a restart) were held until now.
  RETURN_IF_ERROR(hosted.adapter->Resume());
  return hosted;
}

}  // namespace bank
