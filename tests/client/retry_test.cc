// Retries against in-process ObjectServers: which calls are retried, the
// korb-request-id that makes retrying non-idempotent calls safe (present,
// stable across retries and replicas, caller-supplied, and honoured by the
// server's reply cache: a retried write whose reply was lost executes once),
// the deadline bound on backoff, asynchronous retries (waiting on the
// Client's timer thread), and cancellation cutting a retry wait short.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "adapter/testing/fault_injection.h"
#include "absl/strings/match.h"
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
using ::korb::testing::RegisterImpl;
using ::korb::testing::ReplicaSet;
using ::korb::testing::StatusIs;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Fast retries so tests do not wait.
ClientOptions FastRetries() {
  ClientOptions options;
  options.retry.initial_backoff = absl::Milliseconds(5);
  options.retry.max_backoff = absl::Milliseconds(20);
  return options;
}

class RetryTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { ASSERT_THAT(replicas_.Start(2), IsOk()); }

  RegisterImpl& servant() { return replicas_.servant(0); }
  // A stub to the first replica alone.
  korbclient::RegisterStub Single(Client& client) {
    return korbclient::RegisterStub(client, replicas_.ref(0));
  }

  ReplicaSet replicas_;
};

// A non-idempotent call that fails transiently is retried with the same
// korb-request-id on every attempt; the next call gets a new one. (The
// server here keeps no replies, so every attempt reaches the servant.)
TEST(RetryWithoutReplyCache, NonIdempotentRetriesKeepTheirRequestId) {
  ReplicaSet plain;
  AdapterOptions options{.threading = ThreadingOptions::SharedPool(4)};
  options.reply_cache.max_per_object = 0;
  ASSERT_THAT(plain.Start(1, options), IsOk());
  RegisterImpl& servant = plain.servant(0);
  Client client(FastRetries());
  korbclient::RegisterStub stub(client, plain.ref(0));
  servant.fail_next = 2;
  absl::StatusOr<korbclient::Result> result = stub.Append(OpText("a"));
  ASSERT_THAT(result, IsOk());
  std::vector<std::string> ids = servant.request_ids();
  ASSERT_THAT(ids, SizeIs(3));
  EXPECT_EQ(ids[0].size(), 32u);
  EXPECT_THAT(ids, Each(ids[0]));
  EXPECT_EQ(result->request_id(), ids[0]);
  EXPECT_EQ(result->text(), "a");

  ASSERT_THAT(stub.Append(OpText("b")), IsOk());
  ids = servant.request_ids();
  ASSERT_THAT(ids, SizeIs(4));
  EXPECT_NE(ids[3], ids[0]);
  EXPECT_FALSE(ids[3].empty());
}

// At most once, end to end: the server executes a write, its reply is lost
// (UNAVAILABLE, as if the connection dropped), the client retries with the
// same request id and gets the first execution's reply from the server's
// reply cache; the servant ran once.
TEST_P(RetryTest, RetriedWriteWhoseReplyWasLostExecutesOnce) {
  std::atomic<int> dropped{0};
  korb::testing::SetReplyDropper(replicas_.adapter(0),
      [&dropped](absl::string_view, absl::string_view method) {
        // Consulted only for executions, not for replies from the cache.
        return absl::EndsWith(method, "/Append") && dropped.fetch_add(1) == 0;
      });
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  absl::StatusOr<korbclient::Result> result = stub.Append(OpText("a"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->text(), "a");
  EXPECT_EQ(dropped.load(), 1) << "the retry was executed again instead of answered from the cache";
  EXPECT_EQ(servant().appends.load(), 1);
  EXPECT_EQ(servant().value(), "a");

  // The same through the asynchronous path.
  dropped = 0;
  Future<korbclient::Result> future = stub.AppendAsync(OpText("b"));
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30))) << "call never completed";
  ASSERT_THAT(future.Get(), IsOk());
  EXPECT_EQ(future.Get()->text(), "ab");
  EXPECT_EQ(servant().appends.load(), 2);
  korb::testing::SetReplyDropper(replicas_.adapter(0), nullptr);
}

// A caller's own request id makes a repeated call at-most-once across stub
// calls too.
TEST_P(RetryTest, RepeatedCallerRequestIdExecutesOnce) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  CallOptions options{.request_id = "transfer-1"};
  ASSERT_THAT(stub.Append(OpText("a"), options), IsOk());
  absl::StatusOr<korbclient::Result> again = stub.Append(OpText("a"), options);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->text(), "a");
  EXPECT_EQ(servant().appends.load(), 1);
}

