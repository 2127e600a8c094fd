// echo_bench: Korb against raw gRPC on the same echo workload, in one run.
//
// Servers, each in this process on a loopback port:
//   korb/<policy> one Korb object server with one adapter per threading
//                 policy, one echo object in each:
//                   inline                 the gRPC callback thread runs the servant
//                   pool                   shared pool of N workers (--pool-threads)
//                   pool_serialized        the same, calls to one object one at a time
//                   pool_growing           shared pool growing from 1 to N workers
//                   thread_per_object      the object's own thread
//                   thread_per_request     a (cached) thread per call, no cap
//                   thread_per_request_uncached  a new thread per call (idle_timeout
//                                          0, the seeds' model): creation cost
//                   thread_per_connection  the connection's own thread
//   grpc/sync     gRPC's generated synchronous service
//   grpc/callback gRPC's generated callback service (the same gRPC machinery
//                 Korb's object server is built on)
// Scenarios per server and payload (32 B, 4 KiB):
//   latency       1 client, sequential calls: p50/p90/p99
//   throughput    8 and 32 closed-loop clients (threads sharing one channel,
//                 hence one connection): calls/s
// All clients call one object over one connection, so under
// pool_serialized, thread_per_object and thread_per_connection the
// throughput rows run one call at a time: the policy's contract, measured.
// Prints one JSON object per line; then one "ratio" line per Korb row,
// relative to grpc/callback and grpc/sync in the same run. The systems are
// measured in interleaved rounds so that machine noise hits all alike. The
// default --seconds keeps a whole run at about a minute.
//
//   echo_bench [--seconds S] [--pool-threads N] [--only SYSTEM/POLICY] [--calls N]
//
// --only measures one system (e.g. korb/inline), for profiling. With
// --calls N it makes exactly N sequential 32 B calls to that system and
// prints nothing: run it under callgrind with two values of N, and the
// difference of the instruction counts over the difference of N is the cost
// of one call without the set-up (docs/performance.md).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/closed_loop.h"
#include "bench/echo_servants.h"
#include "bench/percentile.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "echo/echo.grpc.pb.h"
#include "echo/echo.korb.h"

