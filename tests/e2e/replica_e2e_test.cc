// Client transparency end to end: replicas of examples/replicated's counter
// as separate replicated_server processes on 127.0.0.1, this test as their
// client over TCP. A replica killed with SIGKILL under load (and with calls
// in flight on it) and restarted on its port; a hung replica left by
// keepalive; replies lost after the servant ran (the server's drop hook) and
// connections cut by a relay (tests/e2e/tcp_proxy.h), with retried deposits
// applied once; invoke-all against a replica that answers differently or not
// at all. Assertions are on results and on the calls
// each replica reports it served, never on times; every wait is bounded.
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replicated/counter.korb.h"
#include "tests/e2e/tcp_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::Subprocess;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

// Generous: the machine may be busy building.
constexpr absl::Duration kWait = absl::Seconds(60);

// One replicated_server process.
struct Replica {
  std::unique_ptr<Subprocess> process;
  Ref ref;  // its own one-endpoint reference
};

// Starts replica `name` listening on `listen` with `extra` flags; fails with
// what went wrong if it printed no reference within kWait.
absl::StatusOr<Replica> StartReplica(const std::string& name, const std::string& listen,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {KORB_REPLICATED_SERVER, "--listen", listen, "--name", name};
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv);
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> line = process->ReadLine(kWait);
  if (!line.ok()) {
    return absl::Status(line.status().code(),
                        absl::StrCat("replica ", name, " printed no reference: ",
                                     line.status().message()));
  }
  absl::StatusOr<Ref> ref = Ref::Parse(*line);
  if (!ref.ok()) return ref.status();
  return Replica{std::make_unique<Subprocess>(*std::move(process)), *std::move(ref)};
}

// Polls `condition` every 10 ms; false if it did not hold within kWait.
bool Eventually(const std::function<bool()>& condition) {
  const absl::Time deadline = absl::Now() + kWait;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

replicated::Delta Amount(int64_t amount) {
  replicated::Delta delta;
  delta.set_amount(amount);
  return delta;
}

// Four threads reading `counter` back to back until Stop(), counting the
// calls and the failures (keeping the first failure's status).
class ReadLoad {
 public:
  explicit ReadLoad(const replicated::CounterStub& counter) {
    for (int t = 0; t < 4; ++t) {
      workers_.emplace_back([this, counter] {
        while (!stop_.load()) {
          absl::StatusOr<replicated::Value> value = counter.Get(Empty());
          if (!value.ok()) {
            ++failed_;
            korb::MutexLock lock(&mu_);
            if (first_failure_.empty()) first_failure_ = value.status().ToString();
          }
          ++done_;
        }
      });
    }
  }
  ~ReadLoad() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }
  int done() const { return done_.load(); }
  int failed() const { return failed_.load(); }
  // The first failure, once Stop() has returned.
  std::string first_failure() const {
    korb::MutexLock lock(&mu_);
    return first_failure_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> done_{0};
  std::atomic<int> failed_{0};
  mutable korb::Mutex mu_;
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

class ReplicaEndToEnd : public ::testing::Test {
 protected:
  // Starts replicas r0..r<n-1>; replica i gets extra[i] flags if given.
  void StartReplicas(int n, const std::vector<std::vector<std::string>>& extra = {}) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Replica> replica = StartReplica(
          absl::StrCat("r", i), "127.0.0.1:0",
          i < static_cast<int>(extra.size()) ? extra[i] : std::vector<std::string>{});
      ASSERT_THAT(replica, IsOk());
      replicas_.push_back(*std::move(replica));
    }
  }

  // The replicated object: every replica's endpoint, in order.
  Ref All() const {
    std::vector<HostPort> endpoints;
    for (const Replica& replica : replicas_) endpoints.push_back(replica.ref.endpoints().front());
    Ref ref = replicas_.front().ref;
    ref.set_endpoints(endpoints);
    return ref;
  }
  std::string Endpoint(int i) const { return replicas_[i].ref.endpoints().front().ToString(); }

  // What replica i reports it served, asked through a Client of its own so
  // that failures here do not sway the tested Client's view of the replica.
  absl::StatusOr<replicated::Served> Stats(int i) {
    replicated::CounterStub stub(stats_client_, replicas_[i].ref);
    return stub.Stats(Empty(), {.timeout = absl::Seconds(10)});
  }
  int64_t Gets(int i) {
    absl::StatusOr<replicated::Served> served = Stats(i);
    return served.ok() ? served->gets() : -1;
  }
  // Replica i's counter; a test failure (and -1) if it cannot be read.
  int64_t Value(int i) {
    replicated::CounterStub stub(stats_client_, replicas_[i].ref);
    absl::StatusOr<replicated::Value> value = stub.Get(Empty(), {.timeout = absl::Seconds(10)});
    if (!value.ok()) {
      ADD_FAILURE() << "cannot read r" << i << ": " << value.status();
      return -1;
    }
    return value->value();
  }

  Client stats_client_;
  std::vector<Replica> replicas_;  // destroyed first: children die by SIGKILL
};

