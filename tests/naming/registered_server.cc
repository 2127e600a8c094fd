// registered_server: a server for naming_registration_e2e_test that registers
// its one object in a naming service with korb::naming::Registration.
//
//   registered_server --naming REF --name NAME [--ttl SECONDS] [--listen HOST:PORT]
//
// Hosts an Echo object "echo" in persistent adapter "registered" (so several
// of these servers form one replica group under NAME) and registers it under
// NAME with a lease of --ttl seconds (default 5). Prints its own reference on
// the first line of standard output once it listens (before it is
// registered: registration never holds up a server's start), then
// "registered" once the registration first succeeds, then serves until
// SIGTERM or SIGINT, when it unregisters and exits.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "client/client.h"
#include "common/status_macros.h"
#include "korbtest/testing.korb.h"
#include "servants/naming/registration.h"

namespace {

class ServerEcho : public korbtest::EchoServant {
 public:
  explicit ServerEcho(std::string origin) : origin_(std::move(origin)) {}
  absl::StatusOr<korbtest::EchoReply> Echo(korb::CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    korbtest::EchoReply reply;
    reply.set_text(origin_);
    reply.set_object_id(std::string(context.object_id()));
    reply.set_metadata(request.text());
    return reply;
  }

 private:
  const std::string origin_;
};

struct Flags {
  std::string naming;
  std::string name;
  int ttl = 5;
  std::string listen = "127.0.0.1:0";
};

absl::Status Serve(const Flags& flags) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  ASSIGN_OR_RETURN(korb::Ref naming, korb::Ref::Parse(flags.naming));
  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
                   korb::ObjectServer::Start(options));
  ASSIGN_OR_RETURN(korb::ObjectAdapter * adapter,
                   server->CreateAdapter("registered", {.lifespan = korb::Lifespan::kPersistent}));
  ASSIGN_OR_RETURN(korb::Ref ref,
                   adapter->Activate("echo", std::make_shared<ServerEcho>(
                                                 server->endpoints().front().ToString())));
  std::cout << ref << std::endl;
  korb::Client client;
  ASSIGN_OR_RETURN(std::unique_ptr<korb::naming::Registration> registration,
                   korb::naming::Registration::Start(client, naming, {{flags.name, ref}},
                                                     {.ttl_seconds = flags.ttl}));
  // Reports the first registration without holding up the signal wait.
  std::thread reporter([&registration] {
    if (registration->WaitUntilRegistered(absl::Hours(1))) std::cout << "registered" << std::endl;
  });
  reporter.detach();
  signals.Wait();
  registration->Stop();
  server->Shutdown(absl::Seconds(2));
  std::_Exit(EXIT_SUCCESS);  // the detached reporter may still wait
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--naming") {
      flags.naming = argv[i + 1];
    } else if (arg == "--name") {
      flags.name = argv[i + 1];
    } else if (arg == "--listen") {
      flags.listen = argv[i + 1];
    } else if (arg != "--ttl" || !absl::SimpleAtoi(argv[i + 1], &flags.ttl)) {
      std::cerr << "usage: registered_server --naming REF --name NAME [--ttl S] [--listen H:P]\n";
      return EXIT_FAILURE;
    }
  }
  absl::Status status = Serve(flags);
  std::cerr << "registered_server: " << status << std::endl;
  return EXIT_FAILURE;
}
