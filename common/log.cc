#include "common/log.h"

#include <grpc/support/log.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "spdlog/logger.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/base_sink.h"

namespace korb {
namespace {

constexpr size_t kNumComponents = std::size(kLogComponents);
constexpr size_t kMaxSpecBytes = 1024;
constexpr const char* kGrpcComponent = "grpc";

// glog-like: "2026-12-03 17:50:01.123 W 4711 adapter object_adapter.cc:226] text".
constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %L %t %n %s:%#] %v";

// One sink for every component, writing to stderr, or to a buffer while a
// test's ScopedLogCapture is alive. base_sink serializes sink_it_ under
// mutex_, so lines from concurrent threads never interleave.
class KorbSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void SetCapture(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    capturing_ = on;
    captured_.clear();
  }
  std::string Captured() {
    std::lock_guard<std::mutex> lock(mutex_);
    return captured_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (capturing_) {
      captured_.append(line.data(), line.size());
    } else {
      std::fwrite(line.data(), 1, line.size(), stderr);
    }
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool capturing_ = false;  // guarded by mutex_ (base_sink's)
  std::string captured_;    // guarded by mutex_
};

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarning: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::off;
}

LogLevel FromSpd(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return LogLevel::kTrace;
    case spdlog::level::debug: return LogLevel::kDebug;
    case spdlog::level::info: return LogLevel::kInfo;
    case spdlog::level::warn: return LogLevel::kWarning;
    case spdlog::level::err:
    case spdlog::level::critical: return LogLevel::kError;
    default: return LogLevel::kOff;
  }
}

int ComponentIndex(absl::string_view component) {
  for (size_t i = 0; i < kNumComponents; ++i) {
    if (component == kLogComponents[i]) return static_cast<int>(i);
  }
  return -1;
}

absl::Status UnknownComponent(absl::string_view component) {
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log component '", absl::CHexEscape(component.substr(0, 64)),
                   "' (known: ", absl::StrJoin(kLogComponents, ", "), ", or * for all)"));
}

// gRPC filters by its own verbosity before calling our log function, so the
// "grpc" component's level must also lower (or raise) gRPC's threshold.
void SyncGrpcVerbosity(LogLevel level) {
  gpr_log_severity severity = GPR_LOG_SEVERITY_ERROR;
  if (level <= LogLevel::kDebug) {
    severity = GPR_LOG_SEVERITY_DEBUG;
  } else if (level == LogLevel::kInfo) {
    severity = GPR_LOG_SEVERITY_INFO;
  }
  gpr_set_log_verbosity(severity);
}

void RouteGrpcLog(gpr_log_func_args* args);

// The loggers: created once, never destroyed (gRPC's threads may still log
// during static destruction), never changed after construction except for
// their atomic levels, so reading them needs no lock.
class Registry {
 public:
  static Registry& Get() {
    static Registry* const registry = new Registry();
    return *registry;
  }

  spdlog::logger& Logger(size_t index) { return *loggers_[index]; }
  KorbSink& sink() { return *sink_; }

  void Set(size_t index, LogLevel level) {
    loggers_[index]->set_level(ToSpd(level));
    if (absl::string_view(kLogComponents[index]) == kGrpcComponent) SyncGrpcVerbosity(level);
  }
  LogLevel Level(size_t index) { return FromSpd(loggers_[index]->level()); }

 private:
  Registry() : sink_(std::make_shared<KorbSink>()) {
    sink_->set_formatter(std::make_unique<spdlog::pattern_formatter>(kPattern));
    // Not registered with spdlog's global registry: a user program's own
    // spdlog loggers and names stay theirs.
    for (size_t i = 0; i < kNumComponents; ++i) {
      loggers_[i] = std::make_shared<spdlog::logger>(kLogComponents[i], sink_);
      Set(i, LogLevel::kInfo);
    }
    Set(ComponentIndex(kGrpcComponent), GrpcVerbosityFromEnv());
    if (const char* spec = std::getenv("KORB_LOG"); spec != nullptr) {
      absl::Status applied = Apply(spec);
      if (!applied.ok()) {
        loggers_[0]->log(spdlog::level::warn, "ignoring KORB_LOG: {}", applied.ToString());
      }
    }
    gpr_set_log_function(&RouteGrpcLog);
  }

  static LogLevel GrpcVerbosityFromEnv() {
    const char* env = std::getenv("GRPC_VERBOSITY");
    if (env == nullptr) return LogLevel::kError;
    std::string v = absl::AsciiStrToLower(env);
    if (v == "debug") return LogLevel::kDebug;
    if (v == "info") return LogLevel::kInfo;
    if (v == "none") return LogLevel::kOff;
    return LogLevel::kError;
  }