// Three replicas serve readonly calls from four threads, round robin. r1 is
// killed with SIGKILL mid-load: no call fails, r0 and r2 take over. r1 is
// restarted on its port and gets its share of calls again.
TEST_F(ReplicaEndToEnd, KillAndRestartUnderLoadLosesNoCall) {
  StartReplicas(3);
  ClientOptions options;
  options.selection = SelectionPolicy::kRoundRobin;
  options.default_timeout = absl::Seconds(30);
  // Probe the restarted replica within a fraction of a second, not 1 s+.
  options.failback_initial_backoff = absl::Milliseconds(100);
  options.failback_max_backoff = absl::Milliseconds(500);
  options.reconnect.initial_backoff = absl::Milliseconds(100);
  options.reconnect.max_backoff = absl::Milliseconds(500);
  Client client(options);
  replicated::CounterStub counter(client, All());
  ReadLoad load(counter);

  bool ok = Eventually([&] { return load.done() >= 300; });
  EXPECT_TRUE(ok) << "no progress before the kill: " << load.done() << " calls";
  const int64_t r0_at_kill = Gets(0);
  const int64_t r2_at_kill = Gets(2);
  EXPECT_GT(Gets(1), 0) << "r1 served nothing before it was killed";
  replicas_[1].process->Kill(SIGKILL);
  const int done_at_kill = load.done();
  ok = ok && Eventually([&] { return load.done() >= done_at_kill + 600; });
  EXPECT_TRUE(ok) << "no progress after the kill: " << load.done() - done_at_kill << " calls";
  EXPECT_GT(Gets(0), r0_at_kill);
  EXPECT_GT(Gets(2), r2_at_kill);

  // Back on the same port: the same replica of the same object.
  absl::StatusOr<Replica> restarted = StartReplica("r1", Endpoint(1));
  ASSERT_THAT(restarted, IsOk());
  EXPECT_EQ(restarted->ref, replicas_[1].ref);
  replicas_[1] = *std::move(restarted);
  // Its counters start at zero: whatever it reports came after the restart.
  const bool served_again = Eventually([&] { return Gets(1) >= 100; });
  load.Stop();
  EXPECT_TRUE(served_again) << "the restarted replica served " << Gets(1) << " calls";
  EXPECT_EQ(load.failed(), 0) << load.failed() << " of " << load.done()
                              << " calls failed; first: " << load.first_failure();
}

// Thirty asynchronous reads are in flight on r1 (its Gets take 30 s) when
// it is killed with SIGKILL: every one of them fails over and succeeds on
// r0 or r2.
TEST_F(ReplicaEndToEnd, CallsInFlightOnAKilledReplicaFailOver) {
  StartReplicas(3, {{}, {"--get-delay-ms", "30000"}, {}});
  Client client(ClientOptions{.selection = SelectionPolicy::kRoundRobin});
  replicated::CounterStub counter(client, All());
  std::vector<Future<replicated::Value>> futures;
  for (int i = 0; i < 90; ++i) {
    futures.push_back(counter.GetAsync(Empty(), {.timeout = absl::Seconds(60)}));
  }
  const HostPort r1 = replicas_[1].ref.endpoints().front();
  EXPECT_TRUE(Eventually([&] { return client.EndpointStatsFor(r1).in_flight == 30; }))
      << client.EndpointStatsFor(r1).in_flight << " calls in flight on r1";
  replicas_[1].process->Kill(SIGKILL);
  int failed = 0;
  std::string first_failure;
  for (const Future<replicated::Value>& future : futures) {
    ASSERT_TRUE(future.WaitFor(kWait)) << "a call never completed";
    if (!future.Get().ok()) {
      if (failed++ == 0) first_failure = future.Get().status().ToString();
    }
  }
  EXPECT_EQ(failed, 0) << "first: " << first_failure;
  EXPECT_EQ(Gets(0) + Gets(2), 90);
}

