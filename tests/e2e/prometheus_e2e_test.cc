// The /metrics listener between processes: prometheus_server serves an echo
// adapter; this test calls it, scrapes /metrics over TCP, checks the numbers
// and has Prometheus' own `promtool check metrics` validate the page.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapter/metrics_http.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::Subprocess;
using ::testing::HasSubstr;

constexpr absl::Duration kStartTimeout = absl::Seconds(60);

// "http://127.0.0.1:4711/metrics" -> {"127.0.0.1", 4711}.
std::pair<std::string, int> HostPortOf(absl::string_view url) {
  absl::ConsumePrefix(&url, "http://");
  absl::ConsumeSuffix(&url, "/metrics");
  const size_t colon = url.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(url.substr(colon + 1), &port)) {
    return {"", 0};
  }
  return {std::string(url.substr(0, colon)), port};
}

// GET path; status and body, or status -1 when the request failed.
std::pair<int, std::string> Get(const std::string& url, const std::string& path,
                                const httplib::Headers& headers = {}) {
  auto [host, port] = HostPortOf(url);
  httplib::Client http(host, port);
  http.set_connection_timeout(30);
  http.set_read_timeout(30);
  httplib::Result result = http.Get(path.c_str(), headers);
  if (!result) return {-1, httplib::to_string(result.error())};
  return {result->status, result->body};
}

// Runs promtool on `page`: its exit code (-1 if it could not run) and output.
std::pair<int, std::string> Promtool(const std::string& page) {
  const std::string dir = ::testing::TempDir();
  const std::string in = absl::StrCat(dir, "/metrics.txt");
  const std::string out = absl::StrCat(dir, "/promtool.out");
  std::ofstream(in) << page;
  const int rc = std::system(
      absl::StrCat("promtool check metrics < '", in, "' > '", out, "' 2>&1").c_str());
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  return {rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc), text.str()};
}

bool HavePromtool() { return std::system("command -v promtool > /dev/null 2>&1") == 0; }

// Calls and errors show up labelled by adapter; the page passes promtool;
// an odd adapter name is escaped into a valid label value.
TEST(PrometheusEndToEnd, ScrapedPageCountsCallsAndPassesPromtool) {
  absl::StatusOr<Subprocess> server = Subprocess::Start({KORB_PROMETHEUS_SERVER});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<std::string> ref = server->ReadLine(kStartTimeout);
  ASSERT_THAT(ref, IsOk()) << "prometheus_server printed no reference";
  absl::StatusOr<std::string> url = server->ReadLine(kStartTimeout);
  ASSERT_THAT(url, IsOk()) << "prometheus_server printed no /metrics URL";

  {
    Client client;
    absl::StatusOr<korbtest::EchoStub> stub = MakeStub<korbtest::EchoStub>(client, *ref);
    ASSERT_THAT(stub, IsOk());
    korbtest::EchoRequest request;
    for (int i = 0; i < 5; ++i) {
      request.set_text("hello");
      ASSERT_THAT(stub->Echo(request, {.timeout = absl::Seconds(30)}), IsOk());
    }
    request.set_text("fail");
    EXPECT_THAT(stub->Echo(request, {.timeout = absl::Seconds(30)}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }

  auto [status, page] = Get(*url, "/metrics");
  ASSERT_EQ(status, 200) << page;
  EXPECT_THAT(page, HasSubstr("# TYPE korb_adapter_calls_total counter\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_calls_total{adapter=\"echo\"} 6\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_errors_total{adapter=\"echo\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_call_latency_seconds_count{adapter=\"echo\"} 6\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_active_objects{adapter=\"echo\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_state{adapter=\"echo\",state=\"active\"} 1\n"));
  EXPECT_THAT(page, HasSubstr("korb_adapter_calls_total{adapter=\"odd \\\"name\\\"\\\\\\n%25%C3%A9\"} 0\n"));

  if (!HavePromtool()) {
    GTEST_SKIP() << "promtool not found (Debian package `prometheus`, installed by "
                    "scripts/install-deps.sh): the page was not validated";
  }
  auto [rc, lint] = Promtool(page);
  EXPECT_EQ(rc, 0) << "promtool check metrics failed:\n" << lint << "\npage:\n" << page;
  // promtool must be able to fail: a counter without _total is a lint problem.
  auto [bad_rc, bad_lint] = Promtool("# HELP x_count_ a.\n# TYPE x_count_ counter\nx_count_ 1\n");
  EXPECT_NE(bad_rc, 0) << bad_lint;

  EXPECT_EQ(server->Kill(SIGTERM), 0) << "prometheus_server did not exit cleanly on SIGTERM";
}

// Only GET /metrics is served; oversized requests are refused, and the
// listener keeps serving afterwards.
TEST(PrometheusEndToEnd, RefusesOtherPathsAndOversizedRequests) {
  absl::StatusOr<Subprocess> server = Subprocess::Start({KORB_PROMETHEUS_SERVER});
  ASSERT_THAT(server, IsOk());
  ASSERT_THAT(server->ReadLine(kStartTimeout), IsOk());
  absl::StatusOr<std::string> url = server->ReadLine(kStartTimeout);
  ASSERT_THAT(url, IsOk());

  EXPECT_EQ(Get(*url, "/").first, 404);
  EXPECT_EQ(Get(*url, "/metrics/../admin").first, 404);
  EXPECT_EQ(Get(*url, "/" + std::string(20000, 'a')).first, 414);
  const int huge_header = Get(*url, "/metrics", {{"X-Big", std::string(20000, 'b')}}).first;
  EXPECT_TRUE(huge_header == 400 || huge_header == 431 || huge_header == -1) << huge_header;
  {
    auto [host, port] = HostPortOf(*url);
    httplib::Client http(host, port);
    http.set_read_timeout(30);
    httplib::Result posted = http.Post("/metrics", std::string(100000, 'c'), "text/plain");
    ASSERT_TRUE(posted) << httplib::to_string(posted.error());
    EXPECT_EQ(posted->status, 413);
  }
  EXPECT_EQ(Get(*url, "/metrics").first, 200);
  EXPECT_EQ(server->Kill(SIGTERM), 0);
}

// Options out of range and a taken port are clear errors, not a listener.
TEST(MetricsHttpServer, RejectsBadOptionsAndTakenPorts) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  EXPECT_THAT(MetricsHttpServer::Start(nullptr, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MetricsHttpServer::Start(server->get(), {.threads = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MetricsHttpServer::Start(server->get(), {.threads = 1000}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MetricsHttpServer::Start(server->get(), {.port = 70000}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::Start(server->get(), {});
  ASSERT_THAT(first, IsOk());
  EXPECT_GT((*first)->port(), 0);
  EXPECT_THAT(MetricsHttpServer::Start(server->get(), {.port = (*first)->port()}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  (*first)->Stop();
  (*first)->Stop();  // idempotent
}

}  // namespace
}  // namespace korb
