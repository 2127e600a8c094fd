// failover_bench: Korb's replica failover and invoke-all against raw gRPC on
// the same workload, in one run, with every server a separate process
// (examples/replicated's replicated_server --inline; with --grpc it serves
// the same proto as a plain gRPC callback service).
//
// failover   3 replicas, --clients closed-loop threads reading the counter
//            (Get) back to back, measured in three phases of --seconds each:
//              before  all replicas up
//              during  from the moment replica 1 is killed with SIGKILL
//                      until it has been restarted on its port (--seconds
//                      plus the restart)
//              after   from then on: clients take it back
//            korb: one reference naming the 3 replicas, round robin, Korb's
//                  failover and failback (backoffs below)
//            grpc: a raw gRPC client doing its own naive failover: one
//                  channel per replica, each call starts at the next replica
//                  in turn and on any error tries the next one (3 tries)
// invoke_all one idempotent write (Set) per call, 1 and --clients threads:
//            korb single (one-replica reference), korb first / majority /
//            all (Replication::kActive over 3 replicas); grpc single (a raw
//            gRPC call to one plain gRPC server) and grpc all (three raw
//            asynchronous calls, one per plain gRPC server, waiting for all:
//            what invoke-all does, by hand)
// Prints one JSON object per line, then ratio lines: failover phases korb vs
// grpc, and each korb invoke-all mode vs korb single, grpc single and grpc
// all.
//
//   failover_bench [--seconds S] [--clients N] [--server PATH]
//
// The default --seconds keeps a run at about a minute.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/percentile.h"
#include "client/client.h"
#include "common/sync.h"
#include "replicated/counter.grpc.pb.h"
#include "replicated/counter.korb.h"

extern char** environ;

namespace {

using ::korb::bench::Percentile;

struct Flags {
  double seconds = 3;  // per failover phase and per invoke-all row
  int clients = 4;
  std::string server = KORB_REPLICATED_SERVER;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "failover_bench: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

// --- Server processes -----------------------------------------------------

// A replicated_server child; killed with SIGKILL when destroyed.
class ServerProcess {
 public:
  // Starts `server` listening on `listen` and returns once it printed its
  // first line (a reference, or grpc://HOST:PORT), within 30 s.
  ServerProcess(const std::string& server, const std::string& listen, bool grpc) {
    // Korb's servers dispatch on gRPC's callback thread, as the plain gRPC
    // callback service does: the comparison is of failover and invoke-all,
    // not of threading policies (echo_bench has those).
    std::vector<std::string> args = {server, "--listen", listen, grpc ? "--grpc" : "--inline"};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      Die("cannot start " + server);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
    line_ = ReadLine(absl::Seconds(30));
  }
  ~ServerProcess() {
    Kill();
    close(out_);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  const std::string& line() const { return line_; }

 private:
  std::string ReadLine(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string line;
    for (;;) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) Die("a server printed nothing within 30 s");
      pollfd pfd{out_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
      char c;
      if (read(out_, &c, 1) != 1) Die("a server exited before printing its address");
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string line_;
};

// --- Measurement ----------------------------------------------------------

// One call of the workload; false on error.
using CallFn = std::function<bool()>;

struct Row {
  std::string bench, system, mode;
  int clients = 0;
  long calls = 0, failed = 0;
  double seconds = 0, calls_per_s = 0, p50_us = 0, p99_us = 0;
};

// Closed-loop client threads calling back to back, their latencies and
// failures sorted into phases that the main thread switches.
class Load {
 public:
  Load(int clients, int phases, const std::function<CallFn()>& make_call)
      : latencies_(phases, std::vector<std::vector<double>>(clients)),
        failed_(phases),
        started_(phases) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, c, call = make_call()] {
        for (;;) {
          const int phase = phase_.load();
          if (phase == kStop) break;
          const absl::Time start = absl::Now();
          const bool ok = call();
          if (phase < 0) continue;  // warm-up
          if (ok) {
            latencies_[phase][c].push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
          } else {
            ++failed_[phase];
          }
        }
      });
    }
  }
  ~Load() { Stop(); }

