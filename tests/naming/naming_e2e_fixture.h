// The fixture the naming end-to-end tests share: registered_server processes
// (KORB_REGISTERED_SERVER, defined by the test's CMake target) and
// resolution through a Client of the test process.
//
// Thread-compatible (tests drive it from their main thread).
#ifndef KORB_TESTS_NAMING_NAMING_E2E_FIXTURE_H_
#define KORB_TESTS_NAMING_NAMING_E2E_FIXTURE_H_

#include <string>
#include <utility>

#include "client/client.h"
#include "gtest/gtest.h"
#include "korb/naming.pb.h"
#include "tests/naming/naming_processes.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming::testing {

class NamingE2eFixture : public ::testing::Test {
 protected:
  // Starts a registered_server registering under `name` in `naming`.
  RefProcess StartServer(const Ref& naming, const std::string& name, int ttl = 5) {
    absl::StatusOr<RefProcess> server =
        StartRegisteredServer(KORB_REGISTERED_SERVER, naming, name, ttl);
    EXPECT_TRUE(server.ok()) << server.status();
    return *std::move(server);
  }
  static void ExpectRegistered(RefProcess& server) {
    const absl::Status status = AwaitRegistered(server);
    ASSERT_TRUE(status.ok()) << status;
  }
  absl::StatusOr<ResolveReply> Resolve(const Ref& naming, const std::string& name) {
    return ResolveName(client_, naming, name);
  }
  bool IsUnbound(const Ref& naming, const std::string& name) {
    return testing::IsUnbound(client_, naming, name);
  }

  Client client_;
};

}  // namespace korb::naming::testing

#endif  // KORB_TESTS_NAMING_NAMING_E2E_FIXTURE_H_