// A replica that hangs (SIGSTOP: its connections stay open, nothing
// answers) under round-robin load with 5 s call timeouts: client keepalive
// pings go unanswered, the connection is closed, and its calls fail over.
// No call fails.
TEST_F(ReplicaEndToEnd, HungReplicaIsLeftByKeepalive) {
  const std::vector<std::string> pings = {"--ping-interval-ms", "50"};
  StartReplicas(3, {pings, pings, pings});
  ClientOptions options;
  options.selection = SelectionPolicy::kRoundRobin;
  options.default_timeout = absl::Seconds(5);
  options.keepalive = {.time = absl::Milliseconds(200),
                       .timeout = absl::Milliseconds(500),
                       .permit_without_calls = true};
  // Probe the hung replica again and again while it hangs: each probe's
  // connection is accepted by its kernel, never answered, and closed by
  // keepalive (checked with the default 20 s connect timeout).
  options.failback_initial_backoff = absl::Milliseconds(100);
  options.failback_max_backoff = absl::Milliseconds(400);
  Client client(options);
  replicated::CounterStub counter(client, All());
  ReadLoad load(counter);
  bool ok = Eventually([&] { return load.done() >= 300; });
  EXPECT_TRUE(ok) << "no progress before the hang";
  const int64_t r0_before = Gets(0);
  ::kill(replicas_[1].process->pid(), SIGSTOP);
  const int done_at_hang = load.done();
  // Long enough for several failback probes of the hung replica.
  ok = ok && Eventually([&] { return load.done() >= done_at_hang + 6000; });
  ::kill(replicas_[1].process->pid(), SIGCONT);
  load.Stop();
  EXPECT_TRUE(ok) << "no progress while r1 hung: " << load.done() - done_at_hang << " calls";
  EXPECT_GT(Gets(0), r0_before);
  EXPECT_EQ(load.failed(), 0) << load.failed() << " of " << load.done()
                              << " calls failed; first: " << load.first_failure();
}