  // Calls started from now on count for `phase` (0, 1, ...).
  void Enter(int phase) {
    const absl::Time now = absl::Now();
    if (phase_.load() >= 0) ended_.push_back(now);
    started_[phase] = now;
    phase_ = phase;
  }
  void Stop() {
    if (threads_.empty()) return;
    if (phase_.load() >= 0) ended_.push_back(absl::Now());
    phase_ = kStop;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  Row Summarize(int phase) const {
    std::vector<double> all;
    for (const auto& mine : latencies_[phase]) all.insert(all.end(), mine.begin(), mine.end());
    std::sort(all.begin(), all.end());
    Row row;
    row.clients = static_cast<int>(latencies_[phase].size());
    row.calls = static_cast<long>(all.size());
    row.failed = failed_[phase].load();
    row.seconds = absl::ToDoubleSeconds(ended_[phase] - started_[phase]);
    row.calls_per_s = all.size() / row.seconds;
    row.p50_us = Percentile(all, 0.50);
    row.p99_us = Percentile(all, 0.99);
    return row;
  }

 private:
  static constexpr int kStop = -2;
  std::atomic<int> phase_{-1};
  std::vector<std::vector<std::vector<double>>> latencies_;  // [phase][client]
  std::vector<std::atomic<long>> failed_;
  std::vector<absl::Time> started_, ended_;
  std::vector<std::thread> threads_;
};

void Print(const Row& r) {
  std::cout << absl::StrFormat(
                   "{\"bench\":\"%s\",\"system\":\"%s\",\"mode\":\"%s\",\"clients\":%d,"
                   "\"calls\":%d,\"failed\":%d,\"seconds\":%.2f,\"calls_per_s\":%.0f,"
                   "\"p50_us\":%.1f,\"p99_us\":%.1f}",
                   r.bench, r.system, r.mode, r.clients, r.calls, r.failed, r.seconds,
                   r.calls_per_s, r.p50_us, r.p99_us)
            << std::endl;
}

void PrintRatio(const Row& a, const Row& b) {
  std::cout << absl::StrFormat(
                   "{\"bench\":\"%s\",\"system\":\"ratio\",\"mode\":\"%s/%s\",\"versus\":\"%s/%s\","
                   "\"clients\":%d,\"throughput_ratio\":%.3f,\"p50_ratio\":%.3f,"
                   "\"p99_ratio\":%.3f}",
                   a.bench, a.system, a.mode, b.system, b.mode, a.clients,
                   a.calls_per_s / b.calls_per_s, a.p50_us / b.p50_us, a.p99_us / b.p99_us)
            << std::endl;
}

// --- Systems --------------------------------------------------------------

korb::ClientOptions KorbOptions() {
  korb::ClientOptions options;
  options.default_timeout = absl::Seconds(10);
  options.selection = korb::SelectionPolicy::kRoundRobin;
  options.failback_initial_backoff = absl::Milliseconds(200);
  options.failback_max_backoff = absl::Seconds(2);
  options.reconnect.initial_backoff = absl::Milliseconds(200);
  options.reconnect.max_backoff = absl::Seconds(1);
  return options;
}

// A raw gRPC channel with the same reconnect backoff as KorbOptions().
std::shared_ptr<grpc::Channel> RawChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::string Target(const ServerProcess& raw) {
  return std::string(absl::StripPrefix(raw.line(), "grpc://"));
}

// Starts 3 servers, runs the failover phases against them, prints the rows.
std::vector<Row> MeasureFailover(const Flags& flags, bool grpc) {
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<ServerProcess>(flags.server, "127.0.0.1:0", grpc));
  }
  const std::string victim = grpc ? Target(*servers[1]) : [&] {
    absl::StatusOr<korb::Ref> ref = korb::Ref::Parse(servers[1]->line());
    if (!ref.ok()) Die(ref.status().ToString());
    return ref->endpoints().front().ToString();
  }();

  std::function<CallFn()> make_call;
  std::unique_ptr<korb::Client> client;
  if (grpc) {
    std::vector<std::shared_ptr<replicated::Counter::Stub>> stubs;
    for (const auto& server : servers) {
      stubs.push_back(replicated::Counter::NewStub(RawChannel(Target(*server))));
    }
    auto next = std::make_shared<std::atomic<unsigned>>(0);
    make_call = [stubs, next]() -> CallFn {
      return [stubs, next] {
        const unsigned start = next->fetch_add(1);
        for (unsigned i = 0; i < stubs.size(); ++i) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          replicated::Value value;
          if (stubs[(start + i) % stubs.size()]->Get(&context, korb::Empty(), &value).ok()) {
            return true;
          }
        }
        return false;
      };
    };
  } else {
    absl::StatusOr<korb::Ref> ref = korb::Ref::Parse(servers[0]->line());
    if (!ref.ok()) Die(ref.status().ToString());
    std::vector<korb::HostPort> endpoints;
    for (const auto& server : servers) {
      endpoints.push_back(korb::Ref::Parse(server->line())->endpoints().front());
    }
    ref->set_endpoints(endpoints);
    client = std::make_unique<korb::Client>(KorbOptions());
    auto stub = std::make_shared<replicated::CounterStub>(*client, *ref);
    make_call = [stub]() -> CallFn { return [stub] { return stub->Get(korb::Empty()).ok(); }; };
  }

  std::vector<Row> rows;
  {
    Load load(flags.clients, 3, make_call);
    absl::SleepFor(absl::Seconds(std::min(0.5, flags.seconds / 4)));  // warm-up
    load.Enter(0);
    absl::SleepFor(absl::Seconds(flags.seconds));
    load.Enter(1);
    servers[1]->Kill();
    absl::SleepFor(absl::Seconds(flags.seconds));
    servers[1] = std::make_unique<ServerProcess>(flags.server, victim, grpc);
    load.Enter(2);
    absl::SleepFor(absl::Seconds(flags.seconds));
    load.Stop();
    const char* phases[] = {"before", "during", "after"};
    for (int phase = 0; phase < 3; ++phase) {
      Row row = load.Summarize(phase);
      row.bench = "failover";
      row.system = grpc ? "grpc" : "korb";
      row.mode = phases[phase];
      Print(row);
      rows.push_back(row);
    }
  }
  client.reset();  // before the servers (docs: destroy clients first)
  return rows;
}

