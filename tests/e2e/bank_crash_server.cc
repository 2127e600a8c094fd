// bank_crash_server: bank_server (bank::HostBank) with a fault for
// bank_crash_e2e_test, which needs a crash at one exact point: after a
// Deposit was applied and saved, before its reply leaves.
//
//   bank_crash_server --listen HOST:PORT --db PATH [--kill-at-deposit N]
//                     [--forget-request-ids] [--setup-delay-ms N]
//
//   --kill-at-deposit N   the N-th Deposit that runs (counted from 1) kills
//                         the process with SIGKILL once the adapter has
//                         saved its state (write-through) and before the
//                         reply is sent, through the adapter's reply-dropping
//                         fault hook, which runs after the save.
//   --forget-request-ids  accounts do not record request ids (the hazard
//                         the test shows: a retry after the crash applies
//                         twice).
//   --setup-delay-ms N    a slow start-up: the server listens N ms before it
//                         creates the bank's adapter (as if opening a large
//                         database), so that calls arrive in between.
//
// Prints the bank's reference, then serves until SIGTERM or SIGINT.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "adapter/testing/fault_injection.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "bank/bank_app.h"
#include "common/status_macros.h"

namespace {

struct Flags {
  std::string listen;
  bank::BankConfig bank;
  int kill_at_deposit = 0;  // 0: never
  int setup_delay_ms = 0;
};

absl::Status Serve(const Flags& flags) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();

  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start(options));
  absl::SleepFor(absl::Milliseconds(flags.setup_delay_ms));
  ASSIGN_OR_RETURN(bank::HostedBank bank, bank::HostBank(*server, flags.bank));
  if (flags.kill_at_deposit > 0) {
    auto deposits = std::make_shared<std::atomic<int>>(0);
    korb::testing::SetReplyDropper(*bank.adapter,
        [deposits, n = flags.kill_at_deposit](absl::string_view, absl::string_view method) {
          if (method == "/bank.Account/Deposit" && ++*deposits == n) raise(SIGKILL);
          return false;
        });
  }
  std::cout << bank.bank_ref << std::endl;
  signals.Wait();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  flags.bank.synchronous = korb::SqliteStateStoreOptions::Synchronous::kNormal;
  bool ok = true;
  for (int i = 1; i < argc && ok; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      flags.listen = argv[++i];
    } else if (arg == "--db" && i + 1 < argc) {
      flags.bank.db_path = argv[++i];
    } else if (arg == "--kill-at-deposit" && i + 1 < argc) {
      ok = absl::SimpleAtoi(argv[++i], &flags.kill_at_deposit);
    } else if (arg == "--setup-delay-ms" && i + 1 < argc) {
      ok = absl::SimpleAtoi(argv[++i], &flags.setup_delay_ms);
    } else if (arg == "--forget-request-ids") {
      flags.bank.record_requests = false;
    } else {
      ok = false;
    }
  }
  if (!ok || flags.listen.empty() || flags.bank.db_path.empty()) {
    std::cerr << "usage: bank_crash_server --listen HOST:PORT --db PATH [--kill-at-deposit N] "
                 "[--forget-request-ids] [--setup-delay-ms N]"
              << std::endl;
    return EXIT_FAILURE;
  }
  absl::Status status = Serve(flags);
  if (!status.ok()) {
    std::cerr << "bank_crash_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
