// peer_korb_server: the peer benchmark's Korb server process. One object
// server, one adapter with the threading policy asked for, one echo object;
// prints the object's reference and serves until SIGTERM.
//
//   peer_korb_server --policy inline|pool [--pool-threads N] [--listen HOST:PORT]
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "adapter/object_server.h"
#include "bench/echo_servants.h"
#include "bench/peers/peer_server.h"

namespace {

[[noreturn]] void Usage() {
  std::cerr << "usage: peer_korb_server --policy inline|pool [--pool-threads N] "
               "[--listen HOST:PORT]"
            << std::endl;
  std::exit(EXIT_FAILURE);
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals = korb::bench::peers::BlockTerminationSignals();
  std::string policy, listen = "127.0.0.1:0";
  int pool_threads = 4;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--policy" && i + 1 < argc) {
      policy = argv[++i];
    } else if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--pool-threads" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &pool_threads) && pool_threads > 0 &&
               pool_threads <= 256) {
      ++i;
    } else {
      Usage();
    }
  }
  korb::ThreadingOptions threading;
  if (policy == "inline") {
    threading = korb::ThreadingOptions::Inline();
  } else if (policy == "pool") {
    threading = korb::ThreadingOptions::SharedPool(pool_threads);
  } else {
    Usage();
  }

  korb::ObjectServerOptions options;
  options.listen = {listen};
  // The registered-method path, as echo_bench uses it (docs/performance.md).
  options.interfaces = {&echo::EchoServant::korb_static_interface()};
  absl::StatusOr<std::unique_ptr<korb::ObjectServer>> server = korb::ObjectServer::Start(options);
  absl::StatusOr<korb::ObjectAdapter*> adapter =
      server.ok() ? (*server)->CreateAdapter(policy, {.threading = threading})
                  : absl::StatusOr<korb::ObjectAdapter*>(server.status());
  absl::StatusOr<korb::Ref> ref =
      adapter.ok() ? (*adapter)->Activate("echo", std::make_shared<korb::bench::KorbEcho>())
                   : absl::StatusOr<korb::Ref>(adapter.status());
  if (!ref.ok()) {
    std::cerr << "peer_korb_server: " << ref.status() << std::endl;
    return EXIT_FAILURE;
  }
  korb::bench::peers::PrintEndpoint(ref->ToString());
  korb::bench::peers::WaitForTermination(signals);
  (*server)->Shutdown(absl::Seconds(2));
  return EXIT_SUCCESS;
}
