#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace korb::testing {

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             const std::vector<std::string>& extra_env) {
  // Built before fork(): the child of a threaded process may only call
  // async-signal-safe functions, so it gets its arguments ready-made.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  auto overridden = [&](absl::string_view entry) {
    absl::string_view name = entry.substr(0, entry.find('='));
    for (const std::string& e : extra_env) {
      if (absl::string_view(e).substr(0, e.find('=')) == name) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env.push_back(*e);
  }
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const pid_t parent = getpid();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(strerror(errno));
  if (pid == 0) {
    // A test that crashes or is killed by ctest's timeout must not leave its
    // servers running (holding ports and CPU for the next tests).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(fds[1], STDOUT_FILENO);
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  close(fds[1]);
  return Subprocess(pid, fds[0]);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      buffer_(std::move(other.buffer_)),
      exited_(other.exited_),
      wait_status_(other.wait_status_) {
  other.pid_ = -1;
  other.out_fd_ = -1;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) Kill(SIGKILL);
  if (out_fd_ >= 0) close(out_fd_);
}

absl::StatusOr<std::string> Subprocess::ReadLine(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line from pid ", pid_, " within ", absl::FormatDuration(timeout)));
    }
    pollfd p{out_fd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return absl::InternalError(strerror(errno));
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = read(out_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno != EINTR) return absl::InternalError(strerror(errno));
    if (n == 0) return absl::UnavailableError(absl::StrCat("pid ", pid_, " closed its output"));
    if (n > 0) buffer_.append(chunk, n);
  }
}

absl::StatusOr<std::string> Subprocess::ReadAll(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::string all;
  for (;;) {
    absl::StatusOr<std::string> line = ReadLine(deadline - absl::Now());
    if (line.ok()) {
      absl::StrAppend(&all, *line, "\n");
    } else if (line.status().code() == absl::StatusCode::kUnavailable) {
      absl::StrAppend(&all, buffer_);
      buffer_.clear();
      return all;
    } else {
      return line.status();
    }
  }
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!exited_) {
    pid_t r = waitpid(pid_, &wait_status_, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      break;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " did not exit in time"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
}

int Subprocess::Kill(int signal) {
  if (pid_ <= 0) return -1;
  if (!exited_) {
    kill(pid_, signal);
    if (!Wait(absl::Seconds(30)).ok()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wait_status_, 0);
      exited_ = true;
    }
  }
  return wait_status_;
}

}  // namespace korb::testing
