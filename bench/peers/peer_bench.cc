// peer_bench: Korb against raw gRPC, ZeroC Ice 3.7 and omniORB 4.2 across
// processes, in one run. For every system it starts a server process and a
// client process (bench/peers/*_server, *_client) and drives the client
// through peer_client.h's protocol on the echo workload:
//   payloads 32 B and 4 KiB;
//   latency      1 client calling back to back: p50/p90/p99
//   throughput   8 and 32 closed-loop client threads in the client process
// Each row's time (--seconds per system, default 0.5) is split into --rounds
// rounds (default 4), and every round measures every system in a rotated
// order, so that load from other processes on the machine spreads evenly
// over the systems. The systems are listed in Systems() below; a system
// whose programs were not built (Ice and omniORB are built only when
// `make bench-deps` installed them) is skipped with a JSON line saying so.
//
// Prints one JSON object per line: a row per system and workload, then a
// "ratio" line per Korb row and every other system on the same workload
// (p50 and p99 ratios: below 1 is Korb faster; throughput ratio: above 1 is
// Korb faster). Servers and clients are stopped by PID (SIGTERM, then
// SIGKILL) when the run ends or fails.
//
//   peer_bench [--seconds S] [--rounds N] [--systems a,b,...] [--bin-dir DIR]
//
// --systems keeps the systems whose name "system/variant/transport" starts
// with one of the given prefixes, e.g. --systems korb,grpc/stream.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/closed_loop.h"
#include "bench/peers/child_process.h"
#include "common/status_macros.h"

namespace {

using ::korb::bench::Figures;
using ::korb::bench::Sample;
using ::korb::bench::peers::ChildProcess;

struct Flags {
  double seconds = 0.5;  // measured per row and system, spread over the rounds
  int rounds = 4;
  std::vector<std::string> systems;  // name prefixes; empty: all
  std::string bin_dir = KORB_PEER_BIN_DIR;
};

// One system: the programs of its server and client. The client gets
// "--target <the server's first line>" appended.
struct System {
  std::string system, variant, transport;
  std::vector<std::string> server, client;
  std::string name() const { return absl::StrCat(system, "/", variant, "/", transport); }
};

// Every system of the benchmark. `sockets` is a private directory for Unix
// sockets. Adding a system (a Korb transport, a threading policy, a peer) is
// one entry here, with a server and a client that speak peer_client.h.
std::vector<System> Systems(const std::string& sockets) {
  auto unix_socket = [&](const std::string& name) {
    return absl::StrCat("unix:", sockets, "/", name);
  };
  return {
      {"korb", "inline", "tcp", {"peer_korb_server", "--policy", "inline"},
       {"peer_grpc_client", "--mode", "korb"}},
      {"korb", "pool4", "tcp", {"peer_korb_server", "--policy", "pool", "--pool-threads", "4"},
       {"peer_grpc_client", "--mode", "korb"}},
      // Korb's server called by gRPC's generated stub: Korb's client runtime
      // is what this row leaves out.
      {"korb", "inline_grpc_stub", "tcp", {"peer_korb_server", "--policy", "inline"},
       {"peer_grpc_client", "--mode", "unary"}},
      {"grpc", "sync", "tcp", {"peer_grpc_server", "--mode", "sync"},
       {"peer_grpc_client", "--mode", "unary"}},
      {"grpc", "callback", "tcp", {"peer_grpc_server", "--mode", "callback"},
       {"peer_grpc_client", "--mode", "unary"}},
      {"grpc", "stream", "tcp", {"peer_grpc_server", "--mode", "stream"},
       {"peer_grpc_client", "--mode", "stream"}},
      {"grpc", "callback", "unix",
       {"peer_grpc_server", "--mode", "callback", "--listen", unix_socket("grpc-callback")},
       {"peer_grpc_client", "--mode", "unary"}},
      {"grpc", "stream", "unix",
       {"peer_grpc_server", "--mode", "stream", "--listen", unix_socket("grpc-stream")},
       {"peer_grpc_client", "--mode", "stream"}},
      // Ice's default server thread pool: one thread reads and dispatches.
      {"ice", "default", "tcp", {"peer_ice_server"}, {"peer_ice_client"}},
      // A server thread pool sized like the largest client count.
      {"ice", "pool32", "tcp", {"peer_ice_server", "--threads", "32"}, {"peer_ice_client"}},
      // omniORB's default: a thread per connection.
      {"omniorb", "default", "tcp", {"peer_omniorb_server"}, {"peer_omniorb_client"}},
      {"omniorb", "default", "unix",
       {"peer_omniorb_server", "--endpoint", absl::StrCat("giop:unix:", sockets, "/omniorb")},
       {"peer_omniorb_client", "--unix-only"}},
  };
}

struct Row {
  const System* system = nullptr;
  std::string scenario;
  int clients = 0;
  size_t payload = 0;
  Figures figures;
};

// A started system: its server and client processes.
struct Running {
  const System* system;
  std::unique_ptr<ChildProcess> server, client;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc && absl::SimpleAtod(argv[i + 1], &flags.seconds) &&
        flags.seconds > 0 && flags.seconds <= 3600) {
      ++i;
    } else if (arg == "--rounds" && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &flags.rounds) && flags.rounds > 0 &&
               flags.rounds <= 100) {
      ++i;
    } else if (arg == "--systems" && i + 1 < argc) {
      flags.systems = absl::StrSplit(argv[++i], ',', absl::SkipEmpty());
    } else if (arg == "--bin-dir" && i + 1 < argc) {
      flags.bin_dir = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          "usage: peer_bench [--seconds S] [--rounds N] [--systems a,b,...] [--bin-dir DIR]");
    }
  }
  return flags;
}

