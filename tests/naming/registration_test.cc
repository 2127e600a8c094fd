// Registration (servants/naming/registration.h) against an in-process naming
// service: input checks, states, re-registration after the lease is lost,
// and unregistration on Stop(). Across processes: registration_e2e_test.cc.
#include "servants/naming/registration.h"

#include <memory>
#include <string>

#include "adapter/object_server.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "servants/naming/memory_backend.h"
#include "servants/naming/naming_service.h"
#include "tests/naming/naming_processes.h"
#include "tests/naming/naming_test_util.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::naming::testing::Eventually;
using ::korb::naming::testing::FreePort;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

const Ref kObject = *Ref::Parse("korb://127.0.0.1:7000/bank/main?type=bank.Bank");

class RegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(service_.Start(), IsOk());
    naming_ = service_.ref;
    backend_ = service_.backend.get();
  }

  Client client_;
  ::korb::naming::testing::InProcessNaming service_;
  Ref naming_;
  MemoryBackend* backend_ = nullptr;  // service_'s
};

TEST_F(RegistrationTest, RejectsBadEntriesUpfront) {
  EXPECT_THAT(Registration::Start(client_, naming_, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Registration::Start(client_, naming_, {{"bad//name", kObject}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad//name")));
  EXPECT_THAT(Registration::Start(client_, naming_, {{"bank", Ref()}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference")));
  EXPECT_THAT(Registration::Start(client_, naming_, {{"bank", kObject}}, {.ttl_seconds = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  EXPECT_THAT(Registration::Start(client_, Ref(), {{"bank", kObject}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("naming")));
}

TEST_F(RegistrationTest, RegistersUnderALeaseAndUnregistersOnStop) {
  absl::StatusOr<std::unique_ptr<Registration>> registration =
      Registration::Start(client_, naming_, {{"bank", kObject}});
  ASSERT_THAT(registration, IsOk());
  ASSERT_TRUE((*registration)->WaitUntilRegistered(absl::Seconds(30)));
  absl::StatusOr<Binding> binding = backend_->Get("bank");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).member_id(), "127.0.0.1:7000/bank");  // the default
  EXPECT_GT(binding->members(0).lease(), 0);
  (*registration)->Stop();
  EXPECT_EQ((*registration)->state(), RegistrationState::kStopped);
  EXPECT_THAT(backend_->Get("bank"), StatusIs(absl::StatusCode::kNotFound));
  (*registration)->Stop();  // idempotent
}

TEST_F(RegistrationTest, LostLeaseIsReplacedAndEntriesJoinAgain) {
  absl::StatusOr<std::unique_ptr<Registration>> registration =
      Registration::Start(client_, naming_, {{"bank", kObject, "m1"}}, {.ttl_seconds = 3});
  ASSERT_THAT(registration, IsOk());
  ASSERT_TRUE((*registration)->WaitUntilRegistered(absl::Seconds(30)));
  // The service forgets the lease (as after a restart).
  ASSERT_THAT(backend_->RevokeLease(backend_->Get("bank")->members(0).lease()), IsOk());
  EXPECT_TRUE(Eventually(absl::Seconds(30), [&] { return backend_->Get("bank").ok(); }))
      << "not registered again within 30 s";
  EXPECT_EQ((*registration)->registrations(), 2);
}

TEST_F(RegistrationTest, UnreachableNamingServiceIsRetriedWithoutBlocking) {
  const Ref nowhere(std::string(NamingContextStub::kInterfaceName),
                    {{"127.0.0.1", static_cast<uint16_t>(FreePort())}}, "korb-naming", "root");
  absl::StatusOr<std::unique_ptr<Registration>> registration =
      Registration::Start(client_, nowhere, {{"bank", kObject}});
  ASSERT_THAT(registration, IsOk());
  EXPECT_TRUE(Eventually(absl::Seconds(30), [&] {
    return (*registration)->state() == RegistrationState::kRetrying;
  }));
  EXPECT_THAT((*registration)->last_error(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE((*registration)->WaitUntilRegistered(absl::Milliseconds(300)));
  (*registration)->Stop();  // returns although nothing was ever registered
  EXPECT_EQ((*registration)->state(), RegistrationState::kStopped);
}

TEST(RegistrationState, HasNames) {
  EXPECT_EQ(RegistrationStateName(RegistrationState::kRetrying), "retrying");
  EXPECT_EQ(RegistrationStateName(RegistrationState::kStopped), "stopped");
}

}  // namespace
}  // namespace korb::naming
