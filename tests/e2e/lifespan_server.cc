// lifespan_server: a server for lifespan_e2e_test, run twice on one port.
//
//   lifespan_server --listen HOST:PORT
//
// Hosts two adapters with the same ServantActivator (any id starting with
// "obj-" incarnates an Echo servant): "transient" (Lifespan::kTransient) and
// "persistent" (Lifespan::kPersistent). Prints, one per line, a reference to
// "obj-1" in the transient adapter and one in the persistent adapter, then
// serves until SIGTERM or SIGINT. Each Echo reply's text says which process
// incarnated the servant and how many incarnations that process made, so a
// test can tell that a call after a restart was served by a fresh
// incarnation in the new process.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "common/status_macros.h"
#include "korbtest/testing.korb.h"

namespace {

class IncarnatedEcho : public korbtest::EchoServant {
 public:
  explicit IncarnatedEcho(std::string origin) : origin_(std::move(origin)) {}
  absl::StatusOr<korbtest::EchoReply> Echo(korb::CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    korbtest::EchoReply reply;
    reply.set_text(origin_);
    reply.set_object_id(std::string(context.object_id()));
    reply.set_metadata(request.text());
    return reply;
  }

 private:
  const std::string origin_;  // "pid <pid> incarnation <n>"
};

class Activator : public korb::ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<korb::Servant>> Incarnate(absl::string_view id) override {
    if (!absl::StartsWith(id, "obj-")) return korb::ObjectNotExist(id);
    return std::make_shared<IncarnatedEcho>(
        absl::StrCat("pid ", getpid(), " incarnation ", ++incarnations_));
  }

 private:
  std::atomic<int> incarnations_{0};
};

absl::Status Serve(const std::string& listen) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();

  korb::ObjectServerOptions options;
  options.listen = {listen};
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start(options));
  auto activator = std::make_shared<Activator>();
  const absl::string_view type = korbtest::EchoServant::korb_static_interface().name;
  for (auto [name, lifespan] : {std::pair{"transient", korb::Lifespan::kTransient},
                                std::pair{"persistent", korb::Lifespan::kPersistent}}) {
    ASSIGN_OR_RETURN(korb::ObjectAdapter * adapter,
                     server->CreateAdapter(name, {.lifespan = lifespan}));
    RETURN_IF_ERROR(adapter->SetServantActivator(activator));
    RETURN_IF_ERROR(adapter->Resume());
    std::cout << adapter->CreateReference("obj-1", type) << "\n";
  }
  std::cout << std::flush;
  signals.Wait();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--listen") {
    std::cerr << "usage: lifespan_server --listen HOST:PORT" << std::endl;
    return EXIT_FAILURE;
  }
  absl::Status status = Serve(argv[2]);
  if (!status.ok()) {
    std::cerr << "lifespan_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
