#include "adapter/termination_signals.h"

#include <pthread.h>

namespace korb {

TerminationSignals TerminationSignals::Block() {
  TerminationSignals blocked;
  sigemptyset(&blocked.signals_);
  sigaddset(&blocked.signals_, SIGINT);
  sigaddset(&blocked.signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked.signals_, nullptr);
  return blocked;
}

int TerminationSignals::Wait() const {
  int signal = 0;
  // sigwait() fails only for an invalid set; retry on the odd EINTR.
  while (sigwait(&signals_, &signal) != 0) {
  }
  return signal;
}

}  // namespace korb
