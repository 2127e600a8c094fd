// Crashes of the bank server (SIGKILL) while clients deposit, between
// processes over TCP, with the accounts in a SQLite file (write-through).
//
// The hazard: a deposit that was applied and saved but whose reply was lost
// with the process is retried by the client with the same korb-request-id;
// the adapter's reply cache died with the process, so unless the account
// itself remembers the request id, the retry is applied a second time. The
// first two tests crash exactly in that window (bank_crash_server's fault
// hook); the last kills a real bank_server at arbitrary moments.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bank/bank.korb.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::Subprocess;

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kCallTimeout = absl::Seconds(20);

bank::Amount Cents(int64_t cents) {
  bank::Amount amount;
  amount.set_cents(cents);
  return amount;
}

// A fresh directory for the test's database.
std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/korb_bank_crash_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

// A started server and the bank reference it printed.
struct Server {
  std::unique_ptr<Subprocess> process;
  std::string bank_ref;
  std::string address;  // host:port it listens on
};

absl::StatusOr<Server> StartServer(std::vector<std::string> argv) {
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv);
  if (!process.ok()) return process.status();
  Server server{std::make_unique<Subprocess>(*std::move(process)), "", ""};
  absl::StatusOr<std::string> ref = server.process->ReadLine(kStartTimeout);
  if (!ref.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " printed no reference: ", ref.status().ToString()));
  }
  absl::StatusOr<Ref> parsed = Ref::Parse(*ref);
  if (!parsed.ok()) return parsed.status();
  server.bank_ref = *ref;
  server.address = parsed->endpoints().front().ToString();
  return server;
}

absl::StatusOr<ObjectRef> OpenAccount(Client& client, const std::string& bank_ref,
                                      const std::string& owner_name) {
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, bank_ref);
  if (!bank.ok()) return bank.status();
  bank::Owner owner;
  owner.set_name(owner_name);
  return bank->Open(owner, {.timeout = kCallTimeout});
}

// Deposits 100 and 200, then a third deposit of 400 (request id "deposit-3")
// on which bank_crash_server kills itself after saving it; restarts the
// server on the same address and database and retries the third deposit with
// the same request id. Returns the balance after the retry.
void CrashBetweenSaveAndReplyThenRetry(bool record_request_ids, int64_t* balance_before_retry,
                                       int64_t* retry_reply, int64_t* balance_after_retry) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string db = dir + "/bank.db";
  std::vector<std::string> argv = {KORB_BANK_CRASH_SERVER, "--db", db};
  if (!record_request_ids) argv.push_back("--forget-request-ids");

  std::vector<std::string> first_argv = argv;
  first_argv.insert(first_argv.end(), {"--listen", "127.0.0.1:0", "--kill-at-deposit", "3"});
  absl::StatusOr<Server> first = StartServer(first_argv);
  ASSERT_THAT(first, IsOk());
  ObjectRef account_ref;
  {
    Client client;
    absl::StatusOr<ObjectRef> opened = OpenAccount(client, first->bank_ref, "alice");
    ASSERT_THAT(opened, IsOk());
    account_ref = *opened;
    bank::AccountStub account(client, account_ref);
    ASSERT_THAT(account.Deposit(Cents(100), {.timeout = kCallTimeout}), IsOk());
    ASSERT_THAT(account.Deposit(Cents(200), {.timeout = kCallTimeout}), IsOk());
    // One attempt: the server dies before answering, so the outcome is
    // unknown to this client.
    EXPECT_THAT(
        account.Deposit(Cents(400),
                        {.timeout = kCallTimeout, .max_attempts = 1, .request_id = "deposit-3"}),
        StatusIs(absl::StatusCode::kUnavailable));
  }
  // It dies by itself, from its fault hook, not by this test.
  ASSERT_THAT(first->process->Wait(absl::Seconds(30)), IsOk())
      << "bank_crash_server did not die at the third deposit";
  int status = first->process->Kill(SIGKILL);  // reaped already: its wait status
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;

  argv.insert(argv.end(), {"--listen", first->address});
  absl::StatusOr<Server> second = StartServer(argv);
  ASSERT_THAT(second, IsOk()) << "could not restart on " << first->address;
  Client client;
  bank::AccountStub account(client, account_ref);
  absl::StatusOr<bank::Balance> before = account.GetBalance(Empty(), {.timeout = kCallTimeout});
  ASSERT_THAT(before, IsOk());
  *balance_before_retry = before->cents();
  absl::StatusOr<bank::Balance> retried =
      account.Deposit(Cents(400), {.timeout = kCallTimeout, .request_id = "deposit-3"});
  ASSERT_THAT(retried, IsOk());
  *retry_reply = retried->cents();
  absl::StatusOr<bank::Balance> after = account.GetBalance(Empty(), {.timeout = kCallTimeout});
  ASSERT_THAT(after, IsOk());
  *balance_after_retry = after->cents();
  // The second server is killed (SIGKILL) by its Subprocess's destructor.
}

