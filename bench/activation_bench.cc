// activation_bench: objects on demand (servant activator, eviction,
// persistence) against raw gRPC doing the same data work, in one run.
//
// The object is a counter (activation/counter.proto): Add(delta), Get().
// Korb hosts one counter object per id in adapters with a CounterActivator;
// raw gRPC is a callback service that takes the id from the request and does
// the same work on the data without objects: a hash map entry (no store) or
// a read-modify-write of the id's row in the same kind of StateStore.
//
// Groups (8 closed-loop client threads sharing one connection unless said):
//   activation  first calls (Get) to ids never called before, from
//               none/memory/sqlite: Korb incarnates a servant (and loads its
//               saved state from a MemoryStateStore / SqliteStateStore);
//               raw gRPC creates a map entry / loads the row. Korb's adapters
//               cap active objects at 10,000 so eviction runs as well.
//   steady      Add on --accounts counters (default 100,000) saved in SQLite
//               (synchronous=normal), at most 1,000 active: write_through and
//               write_back, uniform access and hot (90 % of calls to 500
//               counters). Raw gRPC reads and writes the row on every call
//               (what a plain service without an object cache does).
//   threading   32 clients Add on 1,000 active counters (no store):
//               thread_per_object (1,000 threads) against the shared pool
//               serialized per object; raw gRPC updates a map.
//   memory      heap per active object (mallinfo2 in-use bytes after
//               activating 20,000 counters through calls, per counter)
//               against a raw absl::flat_hash_map<std::string, int64_t> entry.
// Prints one JSON object per line, then one "ratio" line per Korb row
// relative to raw gRPC on the same workload. Systems are measured in
// interleaved rounds so machine noise hits all alike; the default --seconds
// keeps a run at about a minute.
//
//   activation_bench [--seconds S] [--accounts N] [--pool-threads N] [--dir DIR]
#include <malloc.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/closed_loop.h"
#include "bench/percentile.h"
#include "activation/counter.grpc.pb.h"
#include "activation/counter.korb.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "common/sync.h"
#include "servants/memory_state_store.h"
#include "servants/sqlite_state_store.h"

namespace {

using ::korb::bench::ClientLoop;
using ::korb::bench::Percentile;
using ::korb::bench::RunClosedLoop;
using ::korb::bench::Sample;

struct Flags {
  double seconds = 2.5;  // measured time per row and system, spread over rounds
  int accounts = 100000;
  int pool_threads = 4;
  std::string dir;  // for the SQLite files; default a fresh temporary directory
};

constexpr size_t kSteadyCap = 1000;
constexpr size_t kActivationCap = 10000;
constexpr int kHotSet = 500;
constexpr int kThreadingObjects = 1000;
constexpr int kRounds = 3;

[[noreturn]] void Die(absl::string_view what) {
  std::cerr << "activation_bench: " << what << std::endl;
  std::exit(EXIT_FAILURE);
}

std::string Id(uint64_t key) { return absl::StrCat("c", key); }

// --- Korb -------------------------------------------------------------------

// A counter; its saved state is the value in decimal.
class CounterImpl : public activation::CounterServant, public korb::PersistentState {
 public:
  absl::StatusOr<activation::CounterValue> Add(korb::CallContext&,
                                               const activation::AddRequest& request) override {
    korb::MutexLock lock(&mu_);
    value_ += request.delta();
    return Value(value_);
  }
  absl::StatusOr<activation::CounterValue> Get(korb::CallContext&,
                                               const activation::GetRequest&) override {
    korb::MutexLock lock(&mu_);
    return Value(value_);
  }
  absl::Status LoadState(absl::string_view state) override {
    korb::MutexLock lock(&mu_);
    if (!absl::SimpleAtoi(state, &value_)) return absl::DataLossError("bad counter state");
    return absl::OkStatus();
  }
  std::string SaveState() const override {
    korb::MutexLock lock(&mu_);
    return absl::StrCat(value_);
  }
  static activation::CounterValue Value(int64_t value) {
    activation::CounterValue reply;
    reply.set_value(value);
    return reply;
  }

 private:
  mutable korb::Mutex mu_;
  int64_t value_ ABSL_GUARDED_BY(mu_) = 0;
};

class CounterActivator : public korb::ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<korb::Servant>> Incarnate(absl::string_view) override {
    return std::make_shared<CounterImpl>();
  }
};

