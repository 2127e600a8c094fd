// Transient and persistent references across a server restart, between
// processes: lifespan_server runs twice on one port (the first killed with
// SIGKILL), and this test calls the references the first one printed.
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/wire.h"
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

constexpr absl::Duration kStartTimeout = absl::Seconds(60);

// A started lifespan_server and the two references it printed.
struct Server {
  Subprocess process;
  std::string transient_ref;
  std::string persistent_ref;
};

absl::StatusOr<Server> StartServer(const std::string& listen) {
  absl::StatusOr<Subprocess> process =
      Subprocess::Start({KORB_LIFESPAN_SERVER, "--listen", listen});
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> transient = process->ReadLine(kStartTimeout);
  if (!transient.ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "lifespan_server on ", listen, " printed no reference: ", transient.status().ToString()));
  }
  absl::StatusOr<std::string> persistent = process->ReadLine(kStartTimeout);
  if (!persistent.ok()) return persistent.status();
  return Server{*std::move(process), *transient, *persistent};
}

absl::StatusOr<korbtest::EchoReply> CallEcho(Client& client, const std::string& ref) {
  absl::StatusOr<korbtest::EchoStub> stub = MakeStub<korbtest::EchoStub>(client, ref);
  if (!stub.ok()) return stub.status();
  korbtest::EchoRequest request;
  request.set_text("hello");
  return stub->Echo(request, {.timeout = absl::Seconds(30)});
}

std::string Origin(const Subprocess& process, int incarnation) {
  return absl::StrCat("pid ", process.pid(), " incarnation ", incarnation);
}

// The first server's transient reference dies with it; its persistent
// reference is served by the second server, whose activator incarnates the
// object on the first call.
TEST(LifespanEndToEnd, PersistentReferencesSurviveRestartTransientOnesDoNot) {
  absl::StatusOr<Server> first = StartServer("127.0.0.1:0");
  ASSERT_THAT(first, IsOk());
  absl::StatusOr<Ref> parsed = Ref::Parse(first->persistent_ref);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->endpoints().size(), 1u);
  const std::string address = parsed->endpoints().front().ToString();
  ASSERT_NE(first->transient_ref, first->persistent_ref);
  {
    Client client;
    absl::StatusOr<korbtest::EchoReply> transient = CallEcho(client, first->transient_ref);
    ASSERT_THAT(transient, IsOk());
    absl::StatusOr<korbtest::EchoReply> persistent = CallEcho(client, first->persistent_ref);
    ASSERT_THAT(persistent, IsOk());
    // One activator serves both adapters: two incarnations of "obj-1".
    EXPECT_EQ(transient->text(), Origin(first->process, 1));
    EXPECT_EQ(persistent->text(), Origin(first->process, 2));
  }

  // A crash, then a new process on the same address.
  first->process.Kill(SIGKILL);
  absl::StatusOr<Server> second = StartServer(address);
  ASSERT_THAT(second, IsOk()) << "could not restart on " << address;
  EXPECT_EQ(second->persistent_ref, first->persistent_ref);
  EXPECT_NE(second->transient_ref, first->transient_ref) << "a new instance tag was expected";

  {  // the client goes before the server: see the SIGTERM below
    Client client;
    absl::StatusOr<korbtest::EchoReply> stale = CallEcho(client, first->transient_ref);
    EXPECT_THAT(stale, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(ErrorKindOf(stale.status()), ErrorKind::kObjectNotExist) << stale.status();

    absl::StatusOr<korbtest::EchoReply> survived = CallEcho(client, first->persistent_ref);
    ASSERT_THAT(survived, IsOk());
    EXPECT_EQ(survived->object_id(), "obj-1");
    // Stale transient calls never reach the activator, so this is the new
    // process's first incarnation.
    EXPECT_EQ(survived->text(), Origin(second->process, 1));

    // The new transient reference works, as a reference from the new instance.
    absl::StatusOr<korbtest::EchoReply> fresh = CallEcho(client, second->transient_ref);
    ASSERT_THAT(fresh, IsOk());
    EXPECT_EQ(fresh->text(), Origin(second->process, 2));
  }

  // A clean shutdown. (With a Client that called this server still alive,
  // the server's shutdown took its whole 5 s grace period.)
  int status = second->process.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

}  // namespace
}  // namespace korb