// The server loses every 3rd Add reply after the deposit ran. Four threads
// deposit distinct amounts; the stub retries each lost reply with its
// korb-request-id and the reply cache answers it: every deposit is
// acknowledged, each ran once, and the balance is their sum.
TEST_F(ReplicaEndToEnd, DroppedRepliesDepositOnce) {
  StartReplicas(1, {{"--drop-every", "3"}});
  Client client(ClientOptions{.default_timeout = absl::Seconds(30)});
  replicated::CounterStub counter(client, All());
  constexpr int kThreads = 4;
  constexpr int kDeposits = 50;
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kDeposits; ++i) {
        const int64_t amount = t * 1000 + i + 1;
        if (counter.Add(Amount(amount)).ok()) {
          acknowledged += amount;
        } else {
          ++failed;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();

  absl::StatusOr<replicated::Served> served = Stats(0);
  ASSERT_THAT(served, IsOk());
  EXPECT_GT(served->dropped(), 0) << "no reply was dropped: the test tested nothing";
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(served->adds(), kThreads * kDeposits) << "a retried deposit ran again";
  EXPECT_EQ(Value(0), acknowledged.load());
}

// The client reaches the replica through a relay that cuts every connection
// after every few acknowledged deposits while four threads deposit: calls in
// flight fail (before or after their deposit ran) and are retried with their
// korb-request-id over a new connection. Every deposit is acknowledged and
// ran once.
TEST_F(ReplicaEndToEnd, CutConnectionsDepositOnce) {
  StartReplicas(1);
  absl::StatusOr<std::unique_ptr<testing::TcpProxy>> proxy =
      testing::TcpProxy::Start(replicas_[0].ref.endpoints().front());
  ASSERT_THAT(proxy, IsOk());
  Ref through_proxy = replicas_[0].ref;
  through_proxy.set_endpoints({(*proxy)->endpoint()});
  ClientOptions options;
  options.default_timeout = absl::Seconds(30);
  // Cuts come often: retry and reconnect quickly, and often enough that the
  // deadline, not the attempt count, is what could run out.
  options.retry.max_attempts = 1000;
  options.retry.initial_backoff = absl::Milliseconds(2);
  options.retry.max_backoff = absl::Milliseconds(20);
  options.reconnect.initial_backoff = absl::Milliseconds(10);
  options.reconnect.max_backoff = absl::Milliseconds(50);
  options.failback_initial_backoff = absl::Milliseconds(10);
  options.failback_max_backoff = absl::Milliseconds(50);
  int64_t acknowledged = 0;
  int failed = 0;
  std::string first_failure;
  constexpr int kThreads = 4;
  constexpr int kDeposits = 60;
  {
    Client client(options);
    replicated::CounterStub counter(client, through_proxy);
    std::atomic<int> running{kThreads};
    std::atomic<int> acknowledged_calls{0};
    std::atomic<int64_t> sum{0};
    std::atomic<int> failures{0};
    korb::Mutex mu;
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < kDeposits; ++i) {
          const int64_t amount = t * 1000 + i + 1;
          absl::StatusOr<replicated::Value> value = counter.Add(Amount(amount));
          if (value.ok()) {
            sum += amount;
            ++acknowledged_calls;
          } else {
            ++failures;
            korb::MutexLock lock(&mu);
            if (first_failure.empty()) first_failure = value.status().ToString();
          }
        }
        --running;
      });
    }
    // A cut after every few acknowledged deposits: calls in flight break
    // often, yet the load always progresses between cuts, however slow the
    // machine (a cut on a clock could outpace every reconnection).
    for (int last = 0; running.load() > 0;) {
      if (acknowledged_calls.load() >= last + 4) {
        last = acknowledged_calls.load();
        (*proxy)->CutAll();
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    for (std::thread& worker : workers) worker.join();
    acknowledged = sum.load();
    failed = failures.load();
    EXPECT_GT(client.EndpointStatsFor((*proxy)->endpoint()).failures, 0u)
        << "no call broke: the test tested nothing (" << (*proxy)->cuts() << " cuts)";
  }
  // A failed deposit may or may not have run: only with none is the count
  // of runs meaningful.
  ASSERT_EQ(failed, 0) << "first: " << first_failure;
  absl::StatusOr<replicated::Served> served = Stats(0);
  ASSERT_THAT(served, IsOk());
  EXPECT_EQ(served->adds(), kThreads * kDeposits) << "a retried deposit ran again";
  EXPECT_EQ(Value(0), acknowledged);
}

// Invoke-all under lost replies: three replicas each lose some Add replies
// (every 2nd, 3rd, 5th). Each leg retries on its own replica, whose reply
// cache answers; with Completion::kAll every deposit is acknowledged and
// every replica applied each exactly once. One writer: concurrent writers
// could make replicas apply deposits in different orders (and answer
// different balances).
TEST_F(ReplicaEndToEnd, DroppedRepliesUnderInvokeAllDepositOncePerReplica) {
  StartReplicas(3, {{"--drop-every", "2"}, {"--drop-every", "3"}, {"--drop-every", "5"}});
  Client client(ClientOptions{.default_timeout = absl::Seconds(30)});
  replicated::CounterStub counter(client, All());
  counter.korb_set_replication(Replication::kActive, Completion::kAll);
  constexpr int kDeposits = 60;
  int64_t acknowledged = 0;
  for (int i = 1; i <= kDeposits; ++i) {
    absl::StatusOr<replicated::Value> value = counter.Add(Amount(i));
    ASSERT_THAT(value, IsOk()) << "deposit " << i;
    acknowledged += i;
    EXPECT_EQ(value->value(), acknowledged);
  }
  for (int r = 0; r < 3; ++r) {
    absl::StatusOr<replicated::Served> served = Stats(r);
    ASSERT_THAT(served, IsOk());
    EXPECT_GT(served->dropped(), 0) << "r" << r << " dropped no reply";
    EXPECT_EQ(served->adds(), kDeposits) << "r" << r << " ran a retried deposit again";
    EXPECT_EQ(Value(r), acknowledged) << "r" << r;
  }
}

