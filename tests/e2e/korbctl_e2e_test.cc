// korbctl against a real bank_server, each in its own process: calls with
// JSON through server reflection, ls, stats, services, hold/resume observed
// by a bank client (its call, held while the adapter holds, completes after
// resume), remote shutdown, and the documented exit codes for bad
// references, unreachable servers, unknown interfaces and operations, bad
// JSON, and servers without an admin object.
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "bank/bank.korb.h"
#include "client/client.h"
#include "common/ref.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::Subprocess;
using ::testing::HasSubstr;

struct Outcome {
  int code = -1;
  std::string out;
};

// Runs korbctl with `args` to its end (bounded: 60 s).
Outcome Korbctl(std::vector<std::string> args) {
  args.insert(args.begin(), KORB_KORBCTL);
  Outcome run;
  absl::StatusOr<Subprocess> process = Subprocess::Start(args);
  EXPECT_THAT(process.status(), IsOk());
  if (!process.ok()) return run;
  absl::StatusOr<std::string> out = process->ReadAll(absl::Seconds(60));
  EXPECT_THAT(out.status(), IsOk()) << "korbctl did not finish within 60 s";
  if (out.ok()) run.out = *out;
  absl::StatusOr<int> code = process->Wait(absl::Seconds(60));
  EXPECT_THAT(code.status(), IsOk());
  if (code.ok()) run.code = *code;
  return run;
}

// An endpoint where nothing listens (port 1 needs root to bind; no test binds it).
std::string UnusedEndpoint() { return "127.0.0.1:1"; }

class KorbctlTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBank({"--admin"}); }

  void StartBank(std::vector<std::string> flags) {
    std::vector<std::string> argv = {KORB_BANK_SERVER, "--listen", "127.0.0.1:0", "--threads", "4"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<Subprocess> server = Subprocess::Start(argv);
    ASSERT_THAT(server.status(), IsOk());
    server_.emplace(*std::move(server));
    absl::StatusOr<std::string> line = server_->ReadLine(absl::Seconds(60));
    ASSERT_THAT(line.status(), IsOk()) << "bank_server printed no reference within 60 s";
    bank_ref_ = *line;
    absl::StatusOr<Ref> ref = Ref::Parse(bank_ref_);
    ASSERT_THAT(ref.status(), IsOk());
    endpoint_ = ref->endpoints()[0].ToString();
  }

  // Opens an account through korbctl; its reference.
  std::string Open(const std::string& owner) {
    Outcome run =
        Korbctl({"call", bank_ref_, "Open", absl::StrCat(R"({"name":")", owner, R"("})")});
    EXPECT_EQ(run.code, 0) << run.out;
    return std::string(absl::StripAsciiWhitespace(run.out));
  }

  // held_calls of adapter "bank", from `korbctl stats --json`.
  int HeldCalls() {
    Outcome run = Korbctl({"--json", "stats", endpoint_, "bank"});
    EXPECT_EQ(run.code, 0) << run.out;
    // int64 fields print as JSON strings.
    if (absl::StrContains(run.out, R"("heldCalls":"1")")) return 1;
    return absl::StrContains(run.out, R"("heldCalls":"0")") ? 0 : -1;
  }

  std::optional<Subprocess> server_;
  std::string bank_ref_;
  std::string endpoint_;
};

TEST_F(KorbctlTest, CallsOperationsWithJson) {
  std::string account = Open("alice");
  ASSERT_TRUE(absl::StartsWith(account, "korb://")) << account;
  EXPECT_THAT(account, HasSubstr("type=bank.Account"));
  Outcome deposit = Korbctl({"call", account, "Deposit", R"({"cents": 2550})"});
  EXPECT_EQ(deposit.code, 0);
  EXPECT_THAT(deposit.out, HasSubstr(R"("cents":"2550")"));
  Outcome balance =
      Korbctl({"call", account, "GetBalance", "--deadline", "20s", "--priority", "5"});
  EXPECT_EQ(balance.code, 0);
  EXPECT_THAT(balance.out, HasSubstr(R"("cents":"2550")"));
  // An error of the operation itself is exit code 1, with its status.
  Outcome overdraw = Korbctl({"call", account, "Withdraw", R"({"cents": 100000})"});
  EXPECT_EQ(overdraw.code, 1);
}

TEST_F(KorbctlTest, ServicesListsTheBanksInterfaces) {
  Outcome run = Korbctl({"services", endpoint_});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("bank.Bank\n"));
  EXPECT_THAT(run.out, HasSubstr("bank.Account\n"));
  EXPECT_THAT(run.out, HasSubstr("korb.admin.Admin\n"));
}

