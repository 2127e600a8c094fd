// seeds_bench: the seeds' file server under every Korb threading policy.
//
// The seeds work through a server whose every request costs 2 ms of
// processing plus 8 ms on one disk drive, and compute its throughput by the
// number of threads and with a block cache (75 % hits, 2.5 ms of processing):
//
//   pool of 1 thread, no cache    100 req/s   (the iterative server)
//   pool of 2 threads, no cache   125 req/s   (disk-bound: 1000 / 8)
//   pool of 1 thread, cache       222 req/s   (1000 / (2.5 + 0.25·8))
//   pool of 2 threads, cache      444 req/s
//   pool of 3 threads, cache      500 req/s   (disk-bound: 1000 / (0.25·8))
//
// This program serves examples/diskserver's Disk objects from an in-process
// Korb object server and drives them over loopback TCP with closed-loop
// clients (each its own thread and stub, calling back to back), one row per
// policy configuration: the seeds' five rows, then the other policies on the
// same workload. Meanwhile a probe calls, every 10 ms, an object that never
// blocks, in an inline adapter of its own: its latency shows what the disk
// adapter's policy does to the rest of the server. For every row it prints
// one JSON object per line:
//
//   {"policy":"pool","threads":"2","cache":true,"objects":1,"connections":1,
//    "clients":16,"seconds":3.50,"requests":1473,"req_per_s":421.0,
//    "expected_req_per_s":444.4,"expected_from":"seeds","within_10pct":true,
//    "tlp":1.95,"policy_threads":2,"hit_rate":0.750,"mean_latency_ms":37.50,
//    "probe_p50_ms":0.25,"probe_p99_ms":0.60,"cpu_ms":2,"io_ms":8,"cache_cpu_ms":2.5}
//
// "expected_req_per_s" is the seeds' arithmetic for the row's number of
// servant threads: min(threads / (cpu + miss·io), 1 / (miss·io)), where miss
// is the fraction of requests that go to the disk (1 without cache);
// "expected_from" says whether the seeds state the figure ("seeds") or it is
// the same arithmetic applied to another policy ("seeds-model"); rows without
// a model (inline: as many threads as gRPC lends) print null. "tlp" is the
// adapter's thread-level parallelism (adapter/metrics.h) over the measured
// interval: servant calls running at once, averaged over the time at least
// one runs (a call waiting for the disk counts as running).
// "policy_threads" is the number of threads the policy owned at the end of
// the interval; "mean_latency_ms" is the adapter's, from routing to reply
// (under inline, calls wait inside gRPC before that). A markdown table of
// all rows follows the JSON lines.
//
//   seeds_bench [--cpu-ms 2] [--io-ms 8] [--hit-rate 0.75] [--cache-cpu-ms 2.5]
//               [--seconds 3.5] [--clients 16] [--only POLICY]
//
// POLICY is one of inline, pool, pool_growing, pool_serialized,
// thread_per_object, thread_per_request, thread_per_connection.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "diskserver/disk.korb.h"
#include "diskserver/disk_servant.h"

