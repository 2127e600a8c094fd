// korb-naming: the naming service server (idl/korb/naming.proto,
// docs/naming.md).
//
//   korb-naming [--listen HOST:PORT] [--etcd ENDPOINTS] [--lease-ttl SECONDS]
//               [--print-ref FILE]
//
//   --listen HOST:PORT   where to listen (default 127.0.0.1:0, a free port)
//   --etcd ENDPOINTS     keep the directory in etcd v3 ("host:port[,host:port...]");
//                        without it, in this process's memory
//   --lease-ttl SECONDS  TTL of leases granted with ttl_seconds 0 (default 10)
//   --print-ref FILE     also write the reference into FILE (for scripts)
//
// Prints its reference on the first line of standard output once it listens,
//   korb://HOST:PORT/korb-naming/root?type=korb.naming.NamingContext
// then serves until SIGINT or SIGTERM.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "common/status_macros.h"
#include "servants/naming/etcd_backend.h"
#include "servants/naming/memory_backend.h"
#include "servants/naming/names.h"
#include "servants/naming/naming_servant.h"
#include "servants/naming/naming_service.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:0";
  std::string etcd;
  int lease_ttl = 10;
  std::string print_ref;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  const auto usage = absl::InvalidArgumentError(
      "usage: korb-naming [--listen HOST:PORT] [--etcd HOST:PORT[,HOST:PORT...]] "
      "[--lease-ttl SECONDS] [--print-ref FILE]");
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--listen" && has_value) {
      flags.listen = argv[++i];
    } else if (arg == "--etcd" && has_value) {
      flags.etcd = argv[++i];
    } else if (arg == "--lease-ttl" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.lease_ttl) || flags.lease_ttl < 1 ||
          flags.lease_ttl > korb::naming::kMaxTtlSeconds) {
        return usage;
      }
    } else if (arg == "--print-ref" && has_value) {
      flags.print_ref = argv[++i];
    } else {
      return usage;
    }
  }
  return flags;
}

absl::StatusOr<std::shared_ptr<korb::naming::NamingBackend>> MakeBackend(const Flags& flags) {
  if (!flags.etcd.empty()) {
    korb::naming::EtcdOptions options;
    options.endpoints = absl::StrSplit(flags.etcd, ',', absl::SkipEmpty());
    options.default_ttl_seconds = flags.lease_ttl;
    ASSIGN_OR_RETURN(std::shared_ptr<korb::naming::EtcdBackend> etcd,
                     korb::naming::EtcdBackend::Create(options));
    return etcd;
  }
  korb::naming::MemoryBackendOptions options;
  options.default_ttl_seconds = flags.lease_ttl;
  return std::make_shared<korb::naming::MemoryBackend>(options);
}

absl::Status Serve(const Flags& flags) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  ASSIGN_OR_RETURN(std::shared_ptr<korb::naming::NamingBackend> backend, MakeBackend(flags));
  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  options.interfaces = {&korb::naming::NamingContextServant::korb_static_interface()};
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
                   korb::ObjectServer::Start(options));
  ASSIGN_OR_RETURN(korb::Ref ref, korb::naming::Serve(*server, backend));
  if (!flags.print_ref.empty()) {
    std::ofstream out(flags.print_ref);
    out << ref << "\n";
    if (!out.flush()) return absl::UnavailableError("cannot write " + flags.print_ref);
  }
  std::cout << ref << std::endl;
  const int signal = signals.Wait();
  std::cerr << "korb-naming: signal " << signal << ", shutting down" << std::endl;
  server->Shutdown(absl::Seconds(2));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  absl::Status status = flags.ok() ? Serve(*flags) : flags.status();
  if (!status.ok()) {
    std::cerr << "korb-naming: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
