// The korb-naming program (tools/korb-naming) as a user runs it: its
// reference on the first line, --print-ref, a clean exit on SIGTERM, and
// bad flags refused with the usage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "tests/naming/naming_processes.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace korb::naming {
namespace {

using ::korb::naming::testing::FreePort;
using ::korb::naming::testing::Local;
using ::korb::naming::testing::RefProcess;
using ::korb::naming::testing::StartWithRef;
using ::korb::testing::IsOk;
using ::korb::testing::Subprocess;

TEST(KorbNaming, PrintsItsReferenceAndServesUntilSigterm) {
  const int port = FreePort();
  const std::string file = ::testing::TempDir() + "/korb-naming-ref-" + std::to_string(getpid());
  absl::StatusOr<RefProcess> naming =
      StartWithRef(KORB_NAMING_SERVER, {"--listen", Local(port), "--print-ref", file});
  ASSERT_THAT(naming, IsOk());
  EXPECT_EQ(naming->ref.ToString(), "korb://127.0.0.1:" + std::to_string(port) +
                                        "/korb-naming/root?type=korb.naming.NamingContext");
  std::ifstream in(file);
  std::string written;
  std::getline(in, written);
  EXPECT_EQ(written, naming->ref.ToString());
  std::remove(file.c_str());
  // It answers, in memory, with no other set-up.
  Client client;
  NamingContextStub stub(client, naming->ref);
  BindRequest bind;
  bind.set_name("bank");
  *bind.mutable_ref() = Ref::Parse("korb://127.0.0.1:7000/bank/main?type=bank.Bank")->ToProto();
  EXPECT_THAT(stub.Bind(bind, {.timeout = absl::Seconds(10)}), IsOk());
  const int status = naming->process.Kill(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << "wait status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(KorbNaming, RefusesBadFlagsWithItsUsage) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--bogus"}, {"--lease-ttl", "0"}, {"--lease-ttl", "x"},
        {"--listen"}, {"--etcd", "no-port"}}) {
    std::vector<std::string> argv = {KORB_NAMING_SERVER};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<Subprocess> process = Subprocess::Start(argv);
    ASSERT_THAT(process, IsOk());
    absl::StatusOr<int> code = process->Wait(absl::Seconds(30));
    ASSERT_THAT(code, IsOk()) << args.front();
    EXPECT_NE(*code, 0) << args.front();
  }
}

}  // namespace
}  // namespace korb::naming