namespace {

struct Flags {
  double cpu_ms = 2;
  double io_ms = 8;
  double hit_rate = 0.75;
  double cache_cpu_ms = 2.5;
  double seconds = 3.5;  // measured time per row; 13 rows take about a minute
  int clients = 16;
  std::string only;  // if set, only rows of this policy
};

// One row of the table: a policy configuration and how the clients call it.
struct Config {
  std::string policy;   // as in echo_bench: "pool", "thread_per_request", ...
  std::string threads;  // servant threads, for the table: "2", "1..8", "per request"
  korb::ThreadingOptions threading;
  bool cache = false;
  int objects = 1;  // client c calls object c % objects
  // Each client has its own korb::Client, hence its own connection.
  bool own_connections = false;
  // Servant threads for the seeds' arithmetic (capped by the number of
  // clients, which bounds the calls in progress); kPerClient: one per
  // client; 0: no model (inline).
  int model_threads = 0;
  bool stated_by_seeds = false;  // one of the seeds' five rows
};

struct Result {
  long requests = 0;
  double seconds = 0;
  double req_per_s = 0;
  std::optional<double> expected;
  double tlp = 0;
  int policy_threads = 0;
  double hit_rate = 0;
  double mean_latency_ms = 0;
  double probe_p50_ms = 0, probe_p99_ms = 0;
};

constexpr int kPerClient = 1 << 20;

std::vector<Config> Configs() {
  using T = korb::ThreadingOptions;
  constexpr int kMany = 16;
  return {
      // policy, threads, threading, cache, objects, own_connections,
      // model_threads, stated_by_seeds
      //
      // The seeds' five rows.
      {"pool", "1", T::SharedPool(1), false, 1, false, 1, true},
      {"pool", "2", T::SharedPool(2), false, 1, false, 2, true},
      {"pool", "1", T::SharedPool(1), true, 1, false, 1, true},
      {"pool", "2", T::SharedPool(2), true, 1, false, 2, true},
      {"pool", "3", T::SharedPool(3), true, 1, false, 3, true},
      // The other policies on the same workload. Enough threads for the disk
      // to be the bottleneck, except where the policy itself serializes.
      {"thread_per_request", "per request", T::ThreadPerRequest(), false, 1, false, kPerClient},
      {"thread_per_request", "per request", T::ThreadPerRequest(), true, 1, false, kPerClient},
      {"thread_per_object", "per object", T::ThreadPerObject(), true, 1, false, 1},
      {"thread_per_object", "per object", T::ThreadPerObject(), true, kMany, false, kMany},
      {"pool_growing", "1..8", T::GrowingPool(1, 8), true, 1, false, 8},
      {"pool_serialized", "4", T::SerializedPool(4), true, kMany, false, 4},
      {"thread_per_connection", "per connection", T::ThreadPerConnection(), false, 1, true,
       kPerClient},
      // Blocking servants on gRPC's callback threads: what not to do.
      {"inline", "gRPC's", T::Inline(), false, 1, false, 0},
      {"inline", "gRPC's", T::Inline(), true, 1, false, 0},
  };
}

// The seeds' arithmetic: each of `threads` serves one request per
// cpu + miss·io; the single disk serves one per miss·io.
double SeedsModel(const Flags& flags, int threads, bool cache) {
  double miss = cache ? 1 - flags.hit_rate : 1;
  double cpu = cache ? flags.cache_cpu_ms : flags.cpu_ms;
  double per_thread = threads * 1000 / (cpu + miss * flags.io_ms);
  double disk = miss * flags.io_ms > 0 ? 1000 / (miss * flags.io_ms) : per_thread;
  return std::min(per_thread, disk);
}

void Fail(const absl::Status& status) {
  std::cerr << "seeds_bench: " << status << std::endl;
  std::exit(EXIT_FAILURE);
}

Result Run(const Flags& flags, const Config& config) {
  korb::ObjectServerOptions server_options;
  server_options.interfaces = {&disk::DiskServant::korb_static_interface()};
  if (config.own_connections) {
    // gRPC shares one connection among all channels of a process to the
    // same address with the same arguments (its global subchannel pool), so
    // separate korb::Clients alone do not make separate connections. One
    // listening port per client does.
    server_options.listen.assign(flags.clients, "127.0.0.1:0");
  }
  absl::StatusOr<std::unique_ptr<korb::ObjectServer>> server =
      korb::ObjectServer::Start(server_options);
  if (!server.ok()) Fail(server.status());
  absl::StatusOr<korb::ObjectAdapter*> adapter =
      (*server)->CreateAdapter("disk", {.threading = config.threading});
  if (!adapter.ok()) Fail(adapter.status());

  disk::DiskOptions disk_options;
  disk_options.cpu = absl::Microseconds(std::llround(flags.cpu_ms * 1000));
  disk_options.io = absl::Microseconds(std::llround(flags.io_ms * 1000));
  disk_options.cache = config.cache;
  disk_options.hit_rate = flags.hit_rate;
  disk_options.cache_cpu = absl::Microseconds(std::llround(flags.cache_cpu_ms * 1000));
  auto drive = std::make_shared<disk::SimulatedDisk>(disk_options);
  std::vector<korb::Ref> refs;
  for (int i = 0; i < config.objects; ++i) {
    absl::StatusOr<korb::Ref> ref =
        (*adapter)->Activate(absl::StrCat("disk", i), std::make_shared<disk::DiskImpl>(drive));
    if (!ref.ok()) Fail(ref.status());
    refs.push_back(*ref);
  }

  // The probe: an object that never blocks (no processing, no disk), in an
  // inline adapter of its own, as such an object should be served. Its
  // latency shows what the disk adapter's policy does to the rest of the
  // server.
  absl::StatusOr<korb::ObjectAdapter*> probe_adapter =
      (*server)->CreateAdapter("probe", {.threading = korb::ThreadingOptions::Inline()});
  if (!probe_adapter.ok()) Fail(probe_adapter.status());
  auto idle_disk = std::make_shared<disk::SimulatedDisk>(
      disk::DiskOptions{.cpu = absl::ZeroDuration(), .io = absl::ZeroDuration()});
  absl::StatusOr<korb::Ref> probe_ref =
      (*probe_adapter)->Activate("probe", std::make_shared<disk::DiskImpl>(idle_disk));
  if (!probe_ref.ok()) Fail(probe_ref.status());
  for (korb::ObjectAdapter* ready : {*adapter, *probe_adapter}) {
    if (absl::Status resumed = ready->Resume(); !resumed.ok()) Fail(resumed);
  }

  // Consecutive block numbers over all clients, so that the cache's evenly
  // spaced misses (disk_servant.h) arrive evenly spaced.
  std::atomic<uint64_t> next_block{0};
  std::atomic<long> completed{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  // Over gRPC, as the seeds' clients are remote: the server is in this
  // process, and collocated calls would skip the network (collocated_bench).
  const korb::ClientOptions over_grpc{.collocated_calls = false};
  korb::Client shared_client(over_grpc);
  std::vector<std::unique_ptr<korb::Client>> own_clients;
  std::vector<std::thread> clients;
  for (int c = 0; c < flags.clients; ++c) {
    korb::Client* client = &shared_client;
    if (config.own_connections) {
      own_clients.push_back(std::make_unique<korb::Client>(over_grpc));
      client = own_clients.back().get();
    }
    korb::Ref ref = refs[c % refs.size()];
    if (config.own_connections) ref.set_endpoints({(*server)->endpoints()[c]});
    clients.emplace_back([&, client, ref] {
      disk::DiskStub stub(*client, ref);
      disk::BlockRequest request;
      while (!stop.load(std::memory_order_relaxed)) {
        request.set_block(next_block.fetch_add(1, std::memory_order_relaxed));
        absl::StatusOr<disk::Block> block = stub.Read(request);
        if (!block.ok()) {
          std::cerr << "seeds_bench: " << block.status() << std::endl;
          failed = true;
          return;
        }
        completed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  // Warm-up (connections, grown threads, a full queue), then the measured
  // interval, bracketed by the adapter's metrics; the probe calls every
  // 10 ms during the interval.
  absl::SleepFor(absl::Seconds(std::min(0.5, flags.seconds / 4)));
  std::atomic<bool> probing{true};
  std::vector<double> probe_ms;
  std::thread probe([&] {
    disk::DiskStub stub(shared_client, *probe_ref);
    while (probing.load(std::memory_order_relaxed)) {
      absl::Time start = absl::Now();
      if (!stub.Read(disk::BlockRequest()).ok()) failed = true;
      absl::Time end = absl::Now();
      probe_ms.push_back(absl::ToDoubleMilliseconds(end - start));
      absl::SleepFor(absl::Milliseconds(10) - (end - start));
    }
  });
  (*adapter)->ResetMetrics();
  uint64_t reads_before = drive->drive_reads();
  long before = completed.load();
  absl::Time start = absl::Now();
  absl::SleepFor(absl::Seconds(flags.seconds));
  long after = completed.load();
  absl::Time end = absl::Now();
  korb::AdapterMetrics metrics = (*adapter)->Metrics();
  uint64_t reads = drive->drive_reads() - reads_before;
  probing = false;
  probe.join();
  stop = true;
  for (std::thread& t : clients) t.join();
  if (failed) std::exit(EXIT_FAILURE);
  (*server)->Shutdown();

  Result result;
  result.requests = after - before;
  result.seconds = absl::ToDoubleSeconds(end - start);
  result.req_per_s = result.requests / result.seconds;
  if (config.model_threads > 0) {
    result.expected =
        SeedsModel(flags, std::min(config.model_threads, flags.clients), config.cache);
  }
  result.tlp = metrics.tlp;
  result.policy_threads = metrics.policy.threads;
  result.hit_rate =
      metrics.calls == 0 ? 0 : 1 - std::min<double>(reads, metrics.calls) / metrics.calls;
  result.mean_latency_ms = metrics.latency.mean_micros() / 1000;
  if (!probe_ms.empty()) {
    std::sort(probe_ms.begin(), probe_ms.end());
    result.probe_p50_ms = probe_ms[probe_ms.size() / 2];
    result.probe_p99_ms = probe_ms[std::min(probe_ms.size() - 1, probe_ms.size() * 99 / 100)];
  }
  return result;
}

std::string Json(const Flags& flags, const Config& c, const Result& r) {
  std::string expected = "null", within = "null", from = "null";
  if (r.expected) {
    expected = absl::StrFormat("%.1f", *r.expected);
    within = std::abs(r.req_per_s - *r.expected) <= 0.1 * *r.expected ? "true" : "false";
    from = c.stated_by_seeds ? "\"seeds\"" : "\"seeds-model\"";
  }
  return absl::StrFormat(
      "{\"policy\":\"%s\",\"threads\":\"%s\",\"cache\":%s,\"objects\":%d,\"connections\":%d,"
      "\"clients\":%d,\"seconds\":%.2f,\"requests\":%d,\"req_per_s\":%.1f,"
      "\"expected_req_per_s\":%s,\"expected_from\":%s,\"within_10pct\":%s,\"tlp\":%.2f,"
      "\"policy_threads\":%d,\"hit_rate\":%.3f,\"mean_latency_ms\":%.2f,"
      "\"probe_p50_ms\":%.2f,\"probe_p99_ms\":%.2f,"
      "\"cpu_ms\":%g,\"io_ms\":%g,\"cache_cpu_ms\":%g}",
      c.policy, c.threads, c.cache ? "true" : "false", c.objects,
      c.own_connections ? flags.clients : 1, flags.clients, r.seconds, r.requests, r.req_per_s,
      expected, from, within, r.tlp, r.policy_threads, r.hit_rate, r.mean_latency_ms,
      r.probe_p50_ms, r.probe_p99_ms, flags.cpu_ms, flags.io_ms,
      c.cache ? flags.cache_cpu_ms : flags.cpu_ms);
}

std::string TableRow(const Flags& flags, const Config& c, const Result& r) {
  std::string expected = "–", within = "–";
  if (r.expected) {
    expected = absl::StrFormat("%.0f", *r.expected);
    within = std::abs(r.req_per_s - *r.expected) <= 0.1 * *r.expected ? "yes" : "no";
  }
  return absl::StrFormat("| %s | %s | %s | %d | %d | %.0f | %s | %s | %.2f | %.2f |", c.policy,
                         c.threads, c.cache ? "yes" : "no", c.objects,
                         c.own_connections ? flags.clients : 1, r.req_per_s, expected, within,
                         r.tlp, r.probe_p50_ms);
}

// Parses argv[*i + 1] into `out` and advances *i past it.
bool ParseDouble(int argc, char** argv, int* i, double* out) {
  if (*i + 1 >= argc || !absl::SimpleAtod(argv[*i + 1], out)) return false;
  ++*i;
  return true;
}

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool ok = false;
    if (arg == "--cpu-ms") {
      ok = ParseDouble(argc, argv, &i, &flags.cpu_ms) && flags.cpu_ms >= 0;
    } else if (arg == "--io-ms") {
      ok = ParseDouble(argc, argv, &i, &flags.io_ms) && flags.io_ms >= 0;
    } else if (arg == "--hit-rate") {
      ok = ParseDouble(argc, argv, &i, &flags.hit_rate) && flags.hit_rate >= 0 &&
           flags.hit_rate <= 1;
    } else if (arg == "--cache-cpu-ms") {
      ok = ParseDouble(argc, argv, &i, &flags.cache_cpu_ms) && flags.cache_cpu_ms >= 0;
    } else if (arg == "--seconds") {
      ok = ParseDouble(argc, argv, &i, &flags.seconds) && flags.seconds > 0;
    } else if (arg == "--clients") {
      ok = i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &flags.clients) && flags.clients > 0;
      if (ok) ++i;
    } else if (arg == "--only" && i + 1 < argc) {
      flags.only = argv[++i];
      ok = true;
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          "usage: seeds_bench [--cpu-ms MS] [--io-ms MS] [--hit-rate R] [--cache-cpu-ms MS] "
          "[--seconds S] [--clients N] [--only POLICY]");
    }
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
  std::vector<Config> configs = Configs();
  if (!flags->only.empty()) {
    std::erase_if(configs, [&](const Config& c) { return c.policy != flags->only; });
    if (configs.empty()) {
      std::cerr << "seeds_bench: no rows for policy " << flags->only << std::endl;
      return EXIT_FAILURE;
    }
  }
  std::vector<std::string> table;
  for (const Config& config : configs) {
    Result result = Run(*flags, config);
    std::cout << Json(*flags, config, result) << std::endl;
    table.push_back(TableRow(*flags, config, result));
  }
  std::cout << "\n| policy | threads | cache | objects | connections | req/s | seeds "
               "| within 10 % | TLP | probe p50 ms |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const std::string& row : table) std::cout << row << "\n";
  return EXIT_SUCCESS;
}
