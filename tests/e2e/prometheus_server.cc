// prometheus_server: a server for prometheus_e2e_test.
//
//   prometheus_server
//
// Listens on 127.0.0.1 (free ports) with two adapters: "echo", holding an
// Echo object "obj-1" whose Echo fails with INVALID_ARGUMENT when the text
// is "fail", and one whose name needs escaping in a Prometheus label
// (kOddAdapterName). Serves /metrics on a free port. Prints, one per line,
// the reference to "obj-1" and the /metrics URL, then serves until SIGTERM
// or SIGINT.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "adapter/metrics_http.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "common/status_macros.h"
#include "korbtest/testing.korb.h"

namespace {

// A quote, a backslash, a newline, a percent sign and a non-ASCII byte.
constexpr char kOddAdapterName[] = "odd \"name\"\\\n%\xc3\xa9";

class FailingEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(korb::CallContext&,
                                           const korbtest::EchoRequest& request) override {
    if (request.text() == "fail") return absl::InvalidArgumentError("asked to fail");
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    return reply;
  }
};

absl::Status Serve() {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start({}));
  ASSIGN_OR_RETURN(korb::ObjectAdapter * echo, server->CreateAdapter("echo"));
  ASSIGN_OR_RETURN(korb::Ref ref, echo->Activate("obj-1", std::make_shared<FailingEcho>()));
  RETURN_IF_ERROR(echo->Resume());
  ASSIGN_OR_RETURN(korb::ObjectAdapter * odd, server->CreateAdapter(kOddAdapterName));
  RETURN_IF_ERROR(odd->Resume());
  ASSIGN_OR_RETURN(std::unique_ptr<korb::MetricsHttpServer> metrics,
                   korb::MetricsHttpServer::Start(server.get(), {}));
  std::cout << ref << "\n" << metrics->url() << "\n" << std::flush;
  signals.Wait();
  metrics->Stop();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = Serve();
  if (!status.ok()) {
    std::cerr << "prometheus_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
