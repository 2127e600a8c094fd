// The admin object (servants/admin/) hosted with korb::admin::Serve in an
// in-process ObjectServer beside an application adapter, called through the
// generated stub over real gRPC: every operation, the validation of hostile
// input, and the errors as a client sees them.
#include "servants/admin/admin_servant.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "common/log.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/admin.korb.h"
#include "korbtest/testing.korb.h"
#include "servants/admin/admin_service.h"
#include "tests/testing/fixture_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb::admin {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith({}); }

  void StartWith(ServeOptions options) {
    absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
    ASSERT_THAT(server.status(), IsOk());
    server_ = *std::move(server);
    absl::StatusOr<ObjectAdapter*> app =
        server_->CreateAdapter("app", {.threading = ThreadingOptions::SharedPool(2)});
    ASSERT_THAT(app.status(), IsOk());
    app_ = *app;
    ASSERT_THAT(app_->Resume(), IsOk());
    absl::StatusOr<Ref> admin = Serve(*server_, std::move(options));
    ASSERT_THAT(admin.status(), IsOk());
    admin_ref_ = *admin;
    admin_ = std::make_unique<AdminStub>(client_, admin_ref_);
  }

  static AdapterRequest Adapter(const std::string& name) {
    AdapterRequest request;
    request.set_adapter(name);
    return request;
  }
  absl::StatusOr<ListObjectsReply> List(const std::string& adapter, int page_size,
                                        const std::string& token = "") {
    ListObjectsRequest request;
    request.set_adapter(adapter);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return admin_->ListObjects(request);
  }

  Client client_;
  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* app_ = nullptr;
  Ref admin_ref_;
  std::unique_ptr<AdminStub> admin_;
};

TEST_F(AdminTest, ServedAtTheWellKnownReference) {
  // korbctl builds the reference from the endpoint alone.
  absl::StatusOr<Ref> expected = AdminRef(server_->endpoints()[0].ToString());
  ASSERT_THAT(expected.status(), IsOk());
  EXPECT_EQ(admin_ref_, *expected);
  EXPECT_EQ(admin_ref_.ToString(), "korb://" + server_->endpoints()[0].ToString() +
                                       "/korb-admin/admin?type=korb.admin.Admin");
}

