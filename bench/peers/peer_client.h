// The client side of the peer benchmark (bench/peers/): a client process
// (Korb, raw gRPC, Ice or omniORB) connects once and then measures on the
// driver's commands, so that every system's client pays the same harness and
// the same closed loop (bench/closed_loop.h), and connections stay open
// across rounds as a real client's would.
//
// Protocol, one line each way, on the client's stdin and stdout:
//   client -> driver   ready                        once, after a first call
//   driver -> client   run <clients> <payload> <seconds> <file>
//   client -> driver   ok <measured-seconds> <calls>  or  error <message>
// A run starts <clients> threads calling back to back with <payload>-byte
// echoes (a short warm-up, then <seconds> measured) and writes the measured
// calls' latencies to <file> as native doubles, in microseconds. EOF or
// "quit" on stdin ends the process. Malformed or out-of-bound commands
// (clients 1..kMaxClients, payload up to kMaxPayload, seconds up to
// kMaxSeconds) are answered with an error line and change nothing.
//
// Thread-safety: ServeDriver() runs in main's thread; the loops it makes run
// on the closed loop's threads, one loop per thread.
//
// Usage:
//   int main(int argc, char** argv) {
//     ... parse --target, connect ...
//     return korb::bench::peers::ServeDriver([&](int thread, size_t payload) {
//       return korb::bench::ClientLoop{.call = [...] { return CallOnce(); }};
//     });
//   }
#ifndef KORB_BENCH_PEERS_PEER_CLIENT_H_
#define KORB_BENCH_PEERS_PEER_CLIENT_H_

#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/closed_loop.h"

namespace korb::bench::peers {

inline constexpr int kMaxClients = 256;
inline constexpr size_t kMaxPayload = 1 << 20;
inline constexpr double kMaxSeconds = 600;
// Warm-up before each measured run (the connection is already open; this
// starts the threads and, for streams, opens them).
inline constexpr double kMaxWarmupSeconds = 0.05;

// Client thread `thread`'s loop of `payload`-byte echoes. Its call returns
// false on a failed call or a wrong reply, after saying why on stderr.
using MakeLoop = std::function<ClientLoop(int thread, size_t payload)>;

// A measurement request from the driver, validated.
struct RunCommand {
  int clients = 0;
  size_t payload = 0;
  double seconds = 0;
  std::string file;
};

// Parses "run <clients> <payload> <seconds> <file>"; the error says why not.
inline bool ParseRun(const std::string& line, RunCommand* run, std::string* error) {
  std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.size() != 5 || words[0] != "run") {
    *error = "expected: run <clients> <payload> <seconds> <file>";
    return false;
  }
  if (!absl::SimpleAtoi(words[1], &run->clients) || run->clients < 1 ||
      run->clients > kMaxClients) {
    *error = absl::StrFormat("clients must be 1..%d", kMaxClients);
    return false;
  }
  if (!absl::SimpleAtoi(words[2], &run->payload) || run->payload > kMaxPayload) {
    *error = absl::StrFormat("payload must be 0..%d bytes", kMaxPayload);
    return false;
  }
  if (!absl::SimpleAtod(words[3], &run->seconds) || !(run->seconds > 0) ||
      run->seconds > kMaxSeconds) {
    *error = absl::StrFormat("seconds must be in (0, %g]", kMaxSeconds);
    return false;
  }
  run->file = words[4];
  return true;
}

inline bool WriteLatencies(const std::string& path, const std::vector<double>& latencies) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  size_t written = std::fwrite(latencies.data(), sizeof(double), latencies.size(), f);
  return std::fclose(f) == 0 && written == latencies.size();
}

// Serves the driver's commands until EOF or "quit"; returns main's exit code.
inline int ServeDriver(const MakeLoop& make_loop) {
  // One call before "ready": every system connects lazily, and setting up
  // the connection belongs to no measured call (nor to a short warm-up).
  {
    ClientLoop probe = make_loop(0, 0);
    probe.prepare();
    if (!probe.call()) {
      std::cout << "error the first call failed (see the client's stderr)" << std::endl;
      return 1;
    }
  }
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line) && line != "quit") {
    RunCommand run;
    std::string error;
    if (!ParseRun(line, &run, &error)) {
      std::cout << "error " << error << std::endl;
      continue;
    }
    Sample sample;
    auto client = [&](int thread) { return make_loop(thread, run.payload); };
    if (!RunClosedLoop(run.clients, run.seconds, kMaxWarmupSeconds, client, &sample)) {
      std::cout << "error a call failed (see the client's stderr)" << std::endl;
    } else if (!WriteLatencies(run.file, sample.latencies_us)) {
      std::cout << "error cannot write " << run.file << std::endl;
    } else {
      std::cout << absl::StrFormat("ok %.6f %d", sample.seconds, sample.latencies_us.size())
                << std::endl;
    }
  }
  return 0;
}

}  // namespace korb::bench::peers

#endif  // KORB_BENCH_PEERS_PEER_CLIENT_H_