// --- Raw gRPC -----------------------------------------------------------------

// The same data work without objects: a map entry per id, or the id's row
// in `store` read (and for Add written) on every call.
class RawCounter final : public activation::Counter::CallbackService {
 public:
  explicit RawCounter(std::shared_ptr<korb::StateStore> store) : store_(std::move(store)) {}

  grpc::ServerUnaryReactor* Add(grpc::CallbackServerContext* context,
                                const activation::AddRequest* request,
                                activation::CounterValue* reply) override {
    grpc::Status status = grpc::Status::OK;
    korb::MutexLock lock(&mu_);  // read-modify-write of one row must not interleave
    if (store_ == nullptr) {
      reply->set_value(values_[request->id()] += request->delta());
    } else {
      int64_t value = 0;
      status = Load(request->id(), &value);
      value += request->delta();
      if (status.ok() && !store_->Save(request->id(), absl::StrCat(value)).ok()) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "save failed");
      }
      reply->set_value(value);
    }
    return Finish(context, status);
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const activation::GetRequest* request,
                                activation::CounterValue* reply) override {
    grpc::Status status = grpc::Status::OK;
    int64_t value = 0;
    if (store_ == nullptr) {
      korb::MutexLock lock(&mu_);
      value = values_.try_emplace(request->id(), 0).first->second;  // as an incarnation would
    } else {
      status = Load(request->id(), &value);
    }
    reply->set_value(value);
    return Finish(context, status);
  }

 private:
  grpc::Status Load(const std::string& id, int64_t* value) {
    absl::StatusOr<std::string> state = store_->Load(id);
    if (absl::IsNotFound(state.status())) return grpc::Status::OK;
    if (!state.ok() || !absl::SimpleAtoi(*state, value)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "load failed");
    }
    return grpc::Status::OK;
  }
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                          const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  const std::shared_ptr<korb::StateStore> store_;
  korb::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> values_ ABSL_GUARDED_BY(mu_);
};

struct GrpcServer {
  std::unique_ptr<RawCounter> service;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
};

std::unique_ptr<GrpcServer> StartGrpc(std::shared_ptr<korb::StateStore> store) {
  auto s = std::make_unique<GrpcServer>();
  s->service = std::make_unique<RawCounter>(std::move(store));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(s->service.get());
  s->server = builder.BuildAndStart();
  if (s->server == nullptr || port == 0) Die("cannot start a gRPC server");
  s->channel = grpc::CreateChannel(absl::StrFormat("127.0.0.1:%d", port),
                                   grpc::InsecureChannelCredentials());
  return s;
}

// --- Measurement ---------------------------------------------------------------

enum class Op { kAdd, kGet };
// One call to the counter `key`; false on error.
using CallFn = std::function<bool(uint64_t key)>;
// The next key a client calls.
using KeyFn = std::function<uint64_t(std::mt19937_64&)>;

struct System {
  std::string system, config;         // "korb"/"grpc", e.g. "write_back/hot"
  std::function<CallFn()> make_call;  // one per client thread
  KeyFn next_key;
};

System KorbSystem(std::string config, korb::Client& client, korb::ObjectAdapter* adapter, Op op,
                  KeyFn next_key) {
  return {"korb", std::move(config),
          [&client, adapter, op]() -> CallFn {
            return [&client, adapter, op](uint64_t key) {
              activation::CounterStub stub(
                  client, adapter->CreateReference(
                              Id(key), activation::CounterServant::korb_static_interface().name));
              if (op == Op::kGet) return stub.Get(activation::GetRequest()).ok();
              activation::AddRequest request;
              request.set_delta(1);
              return stub.Add(request).ok();
            };
          },
          std::move(next_key)};
}

System GrpcSystem(std::string config, const GrpcServer& server, Op op, KeyFn next_key) {
  std::shared_ptr<grpc::Channel> channel = server.channel;
  return {"grpc", std::move(config),
          [channel, op]() -> CallFn {
            auto stub =
                std::shared_ptr<activation::Counter::Stub>(activation::Counter::NewStub(channel));
            return [stub, op](uint64_t key) {
              grpc::ClientContext context;
              activation::CounterValue reply;
              if (op == Op::kGet) {
                activation::GetRequest request;
                request.set_id(Id(key));
                return stub->Get(&context, request, &reply).ok();
              }
              activation::AddRequest request;
              request.set_id(Id(key));
              request.set_delta(1);
              return stub->Add(&context, request, &reply).ok();
            };
          },
          std::move(next_key)};
}

