// bank_server: hosts a Bank object and the Accounts it opens, keeping the
// accounts in a SQLite database and in memory only while they are used.
//
//   bank_server [--listen HOST:PORT] [--db PATH] [--write-back]
//               [--sync full|normal|off] [--max-active N] [--threads N | --inline]
//               [--grace SECONDS] [--naming REF [--name NAME] [--lease-ttl SECONDS]]
//               [--admin]
//
//   --listen      where to listen (default 127.0.0.1:0, a free port). Give a
//                 fixed port for references that survive restarts.
//   --db          the SQLite database file (created if missing). Without it
//                 the accounts live in memory and die with the process.
//   --write-back  save an account when it is evicted or at shutdown, not
//                 after every change (a crash loses unsaved changes).
//   --sync        SQLite's synchronous setting (default full: an
//                 acknowledged change survives a power loss; normal: it
//                 survives a process crash).
//   --max-active  accounts kept in memory at most (default 1000; 0: no cap).
//   --threads N   a shared pool of N workers (default 8); --inline runs
//                 calls on gRPC's threads.
//   --grace       at SIGINT/SIGTERM, how long calls in flight may take to
//                 finish before they are cancelled (default 5).
//   --naming      a naming service's reference (what korb-naming prints):
//                 register the bank there under --name (default "bank"),
//                 held by a lease of --lease-ttl seconds (default 5) that
//                 this server keeps alive; a clean shutdown unregisters, a
//                 crash lets the lease expire. Clients then find the bank as
//                 korbname://<naming endpoints>/bank?type=bank.Bank. The
//                 reference is printed once registered (or after 5 s).
//   --admin       also host Korb's admin object (korb-admin/admin), so that
//                 `korbctl ls|stats|adapter HOST:PORT` inspect and control
//                 this server, and ShutdownServer stops it as SIGTERM does
//                 (docs/operations.md).
//
// Prints the bank's reference on the first line of standard output, then
// serves until SIGINT or SIGTERM. The adapter's lifespan is persistent, so
// the bank's and the accounts' references stay valid across a restart on the
// same --listen address and --db file. The bank is also the default object
// of its interface, so a plain gRPC client can call bank.Bank/Open.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "bank/bank_app.h"
#include "client/client.h"
#include "common/status_macros.h"
#include "bank/bank.korb.h"
#include "korb/admin.korb.h"
#include "servants/admin/admin_service.h"
#include "servants/naming/registration.h"

namespace {

constexpr char kUsage[] =
    "usage: bank_server [--listen HOST:PORT] [--db PATH] [--write-back] "
    "[--sync full|normal|off] [--max-active N] [--threads N | --inline] [--grace SECONDS] "
    "[--naming REF [--name NAME] [--lease-ttl SECONDS]] [--admin]";

struct Flags {
  std::string listen = "127.0.0.1:0";
  absl::Duration grace = absl::Seconds(5);
  bank::BankConfig bank;
  std::string naming;  // empty: do not register
  std::string name = "bank";
  int lease_ttl = 5;
  bool admin = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  using Synchronous = korb::SqliteStateStoreOptions::Synchronous;
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--listen" && has_value) {
      flags.listen = argv[++i];
    } else if (arg == "--db" && has_value) {
      flags.bank.db_path = argv[++i];
    } else if (arg == "--write-back") {
      flags.bank.mode = korb::PersistenceMode::kWriteBack;
    } else if (arg == "--sync" && has_value) {
      std::string value = argv[++i];
      if (value == "full") {
        flags.bank.synchronous = Synchronous::kFull;
      } else if (value == "normal") {
        flags.bank.synchronous = Synchronous::kNormal;
      } else if (value == "off") {
        flags.bank.synchronous = Synchronous::kOff;
      } else {
        return absl::InvalidArgumentError("--sync takes full, normal or off");
      }
    } else if (arg == "--max-active" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.bank.max_active)) {
        return absl::InvalidArgumentError("--max-active needs a number");
      }
    } else if (arg == "--threads" && has_value) {
      int threads;
      if (!absl::SimpleAtoi(argv[++i], &threads) || threads <= 0) {
        return absl::InvalidArgumentError("--threads needs a positive number");
      }
      flags.bank.threading = korb::ThreadingOptions::SharedPool(threads);
    } else if (arg == "--grace" && has_value) {
      double seconds;
      if (!absl::SimpleAtod(argv[++i], &seconds) || seconds < 0) {
        return absl::InvalidArgumentError("--grace needs a number of seconds");
      }
      flags.grace = absl::Seconds(seconds);
    } else if (arg == "--naming" && has_value) {
      flags.naming = argv[++i];
    } else if (arg == "--name" && has_value) {
      flags.name = argv[++i];
    } else if (arg == "--lease-ttl" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.lease_ttl) || flags.lease_ttl <= 0) {
        return absl::InvalidArgumentError("--lease-ttl needs a positive number of seconds");
      }
    } else if (arg == "--admin") {
      flags.admin = true;
    } else if (arg == "--inline") {
      flags.bank.threading = korb::ThreadingOptions::Inline();
    } else {
      return absl::InvalidArgumentError(kUsage);
    }
  }
  return flags;
}