// The deposit was saved before the crash; its retry after the restart is
// answered from the request id recorded in the account's row.
TEST(BankCrashEndToEnd, RetryOfDepositSavedBeforeCrashIsNotAppliedAgain) {
  int64_t before = -1, reply = -1, after = -1;
  CrashBetweenSaveAndReplyThenRetry(/*record_request_ids=*/true, &before, &reply, &after);
  if (HasFatalFailure()) return;
  EXPECT_EQ(before, 700) << "the deposit acknowledged by nobody was saved before the crash";
  EXPECT_EQ(reply, 700) << "the retry was answered as the first attempt was";
  EXPECT_EQ(after, 700) << "the retry must not apply the deposit again";
}

// Control: without the recorded request ids the same sequence applies the
// deposit twice, so the test above would catch a bank that forgot them.
TEST(BankCrashEndToEnd, WithoutRecordedRequestIdsTheRetryAppliesTwice) {
  int64_t before = -1, reply = -1, after = -1;
  CrashBetweenSaveAndReplyThenRetry(/*record_request_ids=*/false, &before, &reply, &after);
  if (HasFatalFailure()) return;
  EXPECT_EQ(before, 700);
  EXPECT_EQ(reply, 1100);
  EXPECT_EQ(after, 1100);
}

// Per account: what the clients saw acknowledged, and deposits whose outcome
// they never learned.
struct Ledger {
  Mutex mu;
  std::vector<int64_t> acknowledged ABSL_GUARDED_BY(mu);
  std::vector<int64_t> unknown ABSL_GUARDED_BY(mu);
  int64_t acknowledged_calls ABSL_GUARDED_BY(mu) = 0;
  int64_t failed_attempts ABSL_GUARDED_BY(mu) = 0;      // attempts that ended in an error
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);  // non-transient: the test fails
};

