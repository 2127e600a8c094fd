#include "adapter/termination_signals.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"

namespace korb {
namespace {

// A signal raised after Block() waits, pending, for Wait().
TEST(TerminationSignals, WaitTakesAPendingSignal) {
  const TerminationSignals signals = TerminationSignals::Block();
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_EQ(signals.Wait(), SIGTERM);
}

// Threads started after Block() inherit the mask, so a signal sent to the
// process (as `kill` does) interrupts none of them and reaches Wait().
TEST(TerminationSignals, ProcessSignalReachesWaitPastLaterThreads) {
  const TerminationSignals signals = TerminationSignals::Block();
  std::thread sender([] { kill(getpid(), SIGINT); });
  EXPECT_EQ(signals.Wait(), SIGINT);
  sender.join();
}

}  // namespace
}  // namespace korb