// A replica killed while one writer deposits under Completion::kMajority:
// every deposit is acknowledged (two replicas agree), and both survivors
// applied every deposit exactly once.
TEST_F(ReplicaEndToEnd, KilledReplicaUnderMajorityWrites) {
  // One worker thread each, so that a replica runs the writes in the order
  // they arrive (a lagging leg of one write and the next write's leg could
  // otherwise swap places and make the replica answer another balance).
  StartReplicas(3, {{"--threads", "1"}, {"--threads", "1"}, {"--threads", "1"}});
  Client client(ClientOptions{.default_timeout = absl::Seconds(30)});
  replicated::CounterStub counter(client, All());
  counter.korb_set_replication(Replication::kActive, Completion::kMajority);
  constexpr int kDeposits = 100;
  int64_t acknowledged = 0;
  for (int i = 1; i <= kDeposits; ++i) {
    if (i == kDeposits / 2) replicas_[2].process->Kill(SIGKILL);
    absl::StatusOr<replicated::Value> value = counter.Add(Amount(i));
    ASSERT_THAT(value, IsOk()) << "deposit " << i;
    acknowledged += i;
    EXPECT_EQ(value->value(), acknowledged);
  }
  for (int r = 0; r < 2; ++r) {
    // Legs left running by kMajority may still be on their way.
    EXPECT_TRUE(Eventually([&] {
      absl::StatusOr<replicated::Served> served = Stats(r);
      return served.ok() && served->adds() >= kDeposits;
    })) << "r" << r;
    absl::StatusOr<replicated::Served> served = Stats(r);
    ASSERT_THAT(served, IsOk());
    EXPECT_EQ(served->adds(), kDeposits) << "r" << r;
    EXPECT_EQ(Value(r), acknowledged) << "r" << r;
  }
}

// r2 starts at 1000, so its writes answer differently. kAll reports the
// disagreement, kMajority returns what r0 and r1 agree on, kFirst the first
// reply. With r2 killed, kAll reports the replica that did not answer and
// kMajority and kFirst succeed.
TEST_F(ReplicaEndToEnd, InvokeAllWithDivergentAndDeadReplica) {
  StartReplicas(3, {{}, {}, {"--initial", "1000"}});
  Client client(ClientOptions{.default_timeout = absl::Seconds(30)});
  replicated::CounterStub all(client, All());
  all.korb_set_replication(Replication::kActive, Completion::kAll);
  replicated::CounterStub majority(client, All());
  majority.korb_set_replication(Replication::kActive, Completion::kMajority);
  replicated::CounterStub first(client, All());
  first.korb_set_replication(Replication::kActive, Completion::kFirst);

  EXPECT_THAT(all.Add(Amount(5)),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("replicas disagree"), HasSubstr(Endpoint(2)))));
  absl::StatusOr<replicated::Value> agreed = majority.Add(Amount(5));
  ASSERT_THAT(agreed, IsOk());
  EXPECT_EQ(agreed->value(), 10);
  absl::StatusOr<replicated::Value> fastest = first.Add(Amount(5));
  ASSERT_THAT(fastest, IsOk());
  EXPECT_THAT(fastest->value(), AnyOf(15, 1015));
  // Every write ran on every replica, kFirst's slower legs included.
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(Eventually([&] {
      absl::StatusOr<replicated::Served> served = Stats(r);
      return served.ok() && served->adds() == 3;
    })) << "r" << r;
  }
  EXPECT_EQ(Value(0), 15);
  EXPECT_EQ(Value(2), 1015);

  replicas_[2].process->Kill(SIGKILL);
  EXPECT_THAT(all.Add(Amount(1)),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("1 of 3 replicas did not answer"), HasSubstr(Endpoint(2)))));
  absl::StatusOr<replicated::Value> survivors = majority.Add(Amount(1));
  ASSERT_THAT(survivors, IsOk());
  EXPECT_EQ(survivors->value(), 17);
  absl::StatusOr<replicated::Value> any = first.Add(Amount(1));
  ASSERT_THAT(any, IsOk());
  EXPECT_EQ(any->value(), 18);
}

}  // namespace
}  // namespace korb
