// collocated_bench: a Korb stub calling an object of its own process, with
// collocated calls (straight into the object server's request pipeline, no
// gRPC) against the same call over loopback gRPC, in one run.
//
// One Korb object server in this process, an echo object in two adapters:
//   inline   the servant runs on the calling thread (collocated) or on
//            gRPC's callback thread (over gRPC)
//   pool     a shared pool of --pool-threads workers
// Systems:
//   korb_collocated/<policy>  korb::Client with collocated_calls (the default)
//   korb_grpc/<policy>        the same stub with collocated_calls = false
//   grpc/callback             raw gRPC's generated stub and callback service
//                             over loopback: the raw-gRPC equivalent
// Scenarios (32 B payload): latency (1 client, sequential calls: p50, p90,
// p99) and throughput (--threads closed-loop client threads: calls/s).
// Prints one JSON object per line, then "ratio" lines: each collocated row
// against grpc/callback and against korb_grpc with the same policy. Rows
// are measured in interleaved rounds so that machine noise hits all alike;
// the default --seconds keeps a run at about a minute.
//
//   collocated_bench [--seconds S] [--pool-threads N] [--threads N]
//                    [--no-deadlock-detection] [--only SYSTEM/POLICY --calls N]
//
// --only with --calls N makes exactly N sequential calls to one system and
// prints nothing: for profiling (perf, or callgrind with two values of N).
// --no-deadlock-detection turns off absl::Mutex's deadlock detection, which
// Debian's Abseil (built in debug mode) runs on every lock: what the mutexes
// on the call path cost (docs/performance.md).
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "adapter/object_server.h"
#include "bench/closed_loop.h"
#include "bench/echo_servants.h"
#include "client/client.h"
#include "echo/echo.grpc.pb.h"
#include "echo/echo.korb.h"

namespace {

using ::korb::bench::ClientLoop;
using ::korb::bench::RunClosedLoop;
using ::korb::bench::Sample;

struct Flags {
  double seconds = 3.0;  // measured time per row and system, spread over rounds
  int pool_threads = 4;
  int threads = 2;       // client threads of the throughput scenario
  std::string only;
  long calls = 0;
  bool deadlock_detection = true;  // absl::Mutex's, on in Debian's build
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc && absl::SimpleAtod(argv[i + 1], &flags.seconds) &&
        flags.seconds > 0) {
      ++i;
    } else if (arg == "--pool-threads" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.pool_threads) && flags.pool_threads > 0) {
      ++i;
    } else if (arg == "--threads" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.threads) && flags.threads > 0) {
      ++i;
    } else if (arg == "--no-deadlock-detection") {
      flags.deadlock_detection = false;
    } else if (arg == "--only" && i + 1 < argc) {
      flags.only = argv[++i];
    } else if (arg == "--calls" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &flags.calls) &&
               flags.calls > 0) {
      ++i;
    } else {
      return absl::InvalidArgumentError(
          "usage: collocated_bench [--seconds S] [--pool-threads N] [--threads N] "
          "[--no-deadlock-detection] [--only SYSTEM/POLICY --calls N]");
    }
  }
  if (flags.calls > 0 && flags.only.empty()) return absl::InvalidArgumentError("--calls needs --only");
  return flags;
}

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "collocated_bench: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

// One call of the workload; false on error.
using CallFn = std::function<bool(const echo::EchoRequest&, echo::EchoReply*)>;

struct System {
  std::string system, policy;
  std::function<CallFn()> make_call;
};

struct Row {
  std::string system, policy, scenario;
  int clients = 0;
  korb::bench::Figures figures;
};

void Print(const Row& r) {
  std::cout << absl::StrFormat(
                   "{\"system\":\"%s\",\"policy\":\"%s\",\"scenario\":\"%s\",\"clients\":%d,"
                   "\"payload\":32,\"calls\":%d,\"calls_per_s\":%.0f,\"p50_us\":%.2f,"
                   "\"p90_us\":%.2f,\"p99_us\":%.2f}",
                   r.system, r.policy, r.scenario, r.clients, r.figures.calls,
                   r.figures.calls_per_s, r.figures.p50_us, r.figures.p90_us, r.figures.p99_us)
            << std::endl;
}