bool Selected(const Flags& flags, const System& system) {
  if (flags.systems.empty()) return true;
  return std::any_of(flags.systems.begin(), flags.systems.end(),
                     [&](const std::string& p) { return absl::StartsWith(system.name(), p); });
}

std::string JsonName(const System& s) {
  return absl::StrFormat("\"system\":\"%s\",\"variant\":\"%s\",\"transport\":\"%s\"", s.system,
                         s.variant, s.transport);
}

// Starts the system's server, then its client aimed at the server's line.
absl::StatusOr<Running> Start(const Flags& flags, const System& system) {
  Running running{&system, nullptr, nullptr};
  std::vector<std::string> server = system.server, client = system.client;
  server[0] = flags.bin_dir + "/" + server[0];
  client[0] = flags.bin_dir + "/" + client[0];
  ASSIGN_OR_RETURN(running.server, ChildProcess::Start(server));
  ASSIGN_OR_RETURN(std::string target, running.server->ReadLine(absl::Seconds(30)));
  client.push_back("--target");
  client.push_back(target);
  ASSIGN_OR_RETURN(running.client, ChildProcess::Start(client));
  ASSIGN_OR_RETURN(std::string ready, running.client->ReadLine(absl::Seconds(30)));
  if (ready != "ready") {
    return absl::InternalError(absl::StrCat(system.name(), ": client said \"", ready, "\""));
  }
  return running;
}

// One measured run of `clients` threads on `running`'s client process; its
// latencies are appended to `sample`.
absl::Status MeasureOnce(Running& running, int clients, size_t payload, double seconds,
                         const std::string& file, Sample* sample) {
  RETURN_IF_ERROR(running.client->WriteLine(
      absl::StrFormat("run %d %d %.6f %s", clients, payload, seconds, file)));
  // The run itself, its warm-up, thread start and join: generous.
  ASSIGN_OR_RETURN(std::string reply,
                   running.client->ReadLine(absl::Seconds(seconds) + absl::Seconds(60)));
  std::vector<std::string> words = absl::StrSplit(reply, ' ');
  double measured = 0;
  size_t calls = 0;
  if (words.size() != 3 || words[0] != "ok" || !absl::SimpleAtod(words[1], &measured) ||
      !absl::SimpleAtoi(words[2], &calls)) {
    return absl::InternalError(absl::StrCat(running.system->name(), ": ", reply));
  }
  FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return absl::InternalError("cannot read " + file);
  size_t old = sample->latencies_us.size();
  sample->latencies_us.resize(old + calls);
  size_t read = std::fread(sample->latencies_us.data() + old, sizeof(double), calls, f);
  std::fclose(f);
  if (read != calls) return absl::InternalError(file + " is shorter than announced");
  sample->seconds += measured;
  return absl::OkStatus();
}

