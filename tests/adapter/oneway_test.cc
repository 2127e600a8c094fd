// Oneway operations ((korb.method).oneway) over real gRPC, with Korb's
// stubs: the server answers once it accepted the call, before the servant
// runs, so the stub returns while the operation is still to run; the
// operation still runs under the threading policy, its errors are logged and
// not returned, and its reply is never cached.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "adapter/object_adapter.h"
#include "adapter/servant_manager.h"
#include "client/client.h"
#include "common/sync.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;

constexpr absl::Duration kDeadline = absl::Seconds(30);

// Appends each post's text; a post with text "block" first waits until
// Release() (at most kDeadline). A post with fail_code fails with it.
class GatedSink : public korbtest::SinkServant {
 public:
  absl::StatusOr<Empty> Post(CallContext&, const korbtest::EchoRequest& request) override {
    {
      MutexLock lock(&mu_);
      ++running_;
    }
    if (request.text() == "block") released_.WaitForNotificationWithTimeout(kDeadline);
    MutexLock lock(&mu_);
    --running_;
    posted_ += request.text();
    if (request.fail_code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(request.fail_code()), "post failed");
    }
    return Empty();
  }
  absl::StatusOr<korbtest::EchoReply> Posted(CallContext&, const Empty&) override {
    korbtest::EchoReply reply;
    reply.set_text(posted());
    return reply;
  }

  void Release() { released_.Notify(); }
  std::string posted() const {
    MutexLock lock(&mu_);
    return posted_;
  }
  // Waits until a post is inside Post(); false after kDeadline.
  bool AwaitRunning() const {
    MutexLock lock(&mu_);
    auto running = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ > 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&running), kDeadline);
  }
  bool AwaitPosted(const std::string& text) const {
    MutexLock lock(&mu_);
    auto done = [this, &text]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return posted_ == text; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kDeadline);
  }

 private:
  Notification released_;
  mutable Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::string posted_ ABSL_GUARDED_BY(mu_);
};

class OnewayTest : public testing::ServerFixture {
 protected:
  korbtest::SinkStub Activate(std::shared_ptr<GatedSink> servant) {
    absl::StatusOr<Ref> ref = adapter_->Activate("sink", std::move(servant));
    EXPECT_THAT(ref, IsOk());
    return korbtest::SinkStub(client_, ref.ok() ? *ref : Ref());
  }
  static korbtest::EchoRequest Text(const std::string& text) {
    korbtest::EchoRequest request;
    request.set_text(text);
    return request;
  }
};

// The stub returns while the servant is still blocked; the effect is applied
// once the test lets it run.
TEST_F(OnewayTest, CallerReturnsBeforeTheServantRuns) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto sink = std::make_shared<GatedSink>();
  korbtest::SinkStub stub = Activate(sink);
  ASSERT_THAT(stub.Post(Text("block"), {.timeout = kDeadline}), IsOk());
  ASSERT_TRUE(sink->AwaitRunning()) << "the oneway operation never ran";
  EXPECT_EQ(sink->posted(), "") << "the stub waited for the operation";
  sink->Release();
  EXPECT_TRUE(sink->AwaitPosted("block")) << "the oneway operation's effect was not applied";
}

// The operation's error is logged, not returned; later calls are served.
TEST_F(OnewayTest, ServantErrorsAreNotReturned) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto sink = std::make_shared<GatedSink>();
  korbtest::SinkStub stub = Activate(sink);
  korbtest::EchoRequest failing = Text("x");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_THAT(stub.Post(failing, {.timeout = kDeadline}), IsOk());
  EXPECT_TRUE(sink->AwaitPosted("x"));
  absl::StatusOr<korbtest::EchoReply> posted = stub.Posted(Empty(), {.timeout = kDeadline});
  ASSERT_THAT(posted, IsOk());
  EXPECT_EQ(posted->text(), "x");
}

// A oneway call's reply is not kept for retries: the same request id runs
// the operation again.
TEST_F(OnewayTest, ReplyIsNeverCached) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto sink = std::make_shared<GatedSink>();
  korbtest::SinkStub stub = Activate(sink);
  ASSERT_THAT(stub.Post(Text("a"), {.timeout = kDeadline, .request_id = "post-1"}), IsOk());
  ASSERT_TRUE(sink->AwaitPosted("a"));
  ASSERT_THAT(stub.Post(Text("a"), {.timeout = kDeadline, .request_id = "post-1"}), IsOk());
  EXPECT_TRUE(sink->AwaitPosted("aa")) << "the second post was answered from a cache";
}

// A oneway to an object the activator incarnates on this call: the caller
// is answered after the incarnation, before the operation.
TEST_F(OnewayTest, IncarnatedObjectAnswersBeforeTheOperation) {
  class Activator : public ServantActivator {
   public:
    explicit Activator(std::shared_ptr<GatedSink> sink) : sink_(std::move(sink)) {}
    absl::StatusOr<std::shared_ptr<Servant>> Incarnate(absl::string_view) override {
      return sink_;
    }
    void Etherealize(absl::string_view, std::shared_ptr<Servant>, EtherealizeReason) override {}

   private:
    std::shared_ptr<GatedSink> sink_;
  };
  StartServer({.threading = ThreadingOptions::ThreadPerObject()});
  auto sink = std::make_shared<GatedSink>();
  ASSERT_THAT(adapter_->SetServantActivator(std::make_shared<Activator>(sink)), IsOk());
  korbtest::SinkStub stub(client_, adapter_->CreateReference("lazy", "korbtest.Sink"));
  ASSERT_THAT(stub.Post(Text("block"), {.timeout = kDeadline}), IsOk());
  ASSERT_TRUE(sink->AwaitRunning());
  EXPECT_EQ(sink->posted(), "") << "the stub waited for the operation";
  sink->Release();
  EXPECT_TRUE(sink->AwaitPosted("block"));
}

}  // namespace
}  // namespace korb