 public:
  // ConfigureLogging's body, usable from the constructor.
  absl::Status Apply(absl::string_view spec) {
    if (spec.size() > kMaxSpecBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("log spec of ", spec.size(), " bytes, over the ", kMaxSpecBytes,
                       "-byte bound"));
    }
    std::vector<std::pair<int, LogLevel>> changes;  // index -1: every component
    for (absl::string_view item : absl::StrSplit(spec, ',')) {
      item = absl::StripAsciiWhitespace(item);
      if (item.empty()) continue;
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(item, absl::MaxSplits('=', 1));
      bool has_component = item.find('=') != absl::string_view::npos;
      absl::string_view level_name = has_component ? kv.second : kv.first;
      int index = -1;
      if (has_component) {
        absl::string_view component = absl::StripAsciiWhitespace(kv.first);
        if (component != "*") {
          index = ComponentIndex(component);
          if (index < 0) return UnknownComponent(component);
        }
      }
      absl::StatusOr<LogLevel> level = ParseLogLevel(absl::StripAsciiWhitespace(level_name));
      if (!level.ok()) return level.status();
      changes.emplace_back(index, *level);
    }
    for (const auto& [index, level] : changes) {
      if (index >= 0) {
        Set(index, level);
      } else {
        for (size_t i = 0; i < kNumComponents; ++i) Set(i, level);
      }
    }
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<KorbSink> sink_;
  std::array<std::shared_ptr<spdlog::logger>, kNumComponents> loggers_;
};

void RouteGrpcLog(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) {
    level = LogLevel::kDebug;
  } else if (args->severity == GPR_LOG_SEVERITY_INFO) {
    level = LogLevel::kInfo;
  }
  internal::WriteLog(level, kGrpcComponent, args->file, args->line,
                     args->message == nullptr ? "" : args->message);
}

// gRPC logs from its own threads from the first call on; routing must be in
// place before main() starts them, not on Korb's first log line.
[[maybe_unused]] const bool kInstalled = (Registry::Get(), true);

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name.substr(0, 16));
  if (name.size() <= 16) {
    if (lower == "trace") return LogLevel::kTrace;
    if (lower == "debug") return LogLevel::kDebug;
    if (lower == "info") return LogLevel::kInfo;
    if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
    if (lower == "error") return LogLevel::kError;
    if (lower == "off") return LogLevel::kOff;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level '", absl::CHexEscape(name.substr(0, 64)),
                   "' (known: trace, debug, info, warning, error, off)"));
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "off";
}

absl::Status SetLogLevel(absl::string_view component, LogLevel level) {
  Registry& registry = Registry::Get();
  if (component == "*") {
    for (size_t i = 0; i < kNumComponents; ++i) registry.Set(i, level);
    return absl::OkStatus();
  }
  int index = ComponentIndex(component);
  if (index < 0) return UnknownComponent(component);
  registry.Set(index, level);
  return absl::OkStatus();
}

absl::StatusOr<LogLevel> GetLogLevel(absl::string_view component) {
  int index = ComponentIndex(component);
  if (index < 0) return UnknownComponent(component);
  return Registry::Get().Level(index);
}

std::vector<ComponentLevel> LogLevels() {
  std::vector<ComponentLevel> levels;
  for (size_t i = 0; i < kNumComponents; ++i) {
    levels.push_back({kLogComponents[i], Registry::Get().Level(i)});
  }
  return levels;
}

absl::Status ConfigureLogging(absl::string_view spec) { return Registry::Get().Apply(spec); }

absl::Status ApplyLogFlag(absl::string_view arg, bool* consumed) {
  *consumed = absl::ConsumePrefix(&arg, "--korb_log=");
  if (!*consumed) return absl::OkStatus();
  return ConfigureLogging(arg);
}

namespace internal {

bool LogEnabled(LogLevel level, absl::string_view component) {
  int index = ComponentIndex(component);
  return Registry::Get().Logger(index < 0 ? 0 : index).should_log(ToSpd(level));
}

void WriteLog(LogLevel level, absl::string_view component, const char* file, int line,
              absl::string_view message) {
  int index = ComponentIndex(component);
  spdlog::logger& logger = Registry::Get().Logger(index < 0 ? 0 : index);
  logger.log(spdlog::source_loc{file, line, ""}, ToSpd(level), "{}",
             fmt::string_view(message.data(), message.size()));
}

ScopedLogCapture::ScopedLogCapture() : saved_(LogLevels()) {
  Registry::Get().sink().SetCapture(true);
}

ScopedLogCapture::~ScopedLogCapture() {
  Registry::Get().sink().SetCapture(false);
  for (const ComponentLevel& saved : saved_) {
    SetLogLevel(saved.component, saved.level).IgnoreError();
  }
}

std::string ScopedLogCapture::Text() const { return Registry::Get().sink().Captured(); }

}  // namespace internal
}  // namespace korb
