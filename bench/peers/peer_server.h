// What every server process of the peer benchmark (bench/peers/) shares with
// the driver: it prints one line naming where clients reach it (a gRPC
// target, a Korb reference, an Ice proxy or a CORBA IOR), then serves until
// SIGTERM or SIGINT, which the driver sends by PID, or until its stdin, when
// that is a pipe (the driver's), reaches end of file: a driver killed
// before it could stop its servers leaves none behind.
//
// The Ice and omniORB servers use this instead of korb::TerminationSignals
// so that they link no Korb code.
//
// Thread-compatible: call BlockTerminationSignals() first in main(), before
// any thread starts, and WaitForTermination() from one thread.
//
// Usage:
//   sigset_t signals = korb::bench::peers::BlockTerminationSignals();
//   ... start the server ...
//   korb::bench::peers::PrintEndpoint(target);
//   korb::bench::peers::WaitForTermination(signals);
#ifndef KORB_BENCH_PEERS_PEER_SERVER_H_
#define KORB_BENCH_PEERS_PEER_SERVER_H_

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <thread>

namespace korb::bench::peers {

// Blocks SIGINT and SIGTERM here and so in every thread started later, so
// that WaitForTermination() receives them synchronously.
inline sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The line the driver waits for; flushed, since stdout is a pipe.
inline void PrintEndpoint(const std::string& endpoint) { std::cout << endpoint << std::endl; }

// Under the driver, stdin is a pipe the driver holds open: end of file means
// the driver is gone, and the server stops as on SIGTERM. Any other stdin (a
// terminal, /dev/null) is left alone.
inline void StopWhenStdinCloses() {
  struct stat st;
  if (fstat(STDIN_FILENO, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  std::thread([] {
    char buffer[256];
    for (;;) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    kill(getpid(), SIGTERM);  // blocked everywhere: WaitForTermination() takes it
  }).detach();
}

inline int WaitForTermination(const sigset_t& signals) {
  StopWhenStdinCloses();
  int signal = 0;
  while (sigwait(&signals, &signal) != 0) {
  }
  return signal;
}

}  // namespace korb::bench::peers

#endif  // KORB_BENCH_PEERS_PEER_SERVER_H_
