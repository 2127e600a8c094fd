// The bank flow end to end: over TCP between separate processes (the
// bank_server and bank_client binaries, and this test as a client of
// bank_server), and in one process.
#include <signal.h>

#include <memory>
#include <string>

#include "adapter/object_server.h"
#include "bank/bank.korb.h"
#include "bank/bank_servants.h"
#include "client/client.h"
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

// Opens two accounts through `bank_ref`, moves money, checks every result.
void RunBankFlow(const std::string& bank_ref) {
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

TEST(BankEndToEnd, InProcess) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<ObjectAdapter*> adapter = (*server)->CreateAdapter("bank");
  ASSERT_THAT(adapter, IsOk());
  absl::StatusOr<Ref> bank = (*adapter)->Activate("main", std::make_shared<bank::BankImpl>());
  ASSERT_THAT(bank, IsOk());
  RunBankFlow(bank->ToString());
}

}  // namespace
}  // namespace korb
