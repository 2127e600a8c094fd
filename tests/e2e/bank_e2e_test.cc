// The bank flow end to end: over TCP between separate processes (the
// bank_server and bank_client binaries, and this test as a client of
// bank_server), and in one process; accounts kept in SQLite across a server
// restart, and only the touched ones in memory.
#include <signal.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "adapter/object_server.h"
#include "bank/bank.korb.h"
#include "bank/bank_app.h"
#include "bank/bank_servants.h"
#include "client/client.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::Subprocess;
using ::testing::HasSubstr;

bank::Amount Cents(int64_t cents) {
  bank::Amount amount;
  amount.set_cents(cents);
  return amount;
}

// A fresh directory for a test's database.
std::string MakeTempDir() {
  std::string pattern = ::testing::TempDir() + "/korb_bank_XXXXXX";
  char* dir = mkdtemp(pattern.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

// Opens two accounts through `bank_ref`, moves money, checks every result.
// Returns the accounts' references through `opened` if given.
void RunBankFlow(const std::string& bank_ref, std::vector<ObjectRef>* opened = nullptr) {
  Client client;
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, bank_ref);
  ASSERT_THAT(bank, IsOk());
  bank::Owner owner;
  owner.set_name("alice");
  absl::StatusOr<ObjectRef> alice_ref = bank->Open(owner);
  ASSERT_THAT(alice_ref, IsOk());
  owner.set_name("bob");
  absl::StatusOr<ObjectRef> bob_ref = bank->Open(owner);
  ASSERT_THAT(bob_ref, IsOk());
  EXPECT_NE(alice_ref->id(), bob_ref->id());
  EXPECT_EQ(alice_ref->type(), "bank.Account");

  bank::AccountStub alice(client, *alice_ref);
  bank::AccountStub bob(client, *bob_ref);
  EXPECT_EQ(alice.GetOwner(Empty())->name(), "alice");
  ASSERT_THAT(alice.Deposit(Cents(10000)), IsOk());
  ASSERT_THAT(alice.Withdraw(Cents(3000)), IsOk());
  ASSERT_THAT(bob.Deposit(Cents(3000)), IsOk());
  EXPECT_THAT(bob.Withdraw(Cents(5000)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("insufficient funds")));
  EXPECT_THAT(bob.Deposit(Cents(-1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(alice.GetBalance(Empty())->cents(), 7000);
  EXPECT_EQ(bob.GetBalance(Empty())->cents(), 3000);
  if (opened != nullptr) *opened = {*alice_ref, *bob_ref};
}

// Reads the balance of `ref`, or -1 with a test failure.
int64_t BalanceOf(Client& client, const ObjectRef& ref) {
  bank::AccountStub account(client, ref);
  absl::StatusOr<bank::Balance> balance =
      account.GetBalance(Empty(), {.timeout = absl::Seconds(30)});
  EXPECT_THAT(balance, IsOk()) << ref.id();
  return balance.ok() ? balance->cents() : -1;
}

TEST(BankEndToEnd, SeparateProcessesOverTcp) {
  absl::StatusOr<Subprocess> server =
      Subprocess::Start({KORB_BANK_SERVER, "--listen", "127.0.0.1:0", "--threads", "4"});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<std::string> ref = server->ReadLine(absl::Seconds(60));
  ASSERT_THAT(ref, IsOk()) << "bank_server printed no reference";
  ASSERT_THAT(*ref, ::testing::StartsWith("korb://127.0.0.1:"));

  RunBankFlow(*ref);

  // The example client, as a third process.
  absl::StatusOr<Subprocess> client = Subprocess::Start({KORB_BANK_CLIENT, *ref});
  ASSERT_THAT(client, IsOk());
  absl::StatusOr<std::string> output = client->ReadAll(absl::Seconds(60));
  ASSERT_THAT(output, IsOk());
  EXPECT_THAT(*output, HasSubstr("alice: $95.50"));
  EXPECT_THAT(*output, HasSubstr("bob: $35.00"));
  EXPECT_THAT(*output, HasSubstr("FAILED_PRECONDITION"));
  absl::StatusOr<int> exit_code = client->Wait(absl::Seconds(60));
  ASSERT_THAT(exit_code, IsOk());
  EXPECT_EQ(*exit_code, 0) << *output;

  // The bank is the default object of bank.Bank: plain gRPC reaches it.
  absl::StatusOr<Ref> parsed = Ref::Parse(*ref);
  ASSERT_THAT(parsed, IsOk());
  Client raw_client;
  bank::Owner owner;
  owner.set_name("carol");
  testing::RawReply raw = testing::RawCall(raw_client.Channel(parsed->endpoints().front()),
                                           "/bank.Bank/Open", owner.SerializeAsString());
  ASSERT_TRUE(raw.status.ok()) << raw.status.error_message();
  ObjectRef carol;
  ASSERT_TRUE(carol.ParseFromString(raw.body));
  EXPECT_EQ(carol.type(), "bank.Account");

  int status = server->Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

// A client process that made a call and then idles keeps its connection
// open and need not read the server's GOAWAY; shutting down must not wait
// for it. gRPC clients poll idle connections every 5 s by default (the
// "backup poller"); this one does not, and then gRPC's own graceful
// shutdown waits 20 s for the GOAWAY's acknowledgement before cutting the
// connection. Korb's does not wait for it: the server exits well within the
// generous 15 s allowed here. (ctest runs each test in a process of its
// own, so gRPC reads the setting when this test first uses it.)
TEST(BankEndToEnd, ShutdownDoesNotWaitForIdleClients) {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "0", /*overwrite=*/1);
  absl::StatusOr<Subprocess> server =
      Subprocess::Start({KORB_BANK_SERVER, "--listen", "127.0.0.1:0", "--grace", "3600"});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<std::string> ref = server->ReadLine(absl::Seconds(60));
  ASSERT_THAT(ref, IsOk()) << "bank_server printed no reference";
  Client client;
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, *ref);
  ASSERT_THAT(bank, IsOk());
  bank::Owner owner;
  owner.set_name("idle");
  ASSERT_THAT(bank->Open(owner), IsOk());
  ASSERT_EQ(kill(server->pid(), SIGTERM), 0);
  absl::StatusOr<int> exit_code = server->Wait(absl::Seconds(15));
  EXPECT_THAT(exit_code, IsOk()) << "bank_server still shutting down 15 s after SIGTERM while a "
                                    "client idled on its connection";
  if (exit_code.ok()) {
    EXPECT_EQ(*exit_code, 0);
  }
}

// bank_server on a SQLite file in write-back mode: a clean shutdown
// (SIGTERM) saves the accounts in memory, and a new server on the same
// address and file serves the old references with the old balances.
TEST(BankEndToEnd, AccountsSurviveRestartOnTheSameDatabase) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  std::vector<std::string> argv = {KORB_BANK_SERVER, "--db", dir + "/bank.db", "--write-back"};
  std::vector<std::string> first_argv = argv;
  first_argv.insert(first_argv.end(), {"--listen", "127.0.0.1:0"});
  absl::StatusOr<Subprocess> first = Subprocess::Start(first_argv);
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<std::string> ref = first->ReadLine(absl::Seconds(60));
  ASSERT_THAT(ref, IsOk()) << "bank_server printed no reference";
  std::vector<ObjectRef> accounts;
  RunBankFlow(*ref, &accounts);
  ASSERT_EQ(accounts.size(), 2u);
  int status = first->Kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;

  absl::StatusOr<Ref> parsed = Ref::Parse(*ref);
  ASSERT_THAT(parsed, IsOk());
  argv.insert(argv.end(), {"--listen", parsed->endpoints().front().ToString()});
  absl::StatusOr<Subprocess> second = Subprocess::Start(argv);
  ASSERT_THAT(second, IsOk());
  absl::StatusOr<std::string> second_ref = second->ReadLine(absl::Seconds(60));
  ASSERT_THAT(second_ref, IsOk()) << "restarted bank_server printed no reference";
  EXPECT_EQ(*second_ref, *ref) << "a persistent adapter's references are stable";

  Client client;
  EXPECT_EQ(BalanceOf(client, accounts[0]), 7000);
  EXPECT_EQ(BalanceOf(client, accounts[1]), 3000);
  // Ids continue from the stored counter: no collision with the old accounts.
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, *second_ref);
  ASSERT_THAT(bank, IsOk());
  bank::Owner owner;
  owner.set_name("carol");
  absl::StatusOr<ObjectRef> carol = bank->Open(owner);
  ASSERT_THAT(carol, IsOk());
  EXPECT_NE(carol->id(), accounts[0].id());
  EXPECT_NE(carol->id(), accounts[1].id());
  EXPECT_EQ(BalanceOf(client, *carol), 0);
}

TEST(BankEndToEnd, InProcess) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<bank::HostedBank> bank = bank::HostBank(**server, {});
  ASSERT_THAT(bank, IsOk());
  RunBankFlow(bank->bank_ref.ToString());
}