void Print(const Row& r) {
  std::cout << absl::StrFormat(
                   "{%s,\"scenario\":\"%s\",\"clients\":%d,\"payload\":%d,\"calls\":%d,"
                   "\"calls_per_s\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f}",
                   JsonName(*r.system), r.scenario, r.clients, r.payload, r.figures.calls,
                   r.figures.calls_per_s, r.figures.p50_us, r.figures.p90_us, r.figures.p99_us)
            << std::endl;
}

// Korb's rows against every other system's on the same workload.
void PrintRatios(const std::vector<Row>& rows) {
  for (const Row& k : rows) {
    if (k.system->system != "korb") continue;
    const Figures& korb = k.figures;
    for (const Row& p : rows) {
      const Figures& peer = p.figures;
      if (p.system->system == "korb" || p.scenario != k.scenario || p.clients != k.clients ||
          p.payload != k.payload || peer.p50_us <= 0 || peer.p99_us <= 0 ||
          peer.calls_per_s <= 0) {
        continue;
      }
      std::cout << absl::StrFormat(
                       "{\"system\":\"ratio\",\"korb\":\"%s\",\"versus\":\"%s\","
                       "\"scenario\":\"%s\","
                       "\"clients\":%d,\"payload\":%d,\"p50_ratio\":%.3f,\"p99_ratio\":%.3f,"
                       "\"throughput_ratio\":%.3f}",
                       k.system->name(), p.system->name(), k.scenario, k.clients, k.payload,
                       korb.p50_us / peer.p50_us, korb.p99_us / peer.p99_us,
                       korb.calls_per_s / peer.calls_per_s)
                << std::endl;
    }
  }
}

absl::Status Run(const Flags& flags, const std::string& scratch) {
  const std::vector<System> systems = Systems(scratch);
  std::vector<Running> running;
  for (const System& system : systems) {
    if (!Selected(flags, system)) continue;
    const std::string server = flags.bin_dir + "/" + system.server[0];
    const std::string client = flags.bin_dir + "/" + system.client[0];
    if (access(server.c_str(), X_OK) != 0 || access(client.c_str(), X_OK) != 0) {
      std::cout << absl::StrFormat(
                       "{%s,\"skipped\":\"%s or %s not built: run make bench-deps, then make "
                       "build\"}",
                       JsonName(system), system.server[0], system.client[0])
                << std::endl;
      continue;
    }
    ASSIGN_OR_RETURN(Running r, Start(flags, system));
    running.push_back(std::move(r));
  }
  if (running.empty()) return absl::NotFoundError("no system selected or built");

  const std::string file = scratch + "/latencies";
  std::vector<Row> rows;
  for (size_t payload : {size_t{32}, size_t{4096}}) {
    for (auto [scenario, clients] :
         {std::pair{"latency", 1}, std::pair{"throughput", 8}, std::pair{"throughput", 32}}) {
      std::vector<Sample> samples(running.size());
      for (int round = 0; round < flags.rounds; ++round) {
        for (size_t i = 0; i < running.size(); ++i) {
          size_t k = (i + round) % running.size();
          RETURN_IF_ERROR(MeasureOnce(running[k], clients, payload, flags.seconds / flags.rounds,
                                      file, &samples[k]));
        }
      }
      for (size_t k = 0; k < running.size(); ++k) {
        Row row{.system = running[k].system,
                .scenario = scenario,
                .clients = clients,
                .payload = payload,
                .figures = korb::bench::Summarize(samples[k])};
        Print(row);
        rows.push_back(row);
      }
    }
  }
  PrintRatios(rows);
  return absl::OkStatus();  // `running`'s destructors stop every process
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << flags.status().message() << std::endl;
    return EXIT_FAILURE;
  }
  // Unix sockets and latency files, private to this run.
  std::string scratch = (std::filesystem::temp_directory_path() / "korb-peers-XXXXXX").string();
  if (mkdtemp(scratch.data()) == nullptr) {
    std::cerr << "peer_bench: cannot create a directory under /tmp" << std::endl;
    return EXIT_FAILURE;
  }
  absl::Status status = Run(*flags, scratch);
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  if (!status.ok()) {
    std::cerr << "peer_bench: " << status << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