// `clients` closed-loop threads call back to back: a short warm-up, then
// `seconds` of measured calls appended to `sample`.
void Measure(const System& system, int clients, double seconds, Sample* sample) {
  auto client = [&](int c) {
    struct State {
      std::mt19937_64 random;
      uint64_t key = 0;
    };
    auto state = std::make_shared<State>(State{std::mt19937_64(c * 7919 + clients)});
    return ClientLoop{
        .prepare = [state, &system] { state->key = system.next_key(state->random); },
        .call = [state, call = system.make_call()] { return call(state->key); }};
  };
  if (!RunClosedLoop(clients, seconds, /*max_warmup=*/0.1, client, sample)) {
    Die(absl::StrCat("a call failed: ", system.system, "/", system.config));
  }
}

struct Row {
  std::string group, system, config;
  int clients = 0;
  double calls_per_s = 0, p50_us = 0, p99_us = 0;
};

// Measures `systems` in interleaved rounds and prints a row for each.
std::vector<Row> RunGroup(const std::string& group, const std::vector<System>& systems, int clients,
                          double seconds) {
  std::vector<Sample> samples(systems.size());
  for (int round = 0; round < kRounds; ++round) {
    for (size_t i = 0; i < systems.size(); ++i) {
      size_t k = (i + round) % systems.size();
      Measure(systems[k], clients, seconds / kRounds, &samples[k]);
    }
  }
  std::vector<Row> rows;
  for (size_t k = 0; k < systems.size(); ++k) {
    std::vector<double>& all = samples[k].latencies_us;
    std::sort(all.begin(), all.end());
    Row row{group,
            systems[k].system,
            systems[k].config,
            clients,
            all.size() / samples[k].seconds,
            Percentile(all, 0.5),
            Percentile(all, 0.99)};
    std::cout << absl::StrFormat(
                     "{\"group\":\"%s\",\"system\":\"%s\",\"config\":\"%s\",\"clients\":%d,"
                     "\"calls\":%d,\"calls_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f}",
                     row.group, row.system, row.config, row.clients, all.size(), row.calls_per_s,
                     row.p50_us, row.p99_us)
              << std::endl;
    rows.push_back(row);
  }
  return rows;
}

void PrintRatio(const Row& korb, const Row& grpc) {
  std::cout
      << absl::StrFormat(
             "{\"group\":\"%s\",\"system\":\"ratio\",\"config\":\"%s\",\"versus\":\"grpc/%s\","
             "\"throughput_ratio\":%.3f,\"p50_ratio\":%.3f}",
             korb.group, korb.config, grpc.config, korb.calls_per_s / grpc.calls_per_s,
             korb.p50_us / grpc.p50_us)
      << std::endl;
}

// Heap bytes in use (all arenas).
size_t HeapInUse() { return mallinfo2().uordblks; }

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--seconds" && has_value && absl::SimpleAtod(argv[i + 1], &flags.seconds) &&
        flags.seconds > 0) {
      ++i;
    } else if (arg == "--accounts" && has_value && absl::SimpleAtoi(argv[i + 1], &flags.accounts) &&
               flags.accounts >= kHotSet) {
      ++i;
    } else if (arg == "--pool-threads" && has_value &&
               absl::SimpleAtoi(argv[i + 1], &flags.pool_threads) && flags.pool_threads > 0) {
      ++i;
    } else if (arg == "--dir" && has_value) {
      flags.dir = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          "usage: activation_bench [--seconds S] [--accounts N (>= 500)] [--pool-threads N] "
          "[--dir DIR]");
    }
  }
  return flags;
}

template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) Die(value.status().ToString());
  return *std::move(value);
}