// Open() only writes a row; an account is incarnated by its first call, and
// with a cap of 2 at most 2 accounts are in memory; an evicted account comes
// back from SQLite with its balance.
TEST(BankEndToEnd, OnlyTouchedAccountsAreInMemory) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<bank::HostedBank> hosted =
      bank::HostBank(**server, {.db_path = dir + "/bank.db", .max_active = 2});
  ASSERT_THAT(hosted, IsOk());
  Client client;
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, hosted->bank_ref);
  ASSERT_THAT(bank, IsOk());
  std::vector<ObjectRef> accounts;
  for (int i = 0; i < 5; ++i) {
    bank::Owner owner;
    owner.set_name("owner");
    absl::StatusOr<ObjectRef> opened = bank->Open(owner);
    ASSERT_THAT(opened, IsOk());
    accounts.push_back(*opened);
    EXPECT_FALSE(hosted->adapter->IsActive(opened->id())) << opened->id();
  }
  absl::StatusOr<size_t> rows = hosted->store->Size();
  ASSERT_THAT(rows, IsOk());
  EXPECT_EQ(*rows, 6u);  // 5 accounts + the id counter
  for (int i = 0; i < 4; ++i) {
    bank::AccountStub account(client, accounts[i]);
    ASSERT_THAT(account.Deposit(Cents(100 * (i + 1))), IsOk());
  }
  // Eviction runs on the adapter's lifecycle thread: wait for it (bounded).
  auto active_accounts = [&] {
    int n = 0;
    for (const ObjectRef& ref : accounts) n += hosted->adapter->IsActive(ref.id()) ? 1 : 0;
    return n;
  };
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (active_accounts() > 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_LE(active_accounts(), 2);
  EXPECT_FALSE(hosted->adapter->IsActive(accounts[4].id())) << "never called";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(BalanceOf(client, accounts[i]), 100 * (i + 1));
  EXPECT_EQ(BalanceOf(client, accounts[4]), 0);
}

// Ids that name no account answer object-not-exist, including the store's
// counter row.
TEST(BankEndToEnd, UnknownAccountsDoNotExist) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<bank::HostedBank> hosted = bank::HostBank(**server, {});
  ASSERT_THAT(hosted, IsOk());
  Client client;
  for (const char* id : {"acct-99", "bank.next_account", "acct-x"}) {
    bank::AccountStub account(
        client, hosted->adapter->CreateReference(id, "bank.Account").ToProto());
    absl::StatusOr<bank::Balance> balance = account.GetBalance(Empty());
    EXPECT_THAT(balance, StatusIs(absl::StatusCode::kNotFound)) << id;
    EXPECT_EQ(ErrorKindOf(balance.status()), ErrorKind::kObjectNotExist) << id;
  }
}

}  // namespace
}  // namespace korb