TEST_F(AdminTest, ServeTwiceIsAlreadyExists) {
  EXPECT_THAT(Serve(*server_).status(), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(AdminTest, ServerInfoNamesVersionEndpointsPidAndAdapters) {
  absl::StatusOr<ServerInfo> info = admin_->GetServerInfo(korb::Empty());
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_FALSE(info->korb_version().empty());
  EXPECT_THAT(info->endpoints(), ElementsAre(server_->endpoints()[0].ToString()));
  EXPECT_EQ(info->pid(), getpid());
  EXPECT_GE(info->uptime_ms(), 0);
  EXPECT_THAT(info->adapters(), ElementsAre("app", "korb-admin"));
}

TEST_F(AdminTest, ListAdaptersReportsStateAndThreading) {
  absl::StatusOr<ListAdaptersReply> reply = admin_->ListAdapters(korb::Empty());
  ASSERT_THAT(reply.status(), IsOk());
  ASSERT_EQ(reply->adapters_size(), 2);
  const AdapterInfo& app = reply->adapters(0);
  EXPECT_EQ(app.name(), "app");
  EXPECT_EQ(app.state(), ACTIVE);
  EXPECT_EQ(app.threading().policy(), "pool");
  EXPECT_EQ(app.threading().pool_threads(), 2);
  EXPECT_FALSE(app.persistent());
  const AdapterInfo& admin = reply->adapters(1);
  EXPECT_EQ(admin.name(), "korb-admin");
  EXPECT_EQ(admin.threading().policy(), "thread-per-request");
  EXPECT_TRUE(admin.persistent());
  EXPECT_EQ(admin.active_objects(), 1);
}

TEST_F(AdminTest, MetricsCountTheAdaptersCalls) {
  korbtest::EchoStub echo(client_, *app_->Activate("e", std::make_shared<testing::EchoImpl>()));
  for (int i = 0; i < 5; ++i) ASSERT_THAT(echo.Echo(testing::EchoText("hi")).status(), IsOk());
  korbtest::EchoRequest fail = testing::EchoText("no");
  fail.set_fail_code(static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_FALSE(echo.Echo(fail).ok());

  absl::StatusOr<AdapterMetrics> metrics = admin_->GetMetrics(Adapter("app"));
  ASSERT_THAT(metrics.status(), IsOk());
  EXPECT_EQ(metrics->adapter(), "app");
  EXPECT_EQ(metrics->calls(), 6);
  EXPECT_EQ(metrics->errors(), 1);
  EXPECT_EQ(metrics->latency().count(), 6);
  EXPECT_GT(metrics->latency().p99_us(), 0);
  EXPECT_GE(metrics->latency().p99_us(), metrics->latency().p50_us());
  EXPECT_EQ(metrics->threads(), 2);
  EXPECT_EQ(metrics->active_objects(), 1);
  EXPECT_GT(metrics->tlp(), 0);
}

TEST_F(AdminTest, ListObjectsPagesThroughEveryObjectInIdOrder) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_THAT(app_->Activate(absl::StrCat("obj-", 100 + i), std::make_shared<testing::EchoImpl>())
                    .status(),
                IsOk());
  }
  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ListObjectsReply> page = List("app", 10, token);
    ASSERT_THAT(page.status(), IsOk());
    ASSERT_LE(page->objects_size(), 10);
    for (const ObjectInfo& object : page->objects()) {
      ids.push_back(object.id());
      EXPECT_EQ(object.type(), "korbtest.Echo");
      // The reference a client would be given (with the transient adapter's tag).
      absl::StatusOr<Ref> ref = Ref::FromProto(object.ref());
      ASSERT_THAT(ref.status(), IsOk());
      EXPECT_EQ(*ref, app_->CreateReference(object.id(), "korbtest.Echo"));
    }
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(ids.front(), "obj-100");
  EXPECT_EQ(ids.back(), "obj-124");
}

// Incarnates an Echo for any id.
class EchoActivator : public ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<Servant>> Incarnate(absl::string_view) override {
    return std::make_shared<testing::EchoImpl>();
  }
};

TEST_F(AdminTest, ListObjectsShowsIncarnatedObjects) {
  // Objects a servant activator brought in are in the map too, with their type.
  ASSERT_THAT(app_->SetServantActivator(std::make_shared<EchoActivator>()), IsOk());
  korbtest::EchoStub echo(client_, app_->CreateReference("lazy", "korbtest.Echo"));
  ASSERT_THAT(echo.Echo(testing::EchoText("wake up")).status(), IsOk());
  absl::StatusOr<ListObjectsReply> page = List("app", 10);
  ASSERT_THAT(page.status(), IsOk());
  ASSERT_EQ(page->objects_size(), 1);
  EXPECT_EQ(page->objects(0).id(), "lazy");
  EXPECT_EQ(page->objects(0).type(), "korbtest.Echo");
  EXPECT_TRUE(page->next_page_token().empty());
}

TEST_F(AdminTest, ListObjectsDefaultPageIsAHundred) {
  for (int i = 0; i < 150; ++i) {
    ASSERT_THAT(
        app_->Activate(absl::StrCat("o", 1000 + i), std::make_shared<testing::EchoImpl>()).status(),
        IsOk());
  }
  absl::StatusOr<ListObjectsReply> page = List("app", 0);
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_EQ(page->objects_size(), 100);
  EXPECT_FALSE(page->next_page_token().empty());
}

