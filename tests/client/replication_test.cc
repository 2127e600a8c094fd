// Active replication against three in-process ObjectServers hosting one
// replica each: read-one-write-all routing, invoke-all completion (first,
// majority, all) with replicas that answer differently or not at all, and a
// write's legs running on after the call has completed.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "client/client.h"
#include "client/stub_base.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbclient/register.korb.h"
#include "tests/client/register_servant.h"
#include "tests/client/transports.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::Eventually;
using ::korb::testing::IsOk;
using ::korb::testing::OpText;
using ::korb::testing::ReplicaSet;
using ::korb::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ReplicationTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { ASSERT_THAT(replicas_.Start(3), IsOk()); }

  korbclient::RegisterStub Active(Completion completion) {
    korbclient::RegisterStub stub(client_, replicas_.ref());
    stub.korb_set_replication(Replication::kActive, completion);
    return stub;
  }
  std::vector<int> Puts() const {
    std::vector<int> puts;
    for (int i = 0; i < replicas_.size(); ++i) puts.push_back(replicas_.servant(i).puts.load());
    return puts;
  }
  std::vector<int> Gets() const {
    std::vector<int> gets;
    for (int i = 0; i < replicas_.size(); ++i) gets.push_back(replicas_.servant(i).gets.load());
    return gets;
  }
  std::string Endpoint(int i) const { return replicas_.endpoint(i).ToString(); }

  ReplicaSet replicas_;
  Client client_{testing::Transport(GetParam(), {.selection = SelectionPolicy::kRoundRobin})};
};

// Writes go to every replica; readonly calls to one, chosen by the
// selection policy (round robin here).
TEST_P(ReplicationTest, ReadOneWriteAll) {
  korbclient::RegisterStub stub = Active(Completion::kAll);
  EXPECT_EQ(stub.korb_replication(), Replication::kActive);
  EXPECT_EQ(stub.korb_completion(), Completion::kAll);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<korbclient::Result> put = stub.Put(OpText(std::to_string(i)));
    ASSERT_THAT(put, IsOk());
    EXPECT_EQ(put->text(), std::to_string(i));
  }
  EXPECT_THAT(Puts(), ElementsAre(10, 10, 10));
  for (int i = 0; i < 9; ++i) {
    absl::StatusOr<korbclient::Result> get = stub.Get(OpText(""));
    ASSERT_THAT(get, IsOk());
    EXPECT_EQ(get->text(), "9");
  }
  EXPECT_THAT(Gets(), ElementsAre(3, 3, 3));
}

// Without active replication a write goes to one replica only.
TEST_P(ReplicationTest, NoReplicationWritesOne) {
  korbclient::RegisterStub stub(client_, replicas_.ref());
  for (int i = 0; i < 9; ++i) ASSERT_THAT(stub.Put(OpText("x")), IsOk());
  EXPECT_THAT(Puts(), ElementsAre(3, 3, 3));
}

// kAll: a replica answering differently is reported, naming who said what.
TEST_P(ReplicationTest, AllReportsDisagreement) {
  replicas_.servant(2).SetSkew("!");
  korbclient::RegisterStub stub = Active(Completion::kAll);
  EXPECT_THAT(stub.Put(OpText("v")),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("replicas disagree"),
                             HasSubstr(Endpoint(0) + ", " + Endpoint(1) + " answered"),
                             HasSubstr(Endpoint(2) + " answered"))));
}

// kAll: a replica that does not answer fails the call with its error,
// naming it; the others did execute the write.
TEST_P(ReplicationTest, AllReportsMissingReplica) {
  replicas_.server(1).Shutdown();
  korbclient::RegisterStub stub = Active(Completion::kAll);
  EXPECT_THAT(stub.Put(OpText("v"), {.timeout = absl::Seconds(30)}),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("1 of 3 replicas did not answer"), HasSubstr(Endpoint(1)),
                             HasSubstr("answered alike"))));
  EXPECT_EQ(replicas_.servant(0).value(), "v");
  EXPECT_EQ(replicas_.servant(2).value(), "v");
}