// The request id also travels to the next replica on failover.
TEST_P(RetryTest, RequestIdIsStableAcrossReplicas) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub(client, replicas_.ref());
  replicas_.servant(0).fail_next = 1;
  ASSERT_THAT(stub.Append(OpText("x")), IsOk());
  ASSERT_THAT(replicas_.servant(0).request_ids(), SizeIs(1));
  ASSERT_THAT(replicas_.servant(1).request_ids(), SizeIs(1));
  EXPECT_EQ(replicas_.servant(0).request_ids()[0], replicas_.servant(1).request_ids()[0]);
}

// Without retries there is no request id, and a transient failure is final.
TEST_P(RetryTest, NoRetriesNoRequestId) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 1;
  EXPECT_THAT(stub.Append(OpText("a"), {.max_attempts = 1}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(servant().request_ids(), ElementsAre(""));
}

// retry_non_idempotent = false: non-idempotent calls are neither retried
// nor given a request id; idempotent ones still retry.
TEST_P(RetryTest, NonIdempotentRetriesCanBeTurnedOff) {
  ClientOptions options = FastRetries();
  options.retry.retry_non_idempotent = false;
  Client client(testing::Transport(GetParam(), options));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 1;
  EXPECT_THAT(stub.Append(OpText("a")), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(servant().request_ids(), ElementsAre(""));
  servant().fail_next = 1;
  EXPECT_THAT(stub.Put(OpText("p")), IsOk());
  EXPECT_EQ(servant().puts.load(), 2);
}

// A caller's request id is sent as given, even on calls that are not
// retried; a malformed one is refused before anything is sent.
TEST_P(RetryTest, CallerSuppliedRequestId) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  ASSERT_THAT(stub.Append(OpText("a"), {.max_attempts = 1, .request_id = "order-42"}), IsOk());
  EXPECT_THAT(servant().request_ids(), ElementsAre("order-42"));
  EXPECT_THAT(stub.Append(OpText("b"), {.request_id = "has space"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("request id")));
  EXPECT_THAT(stub.Append(OpText("b"), {.request_id = std::string(65, 'x')}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(servant().appends.load(), 1);
}

// An idempotent call is retried up to max_attempts, then fails with the
// last error, saying how many attempts it made.
TEST_P(RetryTest, AttemptsAreBounded) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 3;
  EXPECT_THAT(stub.Put(OpText("p")), IsOk());
  EXPECT_EQ(servant().puts.load(), 4);
  servant().fail_next = 10;
  EXPECT_THAT(stub.Put(OpText("p")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 4 attempts")));
  EXPECT_EQ(servant().puts.load(), 8);
  servant().fail_next = 10;
  EXPECT_THAT(stub.Put(OpText("p"), {.max_attempts = 2}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("after 2 attempts")));
  EXPECT_EQ(servant().puts.load(), 10);
}

// Backoff never sleeps past the call's deadline: the call ends with the
// last failure (not DEADLINE_EXCEEDED) once the next wait would cross it.
TEST_P(RetryTest, BackoffIsBoundedByTheDeadline) {
  ClientOptions options;
  options.retry = {.max_attempts = 100,
                   .initial_backoff = absl::Milliseconds(100),
                   .max_backoff = absl::Seconds(10),
                   .multiplier = 2.0,
                   .jitter = Jitter::kNone};
  Client client(testing::Transport(GetParam(), options));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 1000;
  EXPECT_THAT(stub.Put(OpText("p"), {.timeout = absl::Seconds(1)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("deadline")));
  // Waits of 100, 200, 400 ms fit in 1 s; the next (800 ms) would not.
  EXPECT_GE(servant().puts.load(), 1);
  EXPECT_LE(servant().puts.load(), 4);
  // A backoff longer than the whole timeout ends the call after one attempt.
  servant().puts = 0;
  options.retry.initial_backoff = absl::Hours(1);
  Client patient(testing::Transport(GetParam(), options));
  korbclient::RegisterStub stub2 = Single(patient);
  EXPECT_THAT(stub2.Put(OpText("p"), {.timeout = absl::Seconds(30)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("deadline")));
  EXPECT_EQ(servant().puts.load(), 1);
}

// Errors that are not transient are not retried.
TEST_P(RetryTest, DeadlineExceededIsNotRetried) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  EXPECT_THAT(stub.Put(OpText("p", 2000), {.timeout = absl::Milliseconds(50)}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // Counted at the client: on a loaded machine the attempt may expire before
  // the servant runs (the adapter then drops it unrun).
  EXPECT_EQ(client.EndpointStatsFor(replicas_.endpoint(0)).attempts +
                client.EndpointStatsFor(replicas_.endpoint(1)).attempts,
            1u);
  EXPECT_LE(servant().puts.load(), 1);
}

// An attempt that outlives RetryPolicy::attempt_timeout on a replica that
// does not answer fails over to the next replica, well within the call's
// own deadline, and the silent replica goes into failback backoff.
TEST_P(RetryTest, AttemptTimeoutLeavesASilentReplica) {
  ClientOptions options = FastRetries();
  options.retry.attempt_timeout = absl::Seconds(1);
  Client client(testing::Transport(GetParam(), options));
  korbclient::RegisterStub stub(client, replicas_.ref());  // ordered failover: 0 first
  replicas_.servant(0).delay_ms = 60000;
  absl::StatusOr<korbclient::Result> result =
      stub.Put(OpText("p"), {.timeout = absl::Seconds(60)});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->text(), "p");
  EXPECT_EQ(replicas_.servant(1).puts.load(), 1) << "the second replica did not take over";
  EndpointStats silent = client.EndpointStatsFor(replicas_.endpoint(0));
  EXPECT_EQ(silent.failures, 1u);
  EXPECT_GT(silent.backoff_until, absl::Now()) << "the silent replica is not in backoff";

  // Without an attempt timeout the call waits for its own deadline there.
  replicas_.servant(0).delay_ms = 60000;
  Client patient(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub2(patient, replicas_.ref());
  EXPECT_THAT(stub2.Put(OpText("q"), {.timeout = absl::Milliseconds(300)}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(replicas_.servant(1).puts.load(), 1);
}

// Asynchronous calls retry too, with their waits on the Client's timer
// thread; callback and future forms.
TEST_P(RetryTest, AsyncCallsRetry) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 2;
  Future<korbclient::Result> future = stub.PutAsync(OpText("f"));
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30))) << "call never completed";
  ASSERT_THAT(future.Get(), IsOk());
  EXPECT_EQ(servant().puts.load(), 3);

  servant().fail_next = 3;
  korb::Notification done;
  absl::Status status = absl::UnknownError("not called");
  stub.PutAsync(OpText("c"), [&](absl::StatusOr<korbclient::Result> result) {
    status = result.status();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30))) << "callback never ran";
  EXPECT_THAT(status, IsOk());
  EXPECT_EQ(servant().puts.load(), 3 + 4);
}

// Cancelling a call while it waits to retry ends it at once with CANCELLED,
// asynchronous or synchronous.
TEST_P(RetryTest, CancellationCutsRetryWaitShort) {
  ClientOptions options;
  options.retry.initial_backoff = absl::Hours(1);
  options.retry.max_backoff = absl::Hours(1);
  options.retry.jitter = Jitter::kNone;
  Client client(testing::Transport(GetParam(), options));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 1000;

  CancellationToken token;
  Future<korbclient::Result> future = stub.PutAsync(OpText("a"), {.cancellation = &token});
  ASSERT_TRUE(Eventually([&] { return servant().puts.load() >= 1; }));
  token.Cancel();
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30))) << "cancel did not end the retry wait";
  EXPECT_THAT(future.Get(), StatusIs(absl::StatusCode::kCancelled));

  CancellationToken sync_token;
  absl::Status sync_status;
  std::thread caller([&] {
    sync_status = stub.Put(OpText("s"), {.cancellation = &sync_token}).status();
  });
  ASSERT_TRUE(Eventually([&] { return servant().puts.load() >= 2; }));
  sync_token.Cancel();
  caller.join();
  EXPECT_THAT(sync_status, StatusIs(absl::StatusCode::kCancelled));
}

// gRPC's own retries are off: one Korb attempt is one call at the server.
TEST_P(RetryTest, OneAttemptIsOneServerCall) {
  Client client(testing::Transport(GetParam(), FastRetries()));
  korbclient::RegisterStub stub = Single(client);
  servant().fail_next = 1000;
  EXPECT_THAT(stub.Put(OpText("p"), {.max_attempts = 3}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(servant().puts.load(), 3);
  EXPECT_EQ(client.EndpointStatsFor(replicas_.endpoint(0)).attempts, 3u);
}

INSTANTIATE_TEST_SUITE_P(Transports, RetryTest, ::testing::Bool(), testing::TransportName);

}  // namespace
}  // namespace korb
