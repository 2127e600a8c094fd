// tls_server: the server of tls_e2e_test, a separate process.
//
//   tls_server --listen HOST:PORT [--cert PEM --key PEM [--client-ca PEM]
//              [--optional-client-cert]]
//
// Listens (with TLS when --cert and --key are given, mTLS with --client-ca)
// and hosts the Echo object "e" in two adapters:
//   "open"     no access policy;
//   "guarded"  callers cn:alice, readonly callers cn:auditor (Ping only),
//              priority callers cn:alice.
// Each Echo reply's `metadata` is what the servant saw of its caller:
// "<verified>|<common name>|<subject>|<principals, comma-separated>|<tls>".
// Prints the reference of "open/e", then of "guarded/e", one per line, then
// serves until SIGTERM or SIGINT. Exits non-zero with the error if the
// server does not start (e.g. an unreadable PEM file).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "common/status_macros.h"
#include "korbtest/testing.korb.h"

namespace {

class WhoAmI : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(korb::CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    const korb::PeerIdentity& peer = context.peer_identity();
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    reply.set_object_id(std::string(context.object_id()));
    reply.set_metadata(absl::StrCat(peer.verified ? "verified" : "anonymous", "|",
                                    peer.common_name, "|", peer.subject, "|",
                                    absl::StrJoin(peer.Principals(), ","), "|",
                                    peer.tls ? "tls" : "plaintext"));
    return reply;
  }
  absl::StatusOr<korb::Empty> Ping(korb::CallContext&, const korb::Empty&) override {
    return korb::Empty();
  }
};

absl::Status Serve(const korb::ObjectServerOptions& options) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server, korb::ObjectServer::Start(options));
  auto servant = std::make_shared<WhoAmI>();
  korb::AccessPolicy guarded;
  guarded.callers = {"cn:alice"};
  guarded.readonly_callers = {"cn:auditor"};
  guarded.priority_callers = {"cn:alice"};
  for (const auto& [name, access] : {std::pair{"open", korb::AccessPolicy()},
                                     std::pair{"guarded", guarded}}) {
    ASSIGN_OR_RETURN(korb::ObjectAdapter * adapter,
                     server->CreateAdapter(name, {.access = access}));
    ASSIGN_OR_RETURN(korb::Ref ref, adapter->Activate("e", servant));
    RETURN_IF_ERROR(adapter->Resume());
    std::cout << ref << "\n";
  }
  std::cout << std::flush;
  signals.Wait();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  korb::ObjectServerOptions options;
  options.listen.clear();
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--optional-client-cert") {
      options.tls.require_client_certificate = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "tls_server: " << flag << " needs a value" << std::endl;
      return EXIT_FAILURE;
    }
    const std::string value = argv[++i];
    if (flag == "--listen") {
      options.listen.push_back(value);
    } else if (flag == "--cert") {
      options.tls.certificate_chain_file = value;
    } else if (flag == "--key") {
      options.tls.private_key_file = value;
    } else if (flag == "--client-ca") {
      options.tls.client_ca_file = value;
    } else {
      std::cerr << "tls_server: unknown flag " << flag << std::endl;
      return EXIT_FAILURE;
    }
  }
  absl::Status status = Serve(options);
  if (!status.ok()) {
    std::cerr << "tls_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
