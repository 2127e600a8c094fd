// A child process for end-to-end tests: started with its standard output on a
// pipe, read line by line with a deadline, stopped by PID.
//
// The child is killed (SIGKILL) when the thread that started it ends, so a
// test that crashes leaves no server behind: start children from the test's
// own thread, not from a short-lived helper thread.
//
// Thread-compatible.
//
// Usage:
//   absl::StatusOr<Subprocess> server = Subprocess::Start({path, "--listen", "127.0.0.1:0"});
//   absl::StatusOr<std::string> ref = server->ReadLine(absl::Seconds(30));
//   server->Kill(SIGTERM);
#ifndef KORB_TESTS_TESTING_SUBPROCESS_H_
#define KORB_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace korb::testing {

class Subprocess {
 public:
  // Runs argv[0] with `argv` and this process's environment plus `extra_env`
  // ("NAME=value", replacing an inherited NAME); its stdout is readable through ReadLine().
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::vector<std::string>& extra_env = {});

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();  // Kill(SIGKILL) if still running

  // The next line of the child's stdout without its newline; DEADLINE_EXCEEDED
  // after `timeout`, UNAVAILABLE at end of output.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Everything the child writes to stdout until it closes it (bounded by timeout).
  absl::StatusOr<std::string> ReadAll(absl::Duration timeout);
  // Sends `signal` and waits (bounded by 30 s, then SIGKILL) for the child to
  // exit; returns its wait status. Idempotent.
  int Kill(int signal);
  // Waits for the child to exit by itself; its exit code, or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  pid_t pid() const { return pid_; }

 private:
  Subprocess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_;
  int out_fd_;
  std::string buffer_;
  bool exited_ = false;
  int wait_status_ = 0;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_SUBPROCESS_H_
