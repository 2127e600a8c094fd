// peerbench::ChildProcess: a server or client process of the peer benchmark,
// started by the driver with its stdin and stdout on pipes, talked to one
// line at a time with a deadline, and stopped by its PID.
//
// Thread-compatible.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<ChildProcess>> server =
//       ChildProcess::Start({path, "--mode", "callback"});
//   absl::StatusOr<std::string> target = (*server)->ReadLine(absl::Seconds(30));
//   (*server)->Stop();   // SIGTERM, then SIGKILL if it has not exited in 5 s
#ifndef KORB_BENCH_PEERS_CHILD_PROCESS_H_
#define KORB_BENCH_PEERS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace korb::bench::peers {

class ChildProcess {
 public:
  // Runs argv[0] with `argv`; stderr stays the driver's, so a child's
  // complaints reach the person running the benchmark.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv);
  ~ChildProcess();  // Stop()

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of the child's stdout, without its newline.
  // DEADLINE_EXCEEDED after `timeout`; UNAVAILABLE if the child closed its
  // stdout (exited); RESOURCE_EXHAUSTED past 64 KiB without a newline.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Writes `line` and a newline to the child's stdin.
  absl::Status WriteLine(const std::string& line);
  // Closes the child's stdin, sends SIGTERM and waits up to 5 s for it to
  // exit, then SIGKILL. Idempotent.
  void Stop();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

 private:
  ChildProcess(pid_t pid, int in_fd, int out_fd, std::string name)
      : pid_(pid), in_fd_(in_fd), out_fd_(out_fd), name_(std::move(name)) {}

  pid_t pid_;
  int in_fd_;
  int out_fd_;
  std::string name_;
  std::string buffer_;
};

}  // namespace korb::bench::peers

#endif  // KORB_BENCH_PEERS_CHILD_PROCESS_H_
