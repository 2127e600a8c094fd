// replicated_server: hosts one replica of the replicated counter.
//
//   replicated_server [--listen HOST:PORT] [--name NAME] [--initial V]
//                     [--threads N | --inline] [--drop-every N] [--ping-interval-ms N]
//                     [--get-delay-ms N] [--grpc]
//                     [--naming REF --group NAME [--lease-ttl SECONDS]]
//
// The replica is object "counter" of persistent adapter "replicated": every
// replica has the same adapter name and id and no instance tag, so one
// reference with every replica's endpoint names the replicated object, and a
// replica restarted on its port is the same object again. Prints its own
// (one-endpoint) reference on the first line of standard output once it
// listens, then serves until SIGINT or SIGTERM.
//
//   --name N        the replica's name in Get and Stats replies (default: HOST:PORT)
//   --initial V     the counter's first value (default 0); a replica started
//                   with another value answers writes differently
//   --threads N     a shared pool of N workers runs the calls, one at a time
//                   per object (default 4);
//   --inline        or gRPC's callback thread does (what failover_bench uses,
//                   so that both sides of its comparison dispatch alike)
//   --drop-every N  testing only: lose the reply of every N-th Add after it
//                   ran (adapter/testing/fault_injection.h); the
//                   caller sees UNAVAILABLE and retries, and the reply cache
//                   answers the retry without adding twice
//   --get-delay-ms N  every Get sleeps N ms first (a slow replica)
//   --ping-interval-ms N  accept client keepalive pings this often, with or
//                   without calls in flight (ObjectServerOptions; gRPC's
//                   default is every 5 minutes at most), for clients that
//                   detect a hung replica by keepalive
//   --naming REF --group NAME  join the replica group NAME in the naming
//                   service REF (what korb-naming prints) as one member, held
//                   by a lease of --lease-ttl seconds (default 5) that this
//                   server keeps alive: clients calling
//                   korbname://<naming endpoints>/NAME?type=replicated.Counter
//                   see every live replica; a clean shutdown leaves the
//                   group, a crash lets the lease expire
//   --grpc          serve the same proto as a plain gRPC callback service
//                   instead (no Korb: for bench/failover_bench's baseline);
//                   prints "grpc://HOST:PORT"
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "adapter/testing/fault_injection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "adapter/object_server.h"
#include "adapter/termination_signals.h"
#include "client/client.h"
#include "common/status_macros.h"
#include "servants/naming/registration.h"
#include "replicated/counter.grpc.pb.h"
#include "replicated/counter_servant.h"

namespace {

struct Flags {
  std::string listen = "127.0.0.1:0";
  std::string name;
  int64_t initial = 0;
  int threads = 4;  // 0: inline
  int drop_every = 0;
  int ping_interval_ms = 0;  // 0: the server's default
  int get_delay_ms = 0;
  bool grpc = false;
  std::string naming;  // with group: register there
  std::string group;
  int lease_ttl = 5;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  const auto usage = absl::InvalidArgumentError(
      "usage: replicated_server [--listen HOST:PORT] [--name NAME] [--initial V] "
      "[--threads N | --inline] [--drop-every N] [--ping-interval-ms N] [--get-delay-ms N] "
      "[--grpc] [--naming REF --group NAME [--lease-ttl SECONDS]]");
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--listen" && has_value) {
      flags.listen = argv[++i];
    } else if (arg == "--name" && has_value) {
      flags.name = argv[++i];
    } else if (arg == "--initial" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.initial)) return usage;
    } else if (arg == "--threads" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.threads) || flags.threads <= 0) return usage;
    } else if (arg == "--drop-every" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.drop_every) || flags.drop_every < 0) return usage;
    } else if (arg == "--ping-interval-ms" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.ping_interval_ms) || flags.ping_interval_ms <= 0) {
        return usage;
      }
    } else if (arg == "--get-delay-ms" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.get_delay_ms) || flags.get_delay_ms < 0) return usage;
    } else if (arg == "--inline") {
      flags.threads = 0;
    } else if (arg == "--grpc") {
      flags.grpc = true;
    } else if (arg == "--naming" && has_value) {
      flags.naming = argv[++i];
    } else if (arg == "--group" && has_value) {
      flags.group = argv[++i];
    } else if (arg == "--lease-ttl" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &flags.lease_ttl) || flags.lease_ttl <= 0) return usage;
    } else {
      return usage;
    }
  }
  if (flags.naming.empty() != flags.group.empty()) return usage;
  return flags;
}

