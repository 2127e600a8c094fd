// bank::HostBank: sets up the bank example in an ObjectServer — the state
// store, the "bank" adapter (persistent lifespan, an AccountActivator, a cap
// on active accounts) and the Bank object "main". bank_server is flags around
// it; the end-to-end tests and benchmarks use it too.
//
// Thread-compatible: call HostBank once per server, before clients call.
//
// Usage:
//   ASSIGN_OR_RETURN(bank::HostedBank bank,
//                    bank::HostBank(*server, {.db_path = "/var/lib/bank/bank.db"}));
//   std::cout << bank.bank_ref << "\n";   // korb://127.0.0.1:7000/bank/main?type=bank.Bank
#ifndef KORB_EXAMPLES_BANK_BANK_APP_H_
#define KORB_EXAMPLES_BANK_BANK_APP_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "adapter/object_adapter.h"
#include "adapter/object_server.h"
#include "common/ref.h"
#include "servants/sqlite_state_store.h"
#include "servants/state_store.h"

namespace bank {

struct BankConfig {
  // The SQLite database file holding the accounts; created if missing.
  // Empty: a MemoryStateStore, so accounts live as long as the process.
  std::string db_path{};
  // When SQLite flushes a commit (servants/sqlite_state_store.h). kFull: a
  // deposit whose reply the client saw survives even a power loss.
  korb::SqliteStateStoreOptions::Synchronous synchronous =
      korb::SqliteStateStoreOptions::Synchronous::kFull;
  // Write-through (default): every change is saved before its reply.
  // Write-back: saved when the account is evicted or the server shuts down
  // cleanly; a crash loses the changes of every account in memory.
  korb::PersistenceMode mode = korb::PersistenceMode::kWriteThrough;
  // Accounts kept in memory at most (least recently used evicted first);
  // 0: no cap.
  size_t max_active = 1000;
  // How calls run.
  korb::ThreadingOptions threading = korb::ThreadingOptions::SharedPool(8);
  // Remember request ids in account rows (see bank_servants.h). Turning it
  // off is only for tests that show what goes wrong without it.
  bool record_requests = true;
};

struct HostedBank {
  korb::ObjectAdapter* adapter = nullptr;  // owned by the server
  std::shared_ptr<korb::StateStore> store{};
  korb::Ref bank_ref{};  // the Bank object, "main"
};

// Opens the store and creates adapter "bank" in `server`, with the Bank as
// the default object of bank.Bank (plain gRPC clients reach it). The
// adapter's lifespan is persistent, so account references — and the bank's
// — stay valid when a server on the same address and database restarts.
absl::StatusOr<HostedBank> HostBank(korb::ObjectServer& server, const BankConfig& config);

}  // namespace bank

#endif  // KORB_EXAMPLES_BANK_BANK_APP_H_
