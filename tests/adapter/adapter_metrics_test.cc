// An adapter's metrics over the in-memory transport (no gRPC, so under TSan too): calls, errors and refusals counted
// as clients see them.
#include <memory>

#include "adapter/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;

class AdapterMetricsTest : public testing::InMemoryFixture {};

// Calls, errors, latency count, active objects and threads of real calls.
TEST_F(AdapterMetricsTest, CountsCalls) {
  StartServer({.threading = ThreadingOptions::SharedPool(3)});
  testing::InMemoryEchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  for (int i = 0; i < 5; ++i) ASSERT_THAT(stub.Echo(Text("x")), IsOk());
  korbtest::EchoRequest failing = Text("no");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(stub.Echo(failing).ok());
  AdapterMetrics m = adapter_->Metrics();
  EXPECT_EQ(m.calls, 6u);
  EXPECT_EQ(m.errors, 1u);
  EXPECT_EQ(m.latency.count(), 6u);
  EXPECT_EQ(m.active_objects, 1u);
  EXPECT_EQ(m.policy.threads, 3);
  EXPECT_EQ(m.policy.queued, 0u);
  EXPECT_GE(m.tlp, 1.0);  // calls ran one at a time at least
  adapter_->ResetMetrics();
  EXPECT_EQ(adapter_->Metrics().calls, 0u);
}

// Calls answered for an object that does not exist count as errors.
TEST_F(AdapterMetricsTest, CountsRefusedCalls) {
  StartServer({});
  testing::InMemoryEchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  ASSERT_THAT(adapter_->Deactivate("o"), IsOk());
  EXPECT_FALSE(stub.Echo(Text("x")).ok());
  AdapterMetrics m = adapter_->Metrics();
  EXPECT_EQ(m.calls, 1u);
  EXPECT_EQ(m.errors, 1u);
  EXPECT_EQ(m.active_objects, 0u);
}

}  // namespace
}  // namespace korb
