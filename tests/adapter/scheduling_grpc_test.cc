// Scheduling that depends on gRPC connections, so over real gRPC (the rest
// of the scheduling tests run in memory, scheduling_test.cc).
#include <memory>

#include "adapter/object_adapter.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::GatedEcho;
using ::korb::testing::IsOk;

class SchedulingOverGrpcTest : public testing::ServerFixture {};

// Thread-per-connection over real gRPC: two Clients of one process share a
// connection by default, so their calls to one object run one at a time;
// with ClientOptions::private_connections they run in parallel.
TEST_F(SchedulingOverGrpcTest, ThreadPerConnectionTellsPrivateClientsApart) {
  StartServer({.threading = ThreadingOptions::ThreadPerConnection()});
  auto servant = std::make_shared<GatedEcho>();
  absl::StatusOr<Ref> ref = adapter_->Activate("o", servant);
  ASSERT_THAT(ref, IsOk());
  {
    // Over gRPC, never collocated: connections are what this test is about.
    Client first({.collocated_calls = false}), second({.collocated_calls = false});
    korbtest::EchoStub a(first, *ref), b(second, *ref);
    Future<korbtest::EchoReply> fa = a.EchoAsync(Text("block-a"));
    ASSERT_TRUE(servant->AwaitRunning(1));
    Future<korbtest::EchoReply> fb = b.EchoAsync(Text("block-b"));
    ASSERT_TRUE(AwaitQueued(1)) << "the shared connection did not serialize the two clients";
    servant->Release();
    WaitAll(fa, fb);
    EXPECT_THAT(fa.Get(), IsOk());
    EXPECT_THAT(fb.Get(), IsOk());
  }
  auto fresh = std::make_shared<GatedEcho>();
  ref = adapter_->Activate("p", fresh);
  ASSERT_THAT(ref, IsOk());
  ClientOptions private_options;
  private_options.private_connections = true;
  private_options.collocated_calls = false;
  Client first(private_options), second(private_options);
  korbtest::EchoStub a(first, *ref), b(second, *ref);
  Future<korbtest::EchoReply> fa = a.EchoAsync(Text("block-a"));
  Future<korbtest::EchoReply> fb = b.EchoAsync(Text("block-b"));
  EXPECT_TRUE(fresh->AwaitRunning(2)) << "private connections were not served in parallel";
  fresh->Release();
  WaitAll(fa, fb);
  EXPECT_THAT(fa.Get(), IsOk());
  EXPECT_THAT(fb.Get(), IsOk());
}

}  // namespace
}  // namespace korb