std::vector<Row> MeasureInvokeAll(const Flags& flags) {
  std::vector<std::unique_ptr<ServerProcess>> korb_servers;
  for (int i = 0; i < 3; ++i) {
    korb_servers.push_back(std::make_unique<ServerProcess>(flags.server, "127.0.0.1:0", false));
  }
  std::vector<std::unique_ptr<ServerProcess>> raw_servers;
  for (int i = 0; i < 3; ++i) {
    raw_servers.push_back(std::make_unique<ServerProcess>(flags.server, "127.0.0.1:0", true));
  }
  absl::StatusOr<korb::Ref> single = korb::Ref::Parse(korb_servers[0]->line());
  if (!single.ok()) Die(single.status().ToString());
  korb::Ref all = *single;
  std::vector<korb::HostPort> endpoints;
  for (const auto& server : korb_servers) {
    endpoints.push_back(korb::Ref::Parse(server->line())->endpoints().front());
  }
  all.set_endpoints(endpoints);

  korb::Client client(KorbOptions());
  std::vector<std::shared_ptr<replicated::Counter::Stub>> raw;
  for (const auto& server : raw_servers) {
    raw.push_back(replicated::Counter::NewStub(RawChannel(Target(*server))));
  }
  struct System {
    std::string system, mode;
    std::function<CallFn()> make_call;
  };
  std::vector<System> systems;
  auto korb_system = [&](const std::string& mode, const korb::Ref& ref,
                         std::optional<korb::Completion> completion) {
    auto stub = std::make_shared<replicated::CounterStub>(client, ref);
    if (completion) stub->korb_set_replication(korb::Replication::kActive, *completion);
    systems.push_back({"korb", mode, [stub]() -> CallFn {
                         return [stub, n = int64_t{0}]() mutable {
                           replicated::Delta delta;
                           delta.set_amount(++n);
                           return stub->Set(delta).ok();
                         };
                       }});
  };
  korb_system("single", *single, std::nullopt);
  korb_system("first", all, korb::Completion::kFirst);
  korb_system("majority", all, korb::Completion::kMajority);
  korb_system("all", all, korb::Completion::kAll);
  systems.push_back({"grpc", "single", [raw]() -> CallFn {
                       return [stub = raw[0], n = int64_t{0}]() mutable {
                         grpc::ClientContext context;
                         context.set_deadline(std::chrono::system_clock::now() +
                                              std::chrono::seconds(10));
                         replicated::Delta delta;
                         delta.set_amount(++n);
                         replicated::Value value;
                         return stub->Set(&context, delta, &value).ok();
                       };
                     }});
  systems.push_back({"grpc", "all", [raw]() -> CallFn {
                       return [raw, n = int64_t{0}]() mutable {
                         replicated::Delta delta;
                         delta.set_amount(++n);
                         struct Leg {
                           grpc::ClientContext context;
                           replicated::Value value;
                           grpc::Status status;
                         };
                         std::vector<Leg> legs(raw.size());
                         std::atomic<size_t> pending{raw.size()};
                         korb::Notification done;
                         for (size_t i = 0; i < raw.size(); ++i) {
                           legs[i].context.set_deadline(std::chrono::system_clock::now() +
                                                        std::chrono::seconds(10));
                           raw[i]->async()->Set(&legs[i].context, &delta, &legs[i].value,
                                                [&, i](grpc::Status status) {
                                                  legs[i].status = std::move(status);
                                                  if (--pending == 0) done.Notify();
                                                });
                         }
                         done.WaitForNotification();
                         for (const Leg& leg : legs) {
                           if (!leg.status.ok()) return false;
                         }
                         return true;
                       };
                     }});

  std::vector<Row> rows;
  for (int clients : {1, flags.clients}) {
    for (const System& system : systems) {
      Load load(clients, 1, system.make_call);
      absl::SleepFor(absl::Seconds(std::min(0.3, flags.seconds / 4)));
      load.Enter(0);
      absl::SleepFor(absl::Seconds(flags.seconds));
      load.Stop();
      Row row = load.Summarize(0);
      row.bench = "invoke_all";
      row.system = system.system;
      row.mode = system.mode;
      Print(row);
      rows.push_back(row);
    }
  }
  return rows;
}

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc && absl::SimpleAtod(argv[i + 1], &flags.seconds) &&
        flags.seconds > 0) {
      ++i;
    } else if (arg == "--clients" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.clients) && flags.clients > 0) {
      ++i;
    } else if (arg == "--server" && i + 1 < argc) {
      flags.server = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          "usage: failover_bench [--seconds S] [--clients N] [--server PATH]");
    }
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) Die(std::string(flags.status().message()));
  signal(SIGPIPE, SIG_IGN);

  std::vector<Row> korb = MeasureFailover(*flags, /*grpc=*/false);
  std::vector<Row> grpc = MeasureFailover(*flags, /*grpc=*/true);
  for (size_t i = 0; i < korb.size(); ++i) PrintRatio(korb[i], grpc[i]);

  std::vector<Row> rows = MeasureInvokeAll(*flags);
  for (const Row& row : rows) {
    if (row.system != "korb") continue;
    for (const Row& base : rows) {
      if (&base == &row || base.clients != row.clients) continue;
      if (base.mode == "single" || (base.system == "grpc" && base.mode == "all")) {
        PrintRatio(row, base);
      }
    }
  }
  return EXIT_SUCCESS;
}