// kMajority: the value a strict majority agrees on wins; one replica down
// does not matter; no majority is an error.
TEST_P(ReplicationTest, MajorityVotes) {
  korbclient::RegisterStub stub = Active(Completion::kMajority);
  replicas_.servant(2).SetSkew("!");
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->text(), "v");

  replicas_.servant(1).SetSkew("?");
  EXPECT_THAT(stub.Put(OpText("w")),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("replicas disagree")));
}

TEST_P(ReplicationTest, MajorityToleratesOneReplicaDown) {
  replicas_.server(0).Shutdown();
  korbclient::RegisterStub stub = Active(Completion::kMajority);
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"), {.timeout = absl::Seconds(30)});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->text(), "v");
  replicas_.server(1).Shutdown();
  EXPECT_THAT(stub.Put(OpText("w"), {.timeout = absl::Seconds(30)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("2 of 3 replicas did not answer")));
}

// kFirst: the first success completes the call; the slow replica's leg runs
// on and executes the write afterwards.
TEST_P(ReplicationTest, FirstDoesNotWaitForSlowReplica) {
  replicas_.servant(0).delay_ms = 3000;
  korbclient::RegisterStub stub = Active(Completion::kFirst);
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->text(), "v");
  EXPECT_EQ(replicas_.servant(0).value(), "") << "the call waited for the slow replica";
  EXPECT_TRUE(Eventually([&] { return replicas_.servant(0).value() == "v"; }))
      << "the slow replica's leg did not run to its end";
}

// kFirst survives all but one replica being down.
TEST_P(ReplicationTest, FirstNeedsOneReplica) {
  replicas_.server(0).Shutdown();
  replicas_.server(2).Shutdown();
  korbclient::RegisterStub stub = Active(Completion::kFirst);
  EXPECT_THAT(stub.Put(OpText("v"), {.timeout = absl::Seconds(30)}), IsOk());
  for (int i = 1; i < 3; ++i) replicas_.server(i).Shutdown();
  EXPECT_THAT(stub.Put(OpText("v"), {.timeout = absl::Seconds(30)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("3 of 3 replicas did not answer")));
}

// Every replica sees the same korb-request-id for one replicated write.
TEST_P(ReplicationTest, ReplicasShareTheRequestId) {
  korbclient::RegisterStub stub = Active(Completion::kAll);
  absl::StatusOr<korbclient::Result> result = stub.Append(OpText("a"));
  ASSERT_THAT(result, IsOk());
  ASSERT_FALSE(result->request_id().empty());
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(replicas_.servant(i).request_ids(), ElementsAre(result->request_id()));
  }
}

TEST_P(ReplicationTest, AsyncReplicatedCalls) {
  korbclient::RegisterStub stub = Active(Completion::kMajority);
  std::vector<Future<korbclient::Result>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(stub.PutAsync(OpText("x")));
  for (const auto& future : futures) {
    ASSERT_TRUE(future.WaitFor(absl::Seconds(30))) << "call never completed";
    EXPECT_THAT(future.Get(), IsOk());
  }
  ASSERT_TRUE(Eventually([&] { return Puts() == std::vector<int>{20, 20, 20}; }))
      << "not every leg ran";
}

// A reference with one endpoint is not replicated: the call is plain.
TEST_P(ReplicationTest, SingleEndpointIsPlain) {
  korbclient::RegisterStub stub(client_, replicas_.ref(1));
  stub.korb_set_replication(Replication::kActive, Completion::kAll);
  EXPECT_THAT(stub.Put(OpText("v")), IsOk());
  EXPECT_THAT(Puts(), ElementsAre(0, 1, 0));
}

INSTANTIATE_TEST_SUITE_P(Transports, ReplicationTest, ::testing::Bool(), testing::TransportName);

}  // namespace
}  // namespace korb