absl::Status Serve(const Flags& flags) {
  // Before gRPC starts threads, which inherit the blocked mask.
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();

  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  // Registered interfaces are what server reflection lists (korbctl services).
  options.interfaces = {&bank::BankServant::korb_static_interface(),
                        &bank::AccountServant::korb_static_interface()};
  if (flags.admin) {
    options.interfaces.push_back(&korb::admin::AdminServant::korb_static_interface());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
                   korb::ObjectServer::Start(options));
  ASSIGN_OR_RETURN(bank::HostedBank bank, bank::HostBank(*server, flags.bank));
  if (flags.admin) {
    // A remote ShutdownServer ends the process as SIGTERM does: the signal
    // reaches signals.Wait() below, which shuts down from this thread.
    ASSIGN_OR_RETURN(korb::Ref admin,
                     korb::admin::Serve(*server, {.on_shutdown = [](absl::Duration) {
                                          kill(getpid(), SIGTERM);
                                        }}));
    std::cerr << "bank_server: admin object " << admin << std::endl;
  }

  // Registration in the naming service, if asked for. It never holds up the
  // start: it keeps trying in the background while the naming service is
  // unreachable.
  korb::Client client;
  std::unique_ptr<korb::naming::Registration> registration;
  if (!flags.naming.empty()) {
    ASSIGN_OR_RETURN(korb::Ref naming, korb::Ref::Parse(flags.naming));
    korb::naming::RegistrationOptions options;
    options.ttl_seconds = flags.lease_ttl;
    ASSIGN_OR_RETURN(registration,
                     korb::naming::Registration::Start(
                         client, naming, {{.name = flags.name, .ref = bank.bank_ref}}, options));
    // The reference line means "ready": clients that read it find the bank by
    // name. A naming service that does not answer delays it by 5 s at most.
    if (!registration->WaitUntilRegistered(absl::Seconds(5))) {
      std::cerr << "bank_server: not registered yet (" << registration->last_error()
                << "); serving anyway, still trying" << std::endl;
    }
  }
  std::cout << bank.bank_ref << std::endl;

  const int signal = signals.Wait();
  std::cerr << "bank_server: signal " << signal << ", shutting down" << std::endl;
  // Unregister first, so that clients stop being sent here.
  if (registration != nullptr) registration->Stop();
  // Shutdown etherealizes every active account; with --write-back that is
  // when their changes are saved.
  server->Shutdown(flags.grace);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  absl::Status status = flags.ok() ? Serve(*flags) : flags.status();
  if (!status.ok()) {
    std::cerr << "bank_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