// Deposits into random accounts until `stop`. Each logical deposit has its
// own request id and is retried with it until acknowledged (for at most 60 s
// once stopping), so deposits interrupted by a crash are retried against the
// restarted server.
void DepositLoop(int thread, const std::vector<ObjectRef>& accounts, const std::atomic<bool>& stop,
                 Ledger& ledger) {
  // Every failed attempt surfaces here and is retried below with the same
  // request id, so the count of failed attempts shows the kills hit traffic.
  ClientOptions options;
  options.retry.max_attempts = 1;
  Client client(options);
  std::vector<bank::AccountStub> stubs;
  for (const ObjectRef& ref : accounts) stubs.emplace_back(client, ref);
  std::mt19937 random(thread);
  const std::string run = absl::StrCat(absl::ToUnixNanos(absl::Now()), "-", thread);
  for (int64_t seq = 0; !stop.load(); ++seq) {
    size_t index = random() % accounts.size();
    int64_t cents = 1 + static_cast<int64_t>(random() % 1000);
    const std::string request_id = absl::StrCat(run, "-", seq);
    absl::Time give_up = absl::InfiniteFuture();
    bool acknowledged = false;
    while (true) {
      if (stop.load() && give_up == absl::InfiniteFuture()) {
        give_up = absl::Now() + absl::Seconds(60);
      }
      if (absl::Now() > give_up) break;
      absl::StatusOr<bank::Balance> balance =
          stubs[index].Deposit(Cents(cents), {.timeout = kCallTimeout, .request_id = request_id});
      if (balance.ok()) {
        acknowledged = true;
        break;
      }
      MutexLock lock(&ledger.mu);
      ++ledger.failed_attempts;
      absl::StatusCode code = balance.status().code();
      if (code != absl::StatusCode::kUnavailable && code != absl::StatusCode::kDeadlineExceeded) {
        ledger.errors.push_back(balance.status().ToString());
        return;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    MutexLock lock(&ledger.mu);
    if (acknowledged) {
      ledger.acknowledged[index] += cents;
      ++ledger.acknowledged_calls;
    } else {
      ledger.unknown[index] += cents;
    }
  }
}

// Waits until `ledger` counts `target` acknowledged deposits; false after
// `timeout` or if a client thread failed.
bool AwaitAcknowledged(Ledger& ledger, int64_t target, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    {
      MutexLock lock(&ledger.mu);
      if (!ledger.errors.empty()) return false;
      if (ledger.acknowledged_calls >= target) return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// A server started with `argv` (on a free port first, then again on the same
// port), `accounts` accounts opened on it, `threads` clients depositing into
// them, and the server killed with SIGKILL and restarted `restarts` times,
// each time after `deposits_per_phase` more acknowledged deposits. Returns
// the last server, still running, and the accounts, with `ledger` filled in,
// once the clients have stopped; a failure of the test (and no accounts) if
// the run did not get that far.
struct RestartPlan {
  std::vector<std::string> argv;
  int accounts = 0;
  int threads = 0;
  int restarts = 0;
  int64_t deposits_per_phase = 0;
};

struct RestartRun {
  std::optional<Server> server;
  std::vector<ObjectRef> accounts;
};

RestartRun DepositAcrossRestarts(RestartPlan plan, Ledger& ledger) {
  std::vector<ObjectRef> accounts;
  std::vector<std::string> first_argv = plan.argv;
  first_argv.insert(first_argv.end(), {"--listen", "127.0.0.1:0"});
  absl::StatusOr<Server> server = StartServer(first_argv);
  EXPECT_THAT(server, IsOk());
  if (!server.ok()) return {};
  const std::string address = server->address;
  plan.argv.insert(plan.argv.end(), {"--listen", address});
  {
    Client client;
    for (int i = 0; i < plan.accounts; ++i) {
      absl::StatusOr<ObjectRef> opened =
          OpenAccount(client, server->bank_ref, absl::StrCat("owner-", i));
      EXPECT_THAT(opened, IsOk());
      if (!opened.ok()) return {};
      accounts.push_back(*opened);
    }
  }
  {
    MutexLock lock(&ledger.mu);
    ledger.acknowledged.assign(plan.accounts, 0);
    ledger.unknown.assign(plan.accounts, 0);
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < plan.threads; ++t) {
    threads.emplace_back([&, t] { DepositLoop(t, accounts, stop, ledger); });
  }
  const bool completed = [&] {
    for (int phase = 1; phase <= plan.restarts + 1; ++phase) {
      if (!AwaitAcknowledged(ledger, phase * plan.deposits_per_phase, absl::Seconds(120))) {
        MutexLock lock(&ledger.mu);
        ADD_FAILURE() << "clients did not reach " << phase * plan.deposits_per_phase
                      << " acknowledged deposits within 120 s; non-transient errors: ["
                      << absl::StrJoin(ledger.errors, "; ") << "]";
        return false;
      }
      if (phase > plan.restarts) return true;
      server->process->Kill(SIGKILL);
      absl::StatusOr<Server> restarted = StartServer(plan.argv);
      if (!restarted.ok()) {
        ADD_FAILURE() << "could not restart " << plan.argv.front() << " on " << address << ": "
                      << restarted.status();
        return false;
      }
      server = *std::move(restarted);
    }
    return true;
  }();
  // The clients use `accounts`: they stop before it is returned.
  stop = true;
  for (std::thread& thread : threads) thread.join();
  if (!completed) return {};
  return {*std::move(server), std::move(accounts)};
}

// Four client threads deposit into 20 accounts (at most 8 in memory, so
// accounts are evicted and reincarnated from SQLite all along) while
// bank_server is killed with SIGKILL three times and restarted on the same
// port and database. Every acknowledged deposit must be in the final
// balances, and none applied twice.
TEST(BankCrashEndToEnd, SigkillMidRunLosesNoAcknowledgedDepositAndAppliesNoneTwice) {
  constexpr int kAccounts = 20;
  constexpr int kThreads = 4;
  constexpr int kKills = 3;
  constexpr int64_t kDepositsPerPhase = 150;
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  Ledger ledger;
  // synchronous=normal: a commit survives SIGKILL (not a power loss).
  const RestartRun run = DepositAcrossRestarts(
      {.argv = {KORB_BANK_SERVER, "--db", dir + "/bank.db", "--sync", "normal", "--max-active",
                "8", "--threads", "4"},
       .accounts = kAccounts,
       .threads = kThreads,
       .restarts = kKills,
       .deposits_per_phase = kDepositsPerPhase},
      ledger);
  ASSERT_EQ(run.accounts.size(), static_cast<size_t>(kAccounts));
  const std::vector<ObjectRef>& accounts = run.accounts;

  MutexLock lock(&ledger.mu);
  ASSERT_THAT(ledger.errors, ::testing::IsEmpty());
  // The kills interrupted traffic: some attempts failed and were retried.
  EXPECT_GT(ledger.failed_attempts, 0);
  Client client;
  int64_t unknown_total = 0;
  for (int i = 0; i < kAccounts; ++i) {
    bank::AccountStub account(client, accounts[i]);
    absl::StatusOr<bank::Balance> balance = account.GetBalance(Empty(), {.timeout = kCallTimeout});
    ASSERT_THAT(balance, IsOk());
    unknown_total += ledger.unknown[i];
    EXPECT_GE(balance->cents(), ledger.acknowledged[i])
        << "account " << accounts[i].id() << " lost an acknowledged deposit";
    EXPECT_LE(balance->cents(), ledger.acknowledged[i] + ledger.unknown[i])
        << "account " << accounts[i].id() << " applied a deposit twice";
  }
  // Every deposit was retried until acknowledged, so none should be left
  // unknown; if one were, the bounds above still hold.
  EXPECT_EQ(unknown_total, 0);
  std::cout << "acknowledged deposits: " << ledger.acknowledged_calls
            << ", failed attempts retried: " << ledger.failed_attempts << "\n";
}

// Restarts that take a while to set up (bank_crash_server --setup-delay-ms)
// while four clients deposit: a call that reaches the restarted server
// before its adapter exists is answered transient (the start-up window), one
// that arrives before the adapter is ready is held. None is told that an
// existing account does not exist, which DepositLoop would record as a
// non-transient error.
TEST(BankCrashEndToEnd, SlowRestartsUnderLoadNeverDenyExistingAccounts) {
  constexpr int kAccounts = 8;
  constexpr int kThreads = 4;
  constexpr int kRestarts = 2;
  constexpr int64_t kDepositsPerPhase = 60;
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  Ledger ledger;
  const RestartRun run = DepositAcrossRestarts(
      {.argv = {KORB_BANK_CRASH_SERVER, "--db", dir + "/bank.db", "--setup-delay-ms", "500"},
       .accounts = kAccounts,
       .threads = kThreads,
       .restarts = kRestarts,
       .deposits_per_phase = kDepositsPerPhase},
      ledger);
  ASSERT_EQ(run.accounts.size(), static_cast<size_t>(kAccounts));
  MutexLock lock(&ledger.mu);
  EXPECT_THAT(ledger.errors, ::testing::IsEmpty())
      << "a client was refused permanently (e.g. object-not-exist) during a restart";
  EXPECT_GT(ledger.failed_attempts, 0) << "the restarts never met traffic";
}

}  // namespace
}  // namespace korb
