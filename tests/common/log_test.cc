#include "common/log.h"

#include <grpc/support/log.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Levels as "component=level,..." for compact comparisons.
std::string Levels() {
  std::string out;
  for (const ComponentLevel& c : LogLevels()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", c.component, "=", LogLevelName(c.level));
  }
  return out;
}

// Every valid level name parses, in any case; the canonical name round-trips.
TEST(Log, ParsesLevelNames) {
  for (LogLevel level : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                         LogLevel::kError, LogLevel::kOff}) {
    EXPECT_EQ(*ParseLogLevel(LogLevelName(level)), level);
  }
  EXPECT_EQ(*ParseLogLevel("WARN"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogLevel("Debug"), LogLevel::kDebug);
}

// Hostile level names are INVALID_ARGUMENT, quoted escaped and truncated.
TEST(Log, RejectsMalformedLevelNames) {
  for (std::string bad : {std::string(""), std::string("inf0"), std::string("info "),
                          std::string("info\0x", 6), std::string(100000, 'd'),
                          std::string("debugdebugdebugdebug"), std::string("\xff\xfe")}) {
    absl::StatusOr<LogLevel> level = ParseLogLevel(bad);
    EXPECT_THAT(level.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad.size();
    EXPECT_LT(level.status().message().size(), 400u);
  }
}

// Per-component levels are independent; "*" sets all; unknown names change nothing.
TEST(Log, SetsAndGetsPerComponentLevels) {
  internal::ScopedLogCapture capture;  // restores the levels afterwards
  ASSERT_THAT(SetLogLevel("*", LogLevel::kWarning), IsOk());
  ASSERT_THAT(SetLogLevel("adapter", LogLevel::kDebug), IsOk());
  EXPECT_EQ(*GetLogLevel("adapter"), LogLevel::kDebug);
  EXPECT_EQ(*GetLogLevel("client"), LogLevel::kWarning);
  const std::string before = Levels();
  EXPECT_THAT(SetLogLevel("nosuch", LogLevel::kTrace),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("adapter")));
  EXPECT_THAT(SetLogLevel("", LogLevel::kTrace), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(GetLogLevel(std::string(1 << 20, 'x')).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Levels(), before);
}

// A component's level filters its own lines only, and a filtered line's
// message is never evaluated.
TEST(Log, FiltersPerComponent) {
  internal::ScopedLogCapture capture;
  ASSERT_THAT(ConfigureLogging("warning,adapter=debug"), IsOk());
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  KORB_LOG(kDebug, "adapter") << "adapter-debug " << count();
  KORB_LOG(kInfo, "client") << "client-info " << count();
  KORB_LOG(kWarning, "client") << "client-warning";
  KORB_LOG(kTrace, "adapter") << "adapter-trace " << count();
  const std::string text = capture.Text();
  EXPECT_THAT(text, HasSubstr("adapter-debug 1"));
  EXPECT_THAT(text, HasSubstr("client-warning"));
  EXPECT_THAT(text, HasSubstr(" adapter "));  // the component is on the line
  EXPECT_THAT(text, Not(HasSubstr("client-info")));
  EXPECT_THAT(text, Not(HasSubstr("adapter-trace")));
  EXPECT_EQ(evaluated, 1);
}

// Specs apply left to right; malformed ones are rejected whole, naming the bad part.
TEST(Log, ConfigureLoggingIsAllOrNothing) {
  internal::ScopedLogCapture capture;
  ASSERT_THAT(ConfigureLogging(" info , naming=trace,,grpc=error, "), IsOk());
  EXPECT_EQ(*GetLogLevel("naming"), LogLevel::kTrace);
  EXPECT_EQ(*GetLogLevel("store"), LogLevel::kInfo);
  ASSERT_THAT(ConfigureLogging("*=error,client=debug"), IsOk());
  EXPECT_EQ(*GetLogLevel("client"), LogLevel::kDebug);
  EXPECT_EQ(*GetLogLevel("adapter"), LogLevel::kError);
  ASSERT_THAT(ConfigureLogging(""), IsOk());
  const std::string before = Levels();
  for (std::string bad :
       {std::string("debug,adapter=bogus"), std::string("nosuch=info"), std::string("="),
        std::string("adapter="), std::string("adapter==debug"), std::string("=debug"),
        std::string("debug,\xff=info"), std::string("adapter=debug\0,x", 15),
        std::string(2000, ','), absl::StrCat("debug,", std::string(5000, 'a'), "=info")}) {
    EXPECT_THAT(ConfigureLogging(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad.substr(0, 40);
    EXPECT_EQ(Levels(), before) << bad.substr(0, 40);
  }
  bool consumed = false;
  EXPECT_THAT(ApplyLogFlag("--korb_log=adapter=trace", &consumed), IsOk());
  EXPECT_TRUE(consumed);
  EXPECT_EQ(*GetLogLevel("adapter"), LogLevel::kTrace);
  EXPECT_THAT(ApplyLogFlag("--korb_log=adapter=loud", &consumed),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplyLogFlag("--listen=1", &consumed), IsOk());
  EXPECT_FALSE(consumed);
}

// gRPC's own log lines arrive under "grpc", filtered by that component's
// level, which also moves gRPC's own threshold.
TEST(Log, RoutesGrpcLog) {
  internal::ScopedLogCapture capture;
  ASSERT_THAT(SetLogLevel("grpc", LogLevel::kError), IsOk());
  gpr_log(GPR_INFO, "grpc-info-hidden %d", 1);
  gpr_log(GPR_ERROR, "grpc-error-shown %d", 2);
  ASSERT_THAT(SetLogLevel("grpc", LogLevel::kDebug), IsOk());
  EXPECT_TRUE(gpr_should_log(GPR_LOG_SEVERITY_DEBUG));
  gpr_log(GPR_DEBUG, "grpc-debug-shown %d", 3);
  ASSERT_THAT(SetLogLevel("grpc", LogLevel::kOff), IsOk());
  gpr_log(GPR_ERROR, "grpc-off-hidden %d", 4);
  const std::string text = capture.Text();
  EXPECT_THAT(text, HasSubstr("grpc-error-shown 2"));
  EXPECT_THAT(text, HasSubstr("grpc-debug-shown 3"));
  EXPECT_THAT(text, HasSubstr(" grpc log_test.cc:"));  // component and gRPC's file:line
  EXPECT_THAT(text, Not(HasSubstr("grpc-info-hidden")));
  EXPECT_THAT(text, Not(HasSubstr("grpc-off-hidden")));
}

// Runs only as the child of EnvironmentSetsInitialLevels: prints its levels.
TEST(LogEnvChild, PrintLevels) {
  if (std::getenv("KORB_LOG_TEST_CHILD") == nullptr) GTEST_SKIP() << "child of another test";
  std::printf("%s\n", Levels().c_str());
  std::fflush(stdout);
}

std::string ChildLevels(const char* korb_log, const char* grpc_verbosity) {
  setenv("KORB_LOG_TEST_CHILD", "1", 1);
  if (korb_log != nullptr) setenv("KORB_LOG", korb_log, 1);
  if (grpc_verbosity != nullptr) setenv("GRPC_VERBOSITY", grpc_verbosity, 1);
  absl::StatusOr<testing::Subprocess> child = testing::Subprocess::Start(
      {"/proc/self/exe", "--gtest_filter=LogEnvChild.PrintLevels"});
  unsetenv("KORB_LOG_TEST_CHILD");
  unsetenv("KORB_LOG");
  unsetenv("GRPC_VERBOSITY");
  if (!child.ok()) return child.status().ToString();
  absl::StatusOr<std::string> out = child->ReadAll(absl::Seconds(60));
  if (!out.ok()) return out.status().ToString();
  size_t at = out->find("korb=");
  return at == std::string::npos ? *out : out->substr(at, out->find('\n', at) - at);
}

// KORB_LOG and GRPC_VERBOSITY set a new process's initial levels; a malformed
// KORB_LOG is ignored as a whole.
TEST(Log, EnvironmentSetsInitialLevels) {
  EXPECT_EQ(ChildLevels(nullptr, nullptr),
            "korb=info,adapter=info,dispatch=info,client=info,naming=info,store=info,grpc=error");
  EXPECT_EQ(ChildLevels("warning,adapter=debug", "INFO"),
            "korb=warning,adapter=debug,dispatch=warning,client=warning,naming=warning,"
            "store=warning,grpc=warning");
  EXPECT_EQ(ChildLevels("client=trace", "debug"),
            "korb=info,adapter=info,dispatch=info,client=trace,naming=info,store=info,grpc=debug");
  EXPECT_EQ(ChildLevels("debug,adapter=\x01\x02", nullptr),
            "korb=info,adapter=info,dispatch=info,client=info,naming=info,store=info,grpc=error");
}

}  // namespace
}  // namespace korb