TEST_F(KorbctlTest, LsListsAdaptersAndObjects) {
  Outcome adapters = Korbctl({"ls", endpoint_});
  EXPECT_EQ(adapters.code, 0);
  EXPECT_THAT(adapters.out, HasSubstr("ADAPTER"));
  EXPECT_THAT(adapters.out, HasSubstr("korb-admin"));
  EXPECT_THAT(adapters.out, HasSubstr("active"));
  std::string account = Open("bob");
  absl::StatusOr<Ref> ref = Ref::Parse(account);
  ASSERT_THAT(ref.status(), IsOk());
  // Accounts are incarnated by their first call, not by Open.
  EXPECT_EQ(Korbctl({"call", account, "GetBalance"}).code, 0);
  Outcome objects = Korbctl({"ls", endpoint_, ref->adapter()});
  EXPECT_EQ(objects.code, 0);
  EXPECT_THAT(objects.out, HasSubstr(ref->id()));
  EXPECT_THAT(objects.out, HasSubstr("bank.Account"));
  Outcome json = Korbctl({"--json", "ls", endpoint_});
  EXPECT_EQ(json.code, 0);
  EXPECT_THAT(json.out, HasSubstr(R"("name":"korb-admin")"));
}

TEST_F(KorbctlTest, StatsCountCallsAndWatchRepeats) {
  Open("carol");
  Outcome stats = Korbctl({"stats", endpoint_});
  EXPECT_EQ(stats.code, 0);
  EXPECT_THAT(stats.out, HasSubstr("P99_US"));
  EXPECT_THAT(stats.out, HasSubstr("bank"));
  Outcome watch =
      Korbctl({"--json", "stats", endpoint_, "korb-admin", "--watch", "0.2", "--count", "3"});
  EXPECT_EQ(watch.code, 0);
  std::vector<std::string> lines = absl::StrSplit(watch.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u) << watch.out;
}

TEST_F(KorbctlTest, HeldCallOfABankClientCompletesAfterResume) {
  Client client;
  absl::StatusOr<bank::BankStub> bank = MakeStub<bank::BankStub>(client, bank_ref_);
  ASSERT_THAT(bank.status(), IsOk());
  Outcome hold = Korbctl({"adapter", "hold", endpoint_, "bank"});
  EXPECT_EQ(hold.code, 0);
  EXPECT_THAT(hold.out, HasSubstr("bank: holding"));

  absl::Notification answered;
  absl::StatusOr<ObjectRef> opened;
  std::thread caller([&] {
    bank::Owner owner;
    owner.set_name("held");
    CallOptions options;
    options.timeout = absl::Seconds(120);
    opened = bank->Open(owner, options);
    answered.Notify();
  });
  bool held = false;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60); !held && absl::Now() < deadline;) {
    held = HeldCalls() == 1;
    if (!held) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(held) << "the bank client's call was not held within 60 s";
  EXPECT_FALSE(answered.HasBeenNotified()) << "the call ran while the adapter held";

  Outcome resume = Korbctl({"adapter", "resume", endpoint_, "bank"});
  EXPECT_EQ(resume.code, 0);
  EXPECT_THAT(resume.out, HasSubstr("bank: active"));
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(120)))
      << "the held call did not complete within 120 s of resume";
  caller.join();
  EXPECT_THAT(opened.status(), IsOk());
}

TEST_F(KorbctlTest, ShutdownStopsTheServerProgram) {
  Outcome run = Korbctl({"shutdown", endpoint_, "--grace-ms", "1000"});
  EXPECT_EQ(run.code, 0);
  absl::StatusOr<int> code = server_->Wait(absl::Seconds(60));
  ASSERT_THAT(code.status(), IsOk()) << "bank_server did not exit within 60 s";
  EXPECT_EQ(*code, 0);
}

