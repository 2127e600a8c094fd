// korb::TerminationSignals: how a server process waits for SIGINT/SIGTERM
// (Ctrl-C, `kill`, a service manager) to shut down cleanly.
//
// Block() must run before ObjectServer::Start() and any other thread: the
// signals are blocked in the calling thread, and threads started afterwards
// (gRPC's, the adapters') inherit the mask, so no thread is interrupted by
// them and Wait() receives them synchronously — no async-signal-safety
// concerns, and the shutdown runs as ordinary code.
//
// Thread-compatible: one thread calls Wait().
//
// Usage:
//   korb::TerminationSignals signals = korb::TerminationSignals::Block();
//   auto server = korb::ObjectServer::Start(options);
//   ...
//   int signal = signals.Wait();        // SIGINT or SIGTERM
//   (*server)->Shutdown(absl::Seconds(5));
#ifndef KORB_ADAPTER_TERMINATION_SIGNALS_H_
#define KORB_ADAPTER_TERMINATION_SIGNALS_H_

#include <signal.h>

namespace korb {

class TerminationSignals {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (and so in the threads
  // it starts from now on).
  static TerminationSignals Block();

  // Waits until SIGINT or SIGTERM arrives (or is already pending) and
  // returns it; the signal is consumed.
  int Wait() const;

 private:
  TerminationSignals() = default;
  sigset_t signals_;
};

}  // namespace korb

#endif  // KORB_ADAPTER_TERMINATION_SIGNALS_H_
