// bank_server: hosts a Bank object and the Accounts it opens.
//
//   bank_server [--listen HOST:PORT] [--threads N | --inline]
//
// Prints the bank's reference on the first line of standard output, then
// serves until SIGINT or SIGTERM. The bank is also the default object of its
// interface, so a plain gRPC client can call bank.Bank/Open without Korb.
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "adapter/object_server.h"
#include "bank/bank_servants.h"
#include "common/status_macros.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:0";
  korb::ThreadingOptions threading;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      flags.listen = argv[++i];
    } else if (arg == "--threads" && i + 1 < argc) {
      int threads;
      if (!absl::SimpleAtoi(argv[++i], &threads) || threads <= 0) {
        return absl::InvalidArgumentError("--threads needs a positive number");
      }
      flags.threading = korb::ThreadingOptions::SharedPool(threads);
    } else if (arg == "--inline") {
      flags.threading = korb::ThreadingOptions::Inline();
    } else {
      return absl::InvalidArgumentError("usage: bank_server [--listen HOST:PORT] "
                                        "[--threads N | --inline]");
    }
  }
  return flags;
}

absl::Status Serve(const Flags& flags) {
  // Signals are taken by sigwait() below, so block them before gRPC starts
  // threads (which inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
                   korb::ObjectServer::Start(options));
  ASSIGN_OR_RETURN(korb::ObjectAdapter * adapter,
                   server->CreateAdapter("bank", {.threading = flags.threading}));
  ASSIGN_OR_RETURN(korb::Ref bank, adapter->Activate("main", std::make_shared<bank::BankImpl>()));
  RETURN_IF_ERROR(adapter->SetDefaultObject("main"));
  std::cout << bank << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "bank_server: signal " << signal << ", shutting down" << std::endl;
  server->Shutdown();
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