TEST_F(KorbctlTest, ExitCodesForBadInput) {
  // 2: usage — no command, bad reference, unknown interface or operation, bad JSON.
  EXPECT_EQ(Korbctl({}).code, 2);
  EXPECT_EQ(Korbctl({"call", "korb://nonsense", "Open"}).code, 2);
  EXPECT_EQ(Korbctl({"ls", "not an endpoint"}).code, 2);
  std::string unknown_type = absl::StrReplaceAll(bank_ref_, {{"bank.Bank", "bank.Vault"}});
  EXPECT_EQ(Korbctl({"call", unknown_type, "Open"}).code, 2);
  EXPECT_EQ(Korbctl({"call", bank_ref_, "Close", "{}"}).code, 2);
  EXPECT_EQ(Korbctl({"call", bank_ref_, "Open", "{not json"}).code, 2);
  EXPECT_EQ(Korbctl({"call", bank_ref_, "Open", R"({"no_such_field": 1})"}).code, 2);
  EXPECT_EQ(Korbctl({"adapter", "explode", endpoint_, "bank"}).code, 2);
  // 1: the server answered with an error (no such adapter).
  EXPECT_EQ(Korbctl({"adapter", "hold", endpoint_, "no-such-adapter"}).code, 1);
  // 3: unreachable.
  EXPECT_EQ(Korbctl({"--timeout", "3s", "ping", UnusedEndpoint()}).code, 3);
  EXPECT_EQ(Korbctl({"--timeout", "3s", "stats", UnusedEndpoint()}).code, 3);
  EXPECT_EQ(Korbctl({"--timeout", "3s", "call",
                     absl::StrCat("korb://", UnusedEndpoint(), "/bank/main?type=bank.Bank"), "Open",
                     "{}"})
                .code,
            3);
  // And the server served on.
  EXPECT_EQ(Korbctl({"ping", endpoint_}).code, 0);
}

TEST(KorbctlWithoutAdmin, SaysTheServerHostsNoAdminObject) {
  absl::StatusOr<Subprocess> server =
      Subprocess::Start({KORB_BANK_SERVER, "--listen", "127.0.0.1:0"});
  ASSERT_THAT(server.status(), IsOk());
  absl::StatusOr<std::string> line = server->ReadLine(absl::Seconds(60));
  ASSERT_THAT(line.status(), IsOk());
  absl::StatusOr<Ref> ref = Ref::Parse(*line);
  ASSERT_THAT(ref.status(), IsOk());
  Outcome ls = Korbctl({"ls", ref->endpoints()[0].ToString()});
  EXPECT_EQ(ls.code, 1);
  Outcome ping = Korbctl({"ping", *line});
  // Reachable; within its start-up window the server calls the missing
  // adapter "not created yet", after it object-not-exist.
  EXPECT_EQ(ping.code, 0);
  EXPECT_THAT(ping.out, HasSubstr("ok (no admin object"));
  // Calls need no admin object: reflection is on every server.
  Outcome call = Korbctl({"call", *line, "Open", R"({"name":"dave"})"});
  EXPECT_EQ(call.code, 0);
}

TEST(KorbctlNaming, ResolvesListsAndCallsByName) {
  absl::StatusOr<Subprocess> naming = Subprocess::Start({KORB_NAMING_SERVER});
  ASSERT_THAT(naming.status(), IsOk());
  absl::StatusOr<std::string> naming_ref = naming->ReadLine(absl::Seconds(60));
  ASSERT_THAT(naming_ref.status(), IsOk()) << "korb-naming printed no reference within 60 s";
  absl::StatusOr<Subprocess> bank =
      Subprocess::Start({KORB_BANK_SERVER, "--listen", "127.0.0.1:0", "--naming", *naming_ref,
                         "--name", "shop/bank"});
  ASSERT_THAT(bank.status(), IsOk());
  absl::StatusOr<std::string> bank_ref = bank->ReadLine(absl::Seconds(60));
  ASSERT_THAT(bank_ref.status(), IsOk());

  Outcome resolved = Korbctl({"resolve", *naming_ref, "shop/bank"});
  EXPECT_EQ(resolved.code, 0);
  EXPECT_EQ(absl::StripAsciiWhitespace(resolved.out), *bank_ref);
  Outcome names = Korbctl({"names", *naming_ref, "shop"});
  EXPECT_EQ(names.code, 0);
  EXPECT_THAT(names.out, HasSubstr("shop/bank"));
  EXPECT_EQ(Korbctl({"resolve", *naming_ref, "shop/none"}).code, 1);
  EXPECT_EQ(Korbctl({"resolve", *naming_ref, "bad//name"}).code, 1);
  // An indirect reference: resolved for the descriptors, called by name.
  absl::StatusOr<Ref> naming_parsed = Ref::Parse(*naming_ref);
  ASSERT_THAT(naming_parsed.status(), IsOk());
  Outcome call = Korbctl({"call",
                          absl::StrCat("korbname://", naming_parsed->endpoints()[0].ToString(),
                                       "/shop/bank?type=bank.Bank"),
                          "Open", R"({"name":"erin"})"});
  EXPECT_EQ(call.code, 0);
  EXPECT_THAT(call.out, HasSubstr("type=bank.Account"));
}

}  // namespace
}  // namespace korb