TEST_F(AdminTest, HostileInputIsRefusedAsBadRequest) {
  // Each is INVALID_ARGUMENT with korb-error bad-request, and the server serves on.
  for (const std::string& name : {std::string(), std::string(257, 'a')}) {
    absl::StatusOr<AdapterInfo> info = admin_->GetAdapter(Adapter(name));
    EXPECT_THAT(info.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << name.size();
    EXPECT_EQ(ErrorKindOf(info.status()), ErrorKind::kBadRequest);
  }
  EXPECT_THAT(List("app", -1).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(List("app", 1001).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(List("app", 10, "!!not base64!!").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(List("app", 10, std::string(5000, 'A')).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ShutdownAdapterRequest shutdown;
  shutdown.set_adapter("app");
  shutdown.set_grace_ms(-1);
  EXPECT_THAT(admin_->ShutdownAdapter(shutdown).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("grace_ms")));
  shutdown.set_grace_ms(600001);
  EXPECT_THAT(admin_->ShutdownAdapter(shutdown).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(app_->state(), korb::AdapterState::kActive);
  EXPECT_THAT(admin_->GetServerInfo(korb::Empty()).status(), IsOk());
}

TEST_F(AdminTest, UnknownAdapterIsNotFound) {
  EXPECT_THAT(admin_->GetMetrics(Adapter("nope")).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(admin_->Hold(Adapter("nope")).status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AdminTest, HoldDiscardResumeChangeTheAdaptersState) {
  absl::StatusOr<AdapterInfo> info = admin_->Hold(Adapter("app"));
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->state(), HOLDING);
  EXPECT_EQ(app_->state(), korb::AdapterState::kHolding);
  EXPECT_THAT(admin_->Hold(Adapter("app")).status(), IsOk());  // idempotent
  info = admin_->Discard(Adapter("app"));
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->state(), DISCARDING);
  info = admin_->Resume(Adapter("app"));
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->state(), ACTIVE);
}

TEST_F(AdminTest, CallHeldByAdminHoldRunsAfterResume) {
  korbtest::EchoStub echo(client_, *app_->Activate("e", std::make_shared<testing::EchoImpl>()));
  ASSERT_THAT(admin_->Hold(Adapter("app")).status(), IsOk());
  absl::Notification answered;
  absl::StatusOr<korbtest::EchoReply> reply;
  std::thread caller([&] {
    reply = echo.Echo(testing::EchoText("held"));
    answered.Notify();
  });
  // The call waits in the adapter's hold queue: the admin object sees it.
  bool seen_held = false;
  for (absl::Time deadline = absl::Now() + absl::Seconds(30); absl::Now() < deadline;) {
    absl::StatusOr<AdapterMetrics> metrics = admin_->GetMetrics(Adapter("app"));
    ASSERT_THAT(metrics.status(), IsOk());
    if (metrics->held_calls() == 1) {
      seen_held = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(seen_held) << "the call was not held within 30 s";
  EXPECT_FALSE(answered.HasBeenNotified());
  ASSERT_THAT(admin_->Resume(Adapter("app")).status(), IsOk());
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "the held call did not complete within 30 s of Resume";
  caller.join();
  ASSERT_THAT(reply.status(), IsOk());
  EXPECT_EQ(reply->text(), "held");
}

TEST_F(AdminTest, OwnAdapterCannotBeHeldDiscardedOrShutDown) {
  EXPECT_THAT(admin_->Hold(Adapter("korb-admin")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(admin_->Discard(Adapter("korb-admin")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ShutdownAdapterRequest shutdown;
  shutdown.set_adapter("korb-admin");
  EXPECT_THAT(admin_->ShutdownAdapter(shutdown).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(admin_->GetServerInfo(korb::Empty()).status(), IsOk());
}

TEST_F(AdminTest, ShutdownAdapterDrainsAndRefusesLaterCalls) {
  korbtest::EchoStub echo(client_, *app_->Activate("e", std::make_shared<testing::EchoImpl>()));
  ShutdownAdapterRequest shutdown;
  shutdown.set_adapter("app");
  shutdown.set_grace_ms(2000);
  absl::StatusOr<ShutdownAdapterReply> reply = admin_->ShutdownAdapter(shutdown);
  ASSERT_THAT(reply.status(), IsOk());
  EXPECT_TRUE(reply->drained());
  EXPECT_EQ(app_->state(), korb::AdapterState::kInactive);
  EXPECT_THAT(echo.Echo(testing::EchoText("late")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(admin_->ShutdownAdapter(shutdown).status(), IsOk());  // idempotent
  EXPECT_THAT(admin_->Resume(Adapter("app")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AdminTest, ShutdownServerWithoutHookIsRefused) {
  EXPECT_THAT(admin_->ShutdownServer(ShutdownServerRequest()).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("remote shutdown")));
}

TEST_F(AdminTest, ShutdownServerCallsTheProgramsHookWithTheGrace) {
  server_.reset();
  absl::Duration asked = absl::ZeroDuration();
  absl::Notification called;
  StartWith({.on_shutdown = [&](absl::Duration grace) {
    asked = grace;
    called.Notify();
  }});
  ShutdownServerRequest request;
  request.set_grace_ms(1500);
  ASSERT_THAT(admin_->ShutdownServer(request).status(), IsOk());
  ASSERT_TRUE(called.HasBeenNotified());
  EXPECT_EQ(asked, absl::Milliseconds(1500));
}

// ServeOptions::access puts the admin object behind access control: here
// only readonly operations for everyone, the rest for "cn:operator" (whom
// this plaintext, certificate-less caller is not).
TEST_F(AdminTest, AccessPolicyGuardsTheAdminObject) {
  server_->Shutdown();
  ServeOptions options;
  options.access.callers = {"cn:operator"};
  options.access.readonly_callers = {"*"};
  StartWith(std::move(options));
  EXPECT_THAT(admin_->GetServerInfo(korb::Empty()).status(), IsOk());
  absl::StatusOr<AdapterInfo> held = admin_->Hold(Adapter("app"));
  EXPECT_THAT(held.status(), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorKindOf(held.status()), ErrorKind::kPermissionDenied);
  EXPECT_EQ(app_->state(), korb::AdapterState::kActive) << "a denied call ran";
}

// The level of `component` in a GetLogLevel/SetLogLevel reply, or "".
std::string LevelOf(const LogLevel& reply, const std::string& component) {
  for (const ComponentLogLevel& entry : reply.components()) {
    if (entry.component() == component) return entry.level();
  }
  return "";
}

TEST_F(AdminTest, LogLevelsAreReadAndSetPerComponent) {
  const absl::StatusOr<korb::LogLevel> adapter_before = korb::GetLogLevel("adapter");
  const absl::StatusOr<korb::LogLevel> client_before = korb::GetLogLevel("client");
  ASSERT_THAT(adapter_before, IsOk());
  ASSERT_THAT(client_before, IsOk());

  absl::StatusOr<LogLevel> levels = admin_->GetLogLevel(korb::Empty());
  ASSERT_THAT(levels, IsOk());
  EXPECT_EQ(levels->components_size(), static_cast<int>(std::size(kLogComponents)));
  EXPECT_EQ(LevelOf(*levels, "adapter"), LogLevelName(*adapter_before));

  LogLevel request;
  request.set_component("adapter");
  request.set_level("trace");
  absl::StatusOr<LogLevel> set = admin_->SetLogLevel(request);
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ(LevelOf(*set, "adapter"), "trace");
  EXPECT_EQ(*korb::GetLogLevel("adapter"), korb::LogLevel::kTrace);
  EXPECT_EQ(*korb::GetLogLevel("client"), *client_before) << "only the named component changes";

  request.set_component("no-such-component");
  EXPECT_THAT(admin_->SetLogLevel(request).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  request.set_component("adapter");
  request.set_level("loud");
  EXPECT_THAT(admin_->SetLogLevel(request).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(*korb::GetLogLevel("adapter"), korb::LogLevel::kTrace) << "a bad request changes nothing";

  ASSERT_THAT(korb::SetLogLevel("adapter", *adapter_before), IsOk());
}

}  // namespace
}  // namespace korb::admin