// The same counter as a plain gRPC service: what the benchmark compares with.
class GrpcCounter final : public replicated::Counter::CallbackService {
 public:
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const korb::Empty*,
                                replicated::Value* reply) override {
    korb::MutexLock lock(&mu_);
    reply->set_value(value_);
    reply->set_replica(name_);
    return Done(context);
  }
  grpc::ServerUnaryReactor* Add(grpc::CallbackServerContext* context,
                                const replicated::Delta* delta,
                                replicated::Value* reply) override {
    korb::MutexLock lock(&mu_);
    value_ += delta->amount();
    reply->set_value(value_);
    return Done(context);
  }
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* context,
                                const replicated::Delta* delta,
                                replicated::Value* reply) override {
    korb::MutexLock lock(&mu_);
    value_ = delta->amount();
    reply->set_value(value_);
    return Done(context);
  }

  GrpcCounter(std::string name, int64_t initial) : name_(std::move(name)), value_(initial) {}

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  const std::string name_;
  korb::Mutex mu_;
  int64_t value_ ABSL_GUARDED_BY(mu_);
};

void ReportSignal(int signal) {
  std::cerr << "replicated_server: signal " << signal << ", shutting down" << std::endl;
}

absl::Status ServeGrpc(const Flags& flags) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  int port = 0;
  std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  GrpcCounter service(flags.name, flags.initial);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(flags.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError("cannot listen on " + flags.listen);
  }
  std::cout << "grpc://" << host << ":" << port << std::endl;
  ReportSignal(signals.Wait());
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return absl::OkStatus();
}

absl::Status Serve(const Flags& flags) {
  const korb::TerminationSignals signals = korb::TerminationSignals::Block();
  korb::ObjectServerOptions options;
  options.listen = {flags.listen};
  // Counter's calls take gRPC's registered-method path (a little less CPU
  // per call than the generic one; docs/performance.md).
  options.interfaces = {&replicated::CounterServant::korb_static_interface()};
  if (flags.ping_interval_ms > 0) {
    options.min_client_ping_interval = absl::Milliseconds(flags.ping_interval_ms);
    options.permit_pings_without_calls = true;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<korb::ObjectServer> server,
                   korb::ObjectServer::Start(options));
  korb::AdapterOptions adapter_options;
  // Serialized: a replica applies the counter's calls one at a time in
  // arrival order, so an invoke-all write that returned early (kFirst) and
  // the next write reach every replica in the same order.
  adapter_options.threading = flags.threads > 0
                                  ? korb::ThreadingOptions::SerializedPool(flags.threads)
                                  : korb::ThreadingOptions::Inline();
  adapter_options.lifespan = korb::Lifespan::kPersistent;
  ASSIGN_OR_RETURN(korb::ObjectAdapter * adapter,
                   server->CreateAdapter("replicated", adapter_options));
  const std::string name =
      flags.name.empty() ? server->endpoints().front().ToString() : flags.name;
  auto counter = std::make_shared<replicated::CounterImpl>(name, flags.initial);
  counter->SetGetDelay(absl::Milliseconds(flags.get_delay_ms));
  ASSIGN_OR_RETURN(korb::Ref ref, adapter->Activate("counter", counter));
  // Plain gRPC clients reach the counter too (no korb-object metadata).
  RETURN_IF_ERROR(adapter->SetDefaultObject("counter"));
  if (flags.drop_every > 0) {
    // Shared by the adapter's threads; only Add replies are lost, so that
    // reads and Stats stay reliable for whoever checks the outcome.
    auto executed_adds = std::make_shared<std::atomic<int64_t>>(0);
    korb::testing::SetReplyDropper(*adapter,
        [executed_adds, counter, every = flags.drop_every](absl::string_view,
                                                           absl::string_view method) {
          if (!absl::EndsWith(method, "/Add")) return false;
          if (++*executed_adds % every != 0) return false;
          counter->CountDropped();
          return true;
        });
  }
  RETURN_IF_ERROR(adapter->Resume());  // adapters hold calls until ready
  // Joins the replica group in the background (never holding up the start).
  korb::Client client;
  std::unique_ptr<korb::naming::Registration> registration;
  if (!flags.naming.empty()) {
    ASSIGN_OR_RETURN(korb::Ref naming, korb::Ref::Parse(flags.naming));
    korb::naming::RegistrationOptions registration_options;
    registration_options.ttl_seconds = flags.lease_ttl;
    ASSIGN_OR_RETURN(registration, korb::naming::Registration::Start(
                                       client, naming, {{.name = flags.group, .ref = ref}},
                                       registration_options));
  }
  std::cout << ref << std::endl;
  ReportSignal(signals.Wait());
  // Leave the group first, so that clients stop choosing this replica.
  if (registration != nullptr) registration->Stop();
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  absl::Status status = !flags.ok() ? flags.status() : flags->grpc ? ServeGrpc(*flags) : Serve(*flags);
  if (!status.ok()) {
    std::cerr << "replicated_server: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
