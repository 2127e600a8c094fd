// Korb's logging seam: leveled, per-component log lines for the library, set
// by environment, flag and at run time, with gRPC's own log routed in.
//
// Every line the library writes goes through KORB_LOG; the sink behind it is
// spdlog (Debian's libspdlog-dev), which gives one logger per component, each
// with an atomic level, so changing a level at run time needs no lock on the
// logging path. Nothing of spdlog shows in this header: callers, the admin
// object and user programs see only this API (docs/operations.md, "Logging").
//
// Components are a fixed set (kLogComponents): "korb" (common/), "adapter",
// "dispatch" (skeletons/), "client", "naming", "store" (state stores) and
// "grpc" (gRPC's own log, through gpr_set_log_function). A fixed set keeps a
// hostile admin client from growing a map of loggers; an unknown name is an
// INVALID_ARGUMENT that lists the known ones.
//
// Initial levels: "info" for Korb's components and, for "grpc", gRPC's own
// GRPC_VERBOSITY (default "error"); then the environment variable KORB_LOG
// applies a spec like "warning,adapter=debug,grpc=info" (a bare level sets
// every component). A malformed KORB_LOG is reported once on stderr and
// ignored as a whole. Programs may pass a --korb_log=<spec> flag to
// ConfigureLogging (ApplyLogFlag does the flag parsing).
//
// Thread-safety: thread-safe. Levels may change while other threads log.
//
// Usage:
//   KORB_LOG(kWarning, "adapter") << "adapter '" << name << "': write-back failed";
//   absl::Status s = korb::SetLogLevel("adapter", korb::LogLevel::kDebug);
//   absl::StatusOr<korb::LogLevel> l = korb::GetLogLevel("client");
//   absl::Status c = korb::ConfigureLogging("info,naming=trace");
#ifndef KORB_COMMON_LOG_H_
#define KORB_COMMON_LOG_H_

#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace korb {

// Ordered: a logger at level L writes lines of level >= L; kOff writes none.
enum class LogLevel { kTrace, kDebug, kInfo, kWarning, kError, kOff };

// The components, in the order LogLevels() reports them.
inline constexpr const char* kLogComponents[] = {"korb",   "adapter", "dispatch", "client",
                                                 "naming", "store",   "grpc"};

// "trace", "debug", "info", "warning" (or "warn"), "error", "off";
// case-insensitive. Anything else is INVALID_ARGUMENT.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
// The canonical lower-case name ("warning").
const char* LogLevelName(LogLevel level);

// Sets one component's level, or every component's with component "*".
// Unknown component: INVALID_ARGUMENT, nothing changes.
absl::Status SetLogLevel(absl::string_view component, LogLevel level);
// The component's current level; unknown component: INVALID_ARGUMENT.
absl::StatusOr<LogLevel> GetLogLevel(absl::string_view component);

struct ComponentLevel {
  std::string component;
  LogLevel level;
};
// Every component with its current level, in kLogComponents order.
std::vector<ComponentLevel> LogLevels();

// Applies a spec: comma-separated items, each "<level>" (every component) or
// "<component>=<level>", applied left to right; spaces around items are
// ignored, empty items skipped. Bounded: a spec over 1024 bytes is rejected.
// All or nothing: on any bad item, INVALID_ARGUMENT naming it, nothing changes.
absl::Status ConfigureLogging(absl::string_view spec);

// If `arg` is "--korb_log=<spec>", applies the spec and returns true through
// `*consumed` (status reports a bad spec); otherwise leaves `*consumed` false.
absl::Status ApplyLogFlag(absl::string_view arg, bool* consumed);

namespace internal {

// True when a line of `level` for `component` would be written. An unknown
// component is treated as "korb".
bool LogEnabled(LogLevel level, absl::string_view component);

// Writes one line; see KORB_LOG.
void WriteLog(LogLevel level, absl::string_view component, const char* file, int line,
              absl::string_view message);

// Collects a KORB_LOG statement's message and writes it when destroyed.
class LogMessage {
 public:
  LogMessage(LogLevel level, absl::string_view component, const char* file, int line)
      : level_(level), component_(component), file_(file), line_(line) {}
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage() { WriteLog(level_, component_, file_, line_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  absl::string_view component_;  // borrowed: a literal at every KORB_LOG
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// For tests: while alive, every component's lines go to an in-memory buffer,
// formatted as on stderr, instead of stderr. One at a
// time; levels are saved on construction and restored on destruction.
class ScopedLogCapture {
 public:
  ScopedLogCapture();
  ScopedLogCapture(const ScopedLogCapture&) = delete;
  ScopedLogCapture& operator=(const ScopedLogCapture&) = delete;
  ~ScopedLogCapture();
  // Everything captured so far.
  std::string Text() const;

 private:
  std::vector<ComponentLevel> saved_;
};

}  // namespace internal
}  // namespace korb

// KORB_LOG(kWarning, "adapter") << ...; the message is not even formatted
// when the component's level filters it out.
#define KORB_LOG(level, component)                                         \
  if (!::korb::internal::LogEnabled(::korb::LogLevel::level, component)) { \
  } else                                                                   \
    ::korb::internal::LogMessage(::korb::LogLevel::level, component, __FILE__, __LINE__).stream()

#endif  // KORB_COMMON_LOG_H_
