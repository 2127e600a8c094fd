// greeter_server: serves one Greeter object on 127.0.0.1 (a free port),
// prints its reference and serves until SIGTERM or SIGINT.
#include <cstdlib>
#include <iostream>
#include <memory>

#include <korb/adapter/object_server.h>
#include <korb/adapter/termination_signals.h>

#include "greeter.korb.h"

namespace {

class Greeter : public greeter::GreeterServant {
 public:
  absl::StatusOr<greeter::GreetReply> Greet(korb::CallContext&,
                                            const greeter::GreetRequest& request) override {
    greeter::GreetReply reply;
    reply.set_text("hello, " + request.name());
    return reply;
  }
};

absl::Status Serve() {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  absl::StatusOr<std::unique_ptr<korb::ObjectServer>> server = korb::ObjectServer::Start({});
  if (!server.ok()) return server.status();
  absl::StatusOr<korb::ObjectAdapter*> adapter = (*server)->CreateAdapter("greeter");
  if (!adapter.ok()) return adapter.status();
  absl::StatusOr<korb::Ref> ref = (*adapter)->Activate("main", std::make_shared<Greeter>());
  if (!ref.ok()) return ref.status();
  if (absl::Status resumed = (*adapter)->Resume(); !resumed.ok()) return resumed;
  std::cout << *ref << std::endl;
  signals.Wait();
  (*server)->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = Serve();
  if (!status.ok()) {
    std::cerr << "greeter_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