namespace {

using ::korb::bench::ClientLoop;
using ::korb::bench::RunClosedLoop;
using ::korb::bench::Sample;

struct Flags {
  double seconds = 0.7;  // measured time per row and system, spread over rounds
  int pool_threads = 4;
  std::string only;  // if set, measure only the system named "system/policy"
  long calls = 0;    // with `only`: make exactly this many calls, print nothing
};

// --- Servers --------------------------------------------------------------

using ::korb::bench::GrpcCallbackEcho;
using ::korb::bench::GrpcSyncEcho;
using ::korb::bench::KorbEcho;

struct GrpcServer {
  std::unique_ptr<grpc::Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

GrpcServer StartGrpc(std::unique_ptr<grpc::Service> service) {
  GrpcServer s;
  s.service = std::move(service);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s.port);
  builder.RegisterService(s.service.get());
  s.server = builder.BuildAndStart();
  if (s.server == nullptr || s.port == 0) {
    std::cerr << "echo_bench: cannot start a gRPC server" << std::endl;
    std::exit(EXIT_FAILURE);
  }
  return s;
}

// --- Measurement ----------------------------------------------------------

// One call of the workload; returns false on error.
using CallFn = std::function<bool(const echo::EchoRequest&, echo::EchoReply*)>;

struct Row {
  std::string system, policy, scenario;
  int clients = 0;
  size_t payload = 0;
  long calls = 0;
  double calls_per_s = 0, p50_us = 0, p90_us = 0, p99_us = 0;
};

// Runs `clients` closed-loop client threads, each calling `make_call()`'s
// function back to back: a short warm-up, then `seconds` of measured calls
// whose latencies are appended to `sample`.
void Measure(const std::function<CallFn()>& make_call, int clients, size_t payload,
             double seconds, Sample* sample) {
  echo::EchoRequest request;
  request.set_payload(std::string(payload, 'k'));
  auto client = [&](int) {
    auto reply = std::make_shared<echo::EchoReply>();
    return ClientLoop{.call = [call = make_call(), &request, reply, payload] {
      return call(request, reply.get()) && reply->payload().size() == payload;
    }};
  };
  if (!RunClosedLoop(clients, seconds, /*max_warmup=*/0.2, client, sample)) {
    std::cerr << "echo_bench: a call failed" << std::endl;
    std::exit(EXIT_FAILURE);
  }
}

Row Summarize(Sample& sample, int clients, size_t payload) {
  korb::bench::Figures figures = korb::bench::Summarize(sample);
  Row row;
  row.clients = clients;
  row.payload = payload;
  row.calls = figures.calls;
  row.calls_per_s = figures.calls_per_s;
  row.p50_us = figures.p50_us;
  row.p90_us = figures.p90_us;
  row.p99_us = figures.p99_us;
  return row;
}

void Print(const Row& r) {
  std::cout << absl::StrFormat(
                   "{\"system\":\"%s\",\"policy\":\"%s\",\"scenario\":\"%s\",\"clients\":%d,"
                   "\"payload\":%d,\"calls\":%d,\"calls_per_s\":%.0f,\"p50_us\":%.1f,"
                   "\"p90_us\":%.1f,\"p99_us\":%.1f}",
                   r.system, r.policy, r.scenario, r.clients, r.payload, r.calls,
                   r.calls_per_s, r.p50_us, r.p90_us, r.p99_us)
            << std::endl;
}

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
    } else if (arg == "--only" && i + 1 < argc) {
      flags.only = argv[++i];
    } else if (arg == "--calls" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &flags.calls) &&
               flags.calls > 0) {
      ++i;
    } else {
      return absl::InvalidArgumentError(
          "usage: echo_bench [--seconds S] [--pool-threads N] [--only SYSTEM/POLICY] "
          "[--calls N]");
    }
  }
  if (flags.calls > 0 && flags.only.empty()) {
    return absl::InvalidArgumentError("--calls needs --only");
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << flags.status().message() << std::endl;
    return EXIT_FAILURE;
  }

  // Korb: one object server, one adapter per policy, one echo object each.
  korb::ObjectServerOptions korb_options;
  korb_options.interfaces = {&echo::EchoServant::korb_static_interface()};
  absl::StatusOr<std::unique_ptr<korb::ObjectServer>> korb_server =
      korb::ObjectServer::Start(korb_options);
  if (!korb_server.ok()) {
    std::cerr << "echo_bench: " << korb_server.status() << std::endl;
    return EXIT_FAILURE;
  }
  struct KorbTarget {
    std::string policy;
    korb::Ref ref;
  };
  std::vector<KorbTarget> korb_targets;
  using T = korb::ThreadingOptions;
  auto Uncached = [](T options) {
    options.idle_timeout = absl::ZeroDuration();
    return options;
  };
  const int n = flags->pool_threads;
  for (auto [policy, threading] :
       {std::pair{"inline", T::Inline()}, std::pair{"pool", T::SharedPool(n)},
        std::pair{"pool_serialized", T::SerializedPool(n)},
        std::pair{"pool_growing", T::GrowingPool(1, n)},
        std::pair{"thread_per_object", T::ThreadPerObject()},
        std::pair{"thread_per_request", T::ThreadPerRequest()},
        std::pair{"thread_per_request_uncached", Uncached(T::ThreadPerRequest())},
        std::pair{"thread_per_connection", T::ThreadPerConnection()}}) {
    absl::StatusOr<korb::ObjectAdapter*> adapter =
        (*korb_server)->CreateAdapter(policy, {.threading = threading});
    absl::StatusOr<korb::Ref> ref =
        adapter.ok() ? (*adapter)->Activate("echo", std::make_shared<KorbEcho>())
                     : absl::StatusOr<korb::Ref>(adapter.status());
    if (ref.ok()) {
      if (absl::Status resumed = (*adapter)->Resume(); !resumed.ok()) ref = resumed;
    }
    if (!ref.ok()) {
      std::cerr << "echo_bench: " << ref.status() << std::endl;
      return EXIT_FAILURE;
    }
    korb_targets.push_back({policy, *ref});
  }
  GrpcServer grpc_sync = StartGrpc(std::make_unique<GrpcSyncEcho>());
  GrpcServer grpc_callback = StartGrpc(std::make_unique<GrpcCallbackEcho>());

  struct System {
    std::string system, policy;
    std::function<CallFn()> make_call;
  };
  // Over gRPC, as the raw gRPC rows: with collocated calls (the default) a
  // stub would skip the network to a server of its own process
  // (collocated_bench measures that).
  korb::Client korb_client({.collocated_calls = false});
  std::vector<System> systems;
  for (const KorbTarget& target : korb_targets) {
    korb::Ref ref = target.ref;
    systems.push_back({"korb", target.policy, [&korb_client, ref]() -> CallFn {
                         auto stub = std::make_shared<echo::EchoStub>(korb_client, ref);
                         return [stub](const echo::EchoRequest& req, echo::EchoReply* reply) {
                           absl::StatusOr<echo::EchoReply> r = stub->Echo(req);
                           if (!r.ok()) return false;
                           *reply = *std::move(r);
                           return true;
                         };
                       }});
  }
  for (auto [policy, server] : {std::pair{"sync", &grpc_sync}, std::pair{"callback", &grpc_callback}}) {
    auto channel = grpc::CreateChannel(absl::StrFormat("127.0.0.1:%d", server->port),
                                       grpc::InsecureChannelCredentials());
    systems.push_back({"grpc", policy, [channel]() -> CallFn {
                         auto stub = std::shared_ptr<echo::Echo::Stub>(echo::Echo::NewStub(channel));
                         return [stub](const echo::EchoRequest& req, echo::EchoReply* reply) {
                           grpc::ClientContext context;
                           return stub->Echo(&context, req, reply).ok();
                         };
                       }});
  }

  if (!flags->only.empty()) {
    std::erase_if(systems, [&](const System& s) { return s.system + "/" + s.policy != flags->only; });
  }

  if (flags->calls > 0) {
    if (systems.size() != 1) {
      std::cerr << "echo_bench: no system " << flags->only << std::endl;
      return EXIT_FAILURE;
    }
    echo::EchoRequest request;
    request.set_payload(std::string(32, 'k'));
    echo::EchoReply reply;
    CallFn call = systems.front().make_call();
    for (long i = 0; i < flags->calls; ++i) {
      if (!call(request, &reply)) {
        std::cerr << "echo_bench: a call failed" << std::endl;
        return EXIT_FAILURE;
      }
    }
    systems.clear();
  }

  // Each row's time is split into rounds, and every round measures all
  // systems in a rotated order, so drift on a noisy machine (frequency,
  // neighbours) spreads evenly over the systems instead of biasing one.
  constexpr int kRounds = 5;
  std::vector<Row> rows;
  for (size_t payload : {size_t{32}, size_t{4096}}) {
    if (systems.empty()) break;
    for (auto [scenario, clients] :
         {std::pair{"latency", 1}, std::pair{"throughput", 8}, std::pair{"throughput", 32}}) {
      std::vector<Sample> samples(systems.size());
      for (int round = 0; round < kRounds; ++round) {
        for (size_t i = 0; i < systems.size(); ++i) {
          size_t k = (i + round) % systems.size();
          Measure(systems[k].make_call, clients, payload, flags->seconds / kRounds, &samples[k]);
        }
      }
      for (size_t k = 0; k < systems.size(); ++k) {
        Row row = Summarize(samples[k], clients, payload);
        row.system = systems[k].system;
        row.policy = systems[k].policy;
        row.scenario = scenario;
        Print(row);
        rows.push_back(row);
      }
    }
  }

  // Ratios of every Korb row to the raw gRPC rows of the same workload.
  for (const Row& k : rows) {
    if (k.system != "korb") continue;
    for (const Row& g : rows) {
      if (g.system != "grpc" || g.scenario != k.scenario || g.clients != k.clients ||
          g.payload != k.payload) {
        continue;
      }
      std::cout << absl::StrFormat(
                       "{\"system\":\"ratio\",\"policy\":\"%s\",\"versus\":\"grpc_%s\","
                       "\"scenario\":\"%s\",\"clients\":%d,\"payload\":%d,"
                       "\"p50_ratio\":%.3f,\"throughput_ratio\":%.3f}",
                       k.policy, g.policy, k.scenario, k.clients, k.payload,
                       k.p50_us / g.p50_us, k.calls_per_s / g.calls_per_s)
                << std::endl;
    }
  }
  grpc_sync.server->Shutdown();
  grpc_callback.server->Shutdown();
  (*korb_server)->Shutdown();
  return EXIT_SUCCESS;
}