// A SqliteStateStore in `path` holding counters 0..n-1, each with value 0.
std::shared_ptr<korb::StateStore> PreloadedSqlite(const std::string& path, int n) {
  std::shared_ptr<korb::StateStore> store = OrDie(korb::SqliteStateStore::Open(
      path, {.synchronous = korb::SqliteStateStoreOptions::Synchronous::kNormal}));
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(n);
  for (int i = 0; i < n; ++i) rows.emplace_back(Id(i), "0");
  if (absl::Status s = store->SaveAll(rows); !s.ok()) Die(s.ToString());
  return store;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> parsed = ParseFlags(argc, argv);
  if (!parsed.ok()) Die(parsed.status().message());
  const Flags flags = *parsed;
  std::string dir = flags.dir;
  if (dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "activation_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Die("cannot create a temporary directory");
    dir = pattern;
  }
  const int n = flags.accounts;
  const korb::ThreadingOptions pool = korb::ThreadingOptions::SharedPool(flags.pool_threads);

  korb::ObjectServerOptions server_options;
  server_options.interfaces = {&activation::CounterServant::korb_static_interface()};
  std::unique_ptr<korb::ObjectServer> server = OrDie(korb::ObjectServer::Start(server_options));
  auto activator = std::make_shared<CounterActivator>();
  auto MakeAdapter = [&](const std::string& name, korb::AdapterOptions options) {
    korb::ObjectAdapter* adapter = OrDie(server->CreateAdapter(name, std::move(options)));
    if (absl::Status s = adapter->SetServantActivator(activator); !s.ok()) Die(s.ToString());
    if (absl::Status s = adapter->Resume(); !s.ok()) Die(s.ToString());
    return adapter;
  };
  // Over gRPC, like the raw gRPC rows: collocated calls would skip the
  // network (collocated_bench measures them).
  korb::Client client({.collocated_calls = false});
  std::vector<Row> rows;

  // Activation: stores hold 2n saved counters, more than a run activates.
  {
    auto memory = std::make_shared<korb::MemoryStateStore>();
    for (int i = 0; i < 2 * n; ++i) (void)memory->Save(Id(i), "0");
    std::shared_ptr<korb::StateStore> sqlite = PreloadedSqlite(dir + "/activation.db", 2 * n);
    std::vector<System> systems;
    std::vector<std::unique_ptr<GrpcServer>> raw;
    std::vector<std::unique_ptr<std::atomic<uint64_t>>> next;  // fresh ids per system
    for (auto [config, store] : {std::pair{"none", std::shared_ptr<korb::StateStore>()},
                                 std::pair{"memory", std::shared_ptr<korb::StateStore>(memory)},
                                 std::pair{"sqlite", sqlite}}) {
      korb::ObjectAdapter* adapter =
          MakeAdapter(absl::StrCat("activation_", config), {.threading = pool,
                                                            .max_active_objects = kActivationCap,
                                                            .persistence = {.store = store}});
      raw.push_back(StartGrpc(store));
      for (int s = 0; s < 2; ++s) {
        auto* counter = next.emplace_back(std::make_unique<std::atomic<uint64_t>>(0)).get();
        KeyFn fresh = [counter](std::mt19937_64&) { return counter->fetch_add(1); };
        systems.push_back(s == 0 ? KorbSystem(config, client, adapter, Op::kGet, fresh)
                                 : GrpcSystem(config, *raw.back(), Op::kGet, fresh));
      }
    }
    std::vector<Row> group = RunGroup("activation", systems, 8, flags.seconds);
    rows.insert(rows.end(), group.begin(), group.end());
    for (auto& r : raw) r->server->Shutdown();
  }

  // Steady state on n counters in SQLite, at most 1,000 active.
  {
    std::shared_ptr<korb::StateStore> through = PreloadedSqlite(dir + "/steady_wt.db", n);
    std::shared_ptr<korb::StateStore> back = PreloadedSqlite(dir + "/steady_wb.db", n);
    std::unique_ptr<GrpcServer> raw = StartGrpc(PreloadedSqlite(dir + "/steady_raw.db", n));
    korb::ObjectAdapter* wt = MakeAdapter(
        "steady_wt",
        {.threading = pool,
         .max_active_objects = kSteadyCap,
         .persistence = {.store = through, .mode = korb::PersistenceMode::kWriteThrough}});
    korb::ObjectAdapter* wb = MakeAdapter(
        "steady_wb", {.threading = pool,
                      .max_active_objects = kSteadyCap,
                      .persistence = {.store = back, .mode = korb::PersistenceMode::kWriteBack}});
    KeyFn uniform = [n](std::mt19937_64& r) { return r() % n; };
    KeyFn hot = [n](std::mt19937_64& r) { return r() % 10 < 9 ? r() % kHotSet : r() % n; };
    for (auto [access, keys] : {std::pair{"uniform", uniform}, std::pair{"hot", hot}}) {
      std::vector<System> systems = {
          KorbSystem(absl::StrCat("write_through/", access), client, wt, Op::kAdd, keys),
          KorbSystem(absl::StrCat("write_back/", access), client, wb, Op::kAdd, keys),
          GrpcSystem(absl::StrCat("row_per_call/", access), *raw, Op::kAdd, keys)};
      std::vector<Row> group = RunGroup("steady", systems, 8, flags.seconds);
      rows.insert(rows.end(), group.begin(), group.end());
    }
    raw->server->Shutdown();
  }

  // Thread-per-object with 1,000 active objects against the serialized pool.
  {
    std::vector<System> systems;
    for (auto [config, threading] :
         {std::pair{"thread_per_object", korb::ThreadingOptions::ThreadPerObject()},
          std::pair{"pool_serialized",
                    korb::ThreadingOptions::SerializedPool(flags.pool_threads)}}) {
      korb::ObjectAdapter* adapter = OrDie(
          server->CreateAdapter(absl::StrCat("threading_", config), {.threading = threading}));
      for (int i = 0; i < kThreadingObjects; ++i) {
        OrDie(adapter->Activate(Id(i), std::make_shared<CounterImpl>()));
      }
      if (absl::Status s = adapter->Resume(); !s.ok()) Die(s.ToString());
      KeyFn keys = [](std::mt19937_64& r) { return r() % kThreadingObjects; };
      systems.push_back(KorbSystem(config, client, adapter, Op::kAdd, keys));
    }
    std::unique_ptr<GrpcServer> raw = StartGrpc(nullptr);
    systems.push_back(GrpcSystem("map", *raw, Op::kAdd,
                                 [](std::mt19937_64& r) { return r() % kThreadingObjects; }));
    std::vector<Row> group = RunGroup("threading", systems, 32, flags.seconds);
    rows.insert(rows.end(), group.begin(), group.end());
    raw->server->Shutdown();
  }

  // Memory per active object.
  {
    const int objects = std::min(n, 20000);
    korb::ObjectAdapter* adapter = MakeAdapter("memory", {.threading = pool});
    CallFn call = KorbSystem("", client, adapter, Op::kGet, nullptr).make_call();
    if (!call(0)) Die("a call failed: memory");  // warm the call path
    size_t before = HeapInUse();
    for (int i = 1; i <= objects; ++i) {
      if (!call(i)) Die("a call failed: memory");
    }
    absl::SleepFor(absl::Milliseconds(100));  // let the last replies' buffers go
    double korb_bytes = static_cast<double>(HeapInUse() - before) / objects;
    if (adapter->active_objects() < static_cast<size_t>(objects)) Die("objects were evicted");

    size_t map_before = HeapInUse();
    auto map = std::make_unique<absl::flat_hash_map<std::string, int64_t>>();
    for (int i = 1; i <= objects; ++i) map->try_emplace(Id(i), 0);
    double map_bytes = static_cast<double>(HeapInUse() - map_before) / objects;
    std::cout << absl::StrFormat(
                     "{\"group\":\"memory\",\"system\":\"korb\",\"config\":\"active_object\","
                     "\"objects\":%d,\"bytes_per_object\":%.0f}\n"
                     "{\"group\":\"memory\",\"system\":\"grpc\",\"config\":\"map_entry\","
                     "\"objects\":%d,\"bytes_per_object\":%.0f}\n"
                     "{\"group\":\"memory\",\"system\":\"ratio\",\"config\":\"active_object\","
                     "\"versus\":\"grpc/map_entry\",\"memory_ratio\":%.2f}",
                     objects, korb_bytes, objects, map_bytes, korb_bytes / map_bytes)
              << std::endl;
  }

  // Ratios to raw gRPC on the same workload.
  for (const Row& k : rows) {
    if (k.system != "korb") continue;
    for (const Row& g : rows) {
      if (g.system != "grpc" || g.group != k.group) continue;
      bool same = g.group == "threading" || (g.group == "activation" && g.config == k.config) ||
                  (g.group == "steady" &&
                   g.config.substr(g.config.find('/')) == k.config.substr(k.config.find('/')));
      if (same) PrintRatio(k, g);
    }
  }
  server->Shutdown();
  if (flags.dir.empty()) std::filesystem::remove_all(dir);
  return EXIT_SUCCESS;
}