void PrintRatio(const Row& k, const Row& versus) {
  std::cout << absl::StrFormat(
                   "{\"system\":\"ratio\",\"policy\":\"%s\",\"of\":\"%s\",\"versus\":\"%s/%s\","
                   "\"scenario\":\"%s\",\"clients\":%d,\"p50_ratio\":%.4f,"
                   "\"throughput_ratio\":%.2f}",
                   k.policy, k.system, versus.system, versus.policy, k.scenario, k.clients,
                   k.figures.p50_us / versus.figures.p50_us,
                   k.figures.calls_per_s / versus.figures.calls_per_s)
            << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) Die(std::string(flags.status().message()));
  if (!flags->deadlock_detection) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }

  korb::ObjectServerOptions server_options;
  server_options.interfaces = {&echo::EchoServant::korb_static_interface()};
  absl::StatusOr<std::unique_ptr<korb::ObjectServer>> server =
      korb::ObjectServer::Start(server_options);
  if (!server.ok()) Die(server.status().ToString());
  std::vector<std::pair<std::string, korb::Ref>> targets;
  for (auto [policy, threading] :
       {std::pair{"inline", korb::ThreadingOptions::Inline()},
        std::pair{"pool", korb::ThreadingOptions::SharedPool(flags->pool_threads)}}) {
    absl::StatusOr<korb::ObjectAdapter*> adapter =
        (*server)->CreateAdapter(policy, {.threading = threading});
    if (!adapter.ok()) Die(adapter.status().ToString());
    absl::StatusOr<korb::Ref> ref =
        (*adapter)->Activate("echo", std::make_shared<korb::bench::KorbEcho>());
    if (!ref.ok()) Die(ref.status().ToString());
    if (absl::Status resumed = (*adapter)->Resume(); !resumed.ok()) Die(resumed.ToString());
    targets.emplace_back(policy, *ref);
  }

  korb::bench::GrpcCallbackEcho grpc_service;
  int grpc_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(&grpc_service);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || grpc_port == 0) Die("cannot start a gRPC server");

  korb::Client collocated;                                   // collocated_calls by default
  korb::Client over_grpc({.collocated_calls = false});
  std::vector<System> systems;
  for (auto [name, client] : {std::pair{"korb_collocated", &collocated},
                              std::pair{"korb_grpc", &over_grpc}}) {
    for (const auto& [policy, ref] : targets) {
      systems.push_back({name, policy, [client, ref = ref]() -> CallFn {
                           auto stub = std::make_shared<echo::EchoStub>(*client, ref);
                           return [stub](const echo::EchoRequest& request, echo::EchoReply* reply) {
                             absl::StatusOr<echo::EchoReply> answer = stub->Echo(request);
                             if (!answer.ok()) return false;
                             *reply = *std::move(answer);
                             return true;
                           };
                         }});
    }
  }
  auto channel = grpc::CreateChannel(absl::StrFormat("127.0.0.1:%d", grpc_port),
                                     grpc::InsecureChannelCredentials());
  systems.push_back({"grpc", "callback", [channel]() -> CallFn {
                       auto stub = std::shared_ptr<echo::Echo::Stub>(echo::Echo::NewStub(channel));
                       return [stub](const echo::EchoRequest& request, echo::EchoReply* reply) {
                         grpc::ClientContext context;
                         return stub->Echo(&context, request, reply).ok();
                       };
                     }});

  echo::EchoRequest request;
  request.set_payload(std::string(32, 'k'));
  if (!flags->only.empty()) {
    std::erase_if(systems, [&](const System& s) { return s.system + "/" + s.policy != flags->only; });
    if (systems.empty()) Die("no system " + flags->only);
  }
  if (flags->calls > 0) {
    echo::EchoReply reply;
    CallFn call = systems.front().make_call();
    for (long i = 0; i < flags->calls; ++i) {
      if (!call(request, &reply)) Die("a call failed");
    }
    systems.clear();
  }

  constexpr int kRounds = 5;
  std::vector<Row> rows;
  for (auto [scenario, clients] :
       {std::pair{"latency", 1}, std::pair{"throughput", flags->threads}}) {
    if (systems.empty()) break;
    std::vector<Sample> samples(systems.size());
    for (int round = 0; round < kRounds; ++round) {
      for (size_t i = 0; i < systems.size(); ++i) {
        const size_t k = (i + round) % systems.size();
        auto client = [&](int) {
          auto reply = std::make_shared<echo::EchoReply>();
          return ClientLoop{.call = [call = systems[k].make_call(), &request, reply] {
            return call(request, reply.get()) && reply->payload().size() == 32;
          }};
        };
        if (!RunClosedLoop(clients, flags->seconds / kRounds, /*max_warmup=*/0.1, client,
                           &samples[k])) {
          Die("a call failed");
        }
      }
    }
    for (size_t k = 0; k < systems.size(); ++k) {
      Row row{systems[k].system, systems[k].policy, scenario, clients,
              korb::bench::Summarize(samples[k])};
      Print(row);
      rows.push_back(row);
    }
  }
  for (const Row& k : rows) {
    if (k.system != "korb_collocated") continue;
    for (const Row& v : rows) {
      if (v.scenario != k.scenario || v.clients != k.clients) continue;
      if (v.system == "grpc" || (v.system == "korb_grpc" && v.policy == k.policy)) PrintRatio(k, v);
    }
  }
  grpc_server->Shutdown();
  (*server)->Shutdown();
  return EXIT_SUCCESS;
}
