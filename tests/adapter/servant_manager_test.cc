// Servant managers over the in-memory transport (no gRPC, so under TSan too): the activator's single-flight
// incarnation, failures, retention and etherealization; the locator's
// pre/post pairing; default servants; eviction by idle time and by the LRU
// cap with calls in flight; a call racing an etherealization; persistence
// (write-through, write-back, failed saves); transient and persistent
// references.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapter/object_adapter.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/servant_manager.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "servants/memory_state_store.h"
#include "servants/persistent_state.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/adapter/recording_activator.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;

using ::korb::testing::CountingEcho;
using ::korb::testing::Eventually;
using ::korb::testing::kDeadline;
using ::korb::testing::RecordingActivator;

class ServantManagerTest : public testing::InMemoryFixture {
 protected:
  void StartWithActivator(AdapterOptions options) {
    StartServer(std::move(options));
    ASSERT_THAT(adapter_->SetServantActivator(activator_), IsOk());
  }
  testing::InMemoryEchoStub Stub(const std::string& id) {
    return testing::InMemoryEchoStub(client_, adapter_->CreateReference(id, "korbtest.Echo"));
  }

  std::shared_ptr<RecordingActivator> activator_ = std::make_shared<RecordingActivator>();
};

// Many concurrent first calls to one id: one incarnation; the others wait
// for it and then run on the same servant.
TEST_F(ServantManagerTest, ConcurrentFirstCallsIncarnateOnce) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(8)});
  activator_->HoldIncarnate(true);
  testing::InMemoryEchoStub stub = Stub("acct");
  std::vector<Future<korbtest::EchoReply>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(stub.EchoAsync(Text("x")));
  // All eight workers are busy (one incarnating, seven waiting for it).
  ASSERT_TRUE(AwaitQueued(12)) << "the calls never filled the pool";
  activator_->HoldIncarnate(false);
  std::vector<std::string> counts;
  for (auto& call : calls) {
    ASSERT_TRUE(call.WaitFor(kDeadline));
    ASSERT_THAT(call.Get(), IsOk());
    counts.push_back(call.Get()->text());
  }
  EXPECT_EQ(activator_->incarnations(), 1);
  EXPECT_TRUE(adapter_->IsActive("acct"));
  // One servant ran all 20 calls.
  std::sort(counts.begin(), counts.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(a) < std::stoi(b);
  });
  EXPECT_EQ(counts.back(), "20");
}

// A failed incarnation answers every waiting call with its status and keeps
// nothing: the next call tries again.
TEST_F(ServantManagerTest, FailedIncarnationAnswersEveryWaiter) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(4)});
  activator_->HoldIncarnate(true);
  testing::InMemoryEchoStub stub = Stub("ghost-1");
  std::vector<Future<korbtest::EchoReply>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(stub.EchoAsync(Text("x")));
  ASSERT_TRUE(AwaitQueued(2));
  activator_->HoldIncarnate(false);
  for (auto& call : calls) {
    ASSERT_TRUE(call.WaitFor(kDeadline));
    EXPECT_THAT(call.Get(), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(ErrorKindOf(call.Get().status()), ErrorKind::kObjectNotExist);
  }
  EXPECT_EQ(activator_->incarnations(), 1);
  EXPECT_FALSE(adapter_->IsActive("ghost-1"));
  EXPECT_TRUE(Eventually([&] { return adapter_->active_objects() == 0; }));
  EXPECT_THAT(stub.Echo(Text("again")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(activator_->incarnations(), 2) << "a failed incarnation was retained";
  EXPECT_EQ(activator_->etherealizations(), 0) << "nothing was incarnated";
  const LifecycleStats lifecycle = adapter_->Metrics().lifecycle;
  EXPECT_EQ(lifecycle.incarnations, 0u);
  EXPECT_EQ(lifecycle.failed_incarnations, 2u);
  EXPECT_EQ(lifecycle.etherealizations, 0u);
}

// Incarnated objects stay; Deactivate() and Shutdown() etherealize them.
TEST_F(ServantManagerTest, RetainedUntilDeactivatedOrShutdown) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2)});
  ASSERT_THAT(Stub("a").Echo(Text("x")), IsOk());
  ASSERT_THAT(Stub("a").Echo(Text("x")), IsOk());
  ASSERT_THAT(Stub("b").Echo(Text("x")), IsOk());
  EXPECT_EQ(activator_->incarnations(), 2);
  EXPECT_EQ(adapter_->active_objects(), 2u);
  ASSERT_THAT(adapter_->Deactivate("a"), IsOk());
  EXPECT_FALSE(adapter_->IsActive("a"));
  ASSERT_THAT(adapter_->Shutdown(kDeadline), IsOk());
  EXPECT_THAT(activator_->log(),
              ElementsAre("incarnate a", "incarnate b", "etherealize a deactivated",
                          "etherealize b shutdown"));
}

// A call that arrives while its object is being etherealized waits and is
// served by a fresh incarnation, made after the etherealization finished.
TEST_F(ServantManagerTest, CallDuringEtherealizationGetsFreshIncarnation) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2)});
  testing::InMemoryEchoStub stub = Stub("a");
  ASSERT_THAT(stub.Echo(Text("x")), IsOk());
  activator_->HoldEtherealize(true);
  std::thread deactivator([this] { EXPECT_THAT(adapter_->Deactivate("a"), IsOk()); });
  ASSERT_TRUE(Eventually([&] { return activator_->etherealizations() == 1; }));
  Future<korbtest::EchoReply> call = stub.EchoAsync(Text("y"));
  // The call waits for the etherealization: no second incarnation yet.
  EXPECT_FALSE(call.WaitFor(absl::Milliseconds(100)));
  EXPECT_EQ(activator_->incarnations(), 1);
  activator_->HoldEtherealize(false);
  deactivator.join();
  ASSERT_TRUE(call.WaitFor(kDeadline));
  ASSERT_THAT(call.Get(), IsOk());
  EXPECT_EQ(call.Get()->text(), "1") << "not a fresh servant";
  EXPECT_THAT(activator_->log(),
              ElementsAre("incarnate a", "etherealize a deactivated", "incarnate a"));
}

// An object unused for idle_timeout is etherealized; the next call
// reincarnates it. One with a call in flight is not evicted however long
// the call takes.
TEST_F(ServantManagerTest, IdleObjectsAreEvicted) {
  const absl::Duration idle_timeout = absl::Milliseconds(50);
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2), .idle_timeout = idle_timeout});
  ASSERT_THAT(Stub("idle").Echo(Text("x")), IsOk());
  Future<korbtest::EchoReply> busy = Stub("busy").EchoAsync(Text("block"));
  ASSERT_TRUE(Eventually([&] { return adapter_->Metrics().running_calls == 1; }));
  ASSERT_TRUE(Eventually([&] { return !adapter_->IsActive("idle"); }))
      << "an idle object was not evicted";
  // The blocked call has now been running for many idle timeouts.
  absl::SleepFor(4 * idle_timeout);
  EXPECT_TRUE(adapter_->IsActive("busy")) << "an object was evicted with a call in flight";
  activator_->ReleaseBlockedCalls();
  ASSERT_TRUE(busy.WaitFor(kDeadline));
  EXPECT_THAT(busy.Get(), IsOk());
  ASSERT_TRUE(Eventually([&] { return adapter_->active_objects() == 0; }))
      << "the busy object was not evicted once idle";
  ASSERT_THAT(Stub("idle").Echo(Text("x")), IsOk());
  EXPECT_EQ(activator_->incarnations(), 3);
}

// Beyond max_active_objects the least recently used idle object goes.
TEST_F(ServantManagerTest, CapEvictsLeastRecentlyUsed) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2), .max_active_objects = 2});
  ASSERT_THAT(Stub("a").Echo(Text("x")), IsOk());
  ASSERT_THAT(Stub("b").Echo(Text("x")), IsOk());
  ASSERT_THAT(Stub("a").Echo(Text("x")), IsOk());  // b is now least recently used
  ASSERT_THAT(Stub("c").Echo(Text("x")), IsOk());
  ASSERT_TRUE(Eventually([&] { return activator_->etherealizations() == 1; }));
  EXPECT_TRUE(adapter_->IsActive("a"));
  EXPECT_FALSE(adapter_->IsActive("b"));
  EXPECT_TRUE(adapter_->IsActive("c"));
  EXPECT_EQ(adapter_->Metrics().active_objects, 2u);
  EXPECT_THAT(activator_->log(), ::testing::Contains("etherealize b evicted"));
  const LifecycleStats lifecycle = adapter_->Metrics().lifecycle;
  EXPECT_EQ(lifecycle.incarnations, 3u);
  EXPECT_EQ(lifecycle.etherealizations, 1u);
  EXPECT_EQ(lifecycle.evictions, 1u);
}

// The cap never evicts an object with a call in flight: it is exceeded
// while all objects are busy and restored when calls end.
TEST_F(ServantManagerTest, CapSparesBusyObjects) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(4), .max_active_objects = 1});
  Future<korbtest::EchoReply> a = Stub("a").EchoAsync(Text("block"));
  ASSERT_TRUE(Eventually([&] { return adapter_->Metrics().running_calls == 1; }));
  ASSERT_THAT(Stub("b").Echo(Text("x")), IsOk());
  // "b" is idle and least recently used behind busy "a": b goes, a stays.
  ASSERT_TRUE(Eventually([&] { return !adapter_->IsActive("b"); }));
  EXPECT_TRUE(adapter_->IsActive("a")) << "the cap evicted an object with a call in flight";
  EXPECT_EQ(adapter_->Metrics().running_calls, 1);
  activator_->ReleaseBlockedCalls();
  ASSERT_TRUE(a.WaitFor(kDeadline));
  EXPECT_THAT(a.Get(), IsOk());
  EXPECT_THAT(activator_->log(), ::testing::Not(::testing::Contains("etherealize a evicted")));
}

// The locator supplies a servant per call and always gets it back, also
// when the operation fails or does not exist; nothing is retained.
TEST_F(ServantManagerTest, LocatorPairsPreAndPostInvoke) {
  class Locator : public ServantLocator {
   public:
    absl::StatusOr<Located> PreInvoke(absl::string_view id,
                                      absl::string_view method_path) override {
      MutexLock lock(&mu);
      log.push_back(absl::StrCat("pre ", id, " ", method_path));
      if (id == "missing") return ObjectNotExist(id);
      return Located{std::make_shared<EchoImpl>(), std::make_shared<std::string>(id)};
    }
    void PostInvoke(absl::string_view id, absl::string_view method_path,
                    const Located& located, const absl::Status& outcome) override {
      MutexLock lock(&mu);
      log.push_back(absl::StrCat("post ", *std::static_pointer_cast<std::string>(located.cookie),
                                 " ", absl::StatusCodeToString(outcome.code())));
    }
    Mutex mu;
    std::vector<std::string> log ABSL_GUARDED_BY(mu);
  };
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto locator = std::make_shared<Locator>();
  ASSERT_THAT(adapter_->SetServantLocator(locator), IsOk());
  EXPECT_THAT(adapter_->SetServantActivator(activator_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(Stub("row-1").Echo(Text("x")), IsOk());
  korbtest::EchoRequest failing = Text("boom");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_THAT(Stub("row-2").Echo(failing), StatusIs(absl::StatusCode::kAborted));
  korbtest::EchoRequest throwing = Text("boom");
  throwing.set_throw_exception(true);
  EXPECT_THAT(Stub("row-3").Echo(throwing), StatusIs(absl::StatusCode::kInternal));
  auto factory_stub = testing::InMemoryFactoryStub(
      client_, adapter_->CreateReference("row-4", "korbtest.EchoFactory"));
  EXPECT_THAT(factory_stub.Create(korbtest::CreateRequest()),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(Stub("missing").Echo(Text("x")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(adapter_->active_objects(), 0u);
  MutexLock lock(&locator->mu);
  EXPECT_THAT(locator->log,
              ElementsAre("pre row-1 /korbtest.Echo/Echo", "post row-1 OK",
                          "pre row-2 /korbtest.Echo/Echo", "post row-2 ABORTED",
                          "pre row-3 /korbtest.Echo/Echo", "post row-3 INTERNAL",
                          "pre row-4 /korbtest.EchoFactory/Create", "post row-4 UNIMPLEMENTED",
                          "pre missing /korbtest.Echo/Echo"));
}

// A call through a servant locator gets a policy lane of its own that ends
// with the call: under thread-per-object no thread outlives its call. (Each
// located call used to pin a lane that nothing unpinned: a thread per call,
// alive until shutdown.)
TEST_F(ServantManagerTest, LocatedCallsLeaveNoThreadsBehind) {
  class Locator : public ServantLocator {
   public:
    absl::StatusOr<Located> PreInvoke(absl::string_view, absl::string_view) override {
      return Located{std::make_shared<EchoImpl>(), nullptr};
    }
    void PostInvoke(absl::string_view, absl::string_view, const Located&,
                    const absl::Status&) override {}
  };
  StartServer({.threading = ThreadingOptions::ThreadPerObject()});
  ASSERT_THAT(adapter_->SetServantLocator(std::make_shared<Locator>()), IsOk());
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(Stub(absl::StrCat("row-", i)).Echo(Text("x")), IsOk());
  }
  EXPECT_TRUE(Eventually([&] { return adapter_->Metrics().policy.threads == 0; }))
      << adapter_->Metrics().policy.threads << " policy threads outlived 10 finished calls";
}

// A default servant serves every id of its interface, reading the id from
// the call context; active objects still take precedence.
TEST_F(ServantManagerTest, DefaultServantServesEveryId) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  ASSERT_THAT(adapter_->SetDefaultServant(std::make_shared<EchoImpl>()), IsOk());
  auto own = std::make_shared<CountingEcho>();
  ASSERT_THAT(adapter_->Activate("own", own), IsOk());
  for (const std::string id : {"alice", "bob", "a/b c"}) {
    absl::StatusOr<korbtest::EchoReply> reply = Stub(id).Echo(Text("x"));
    ASSERT_THAT(reply, IsOk());
    EXPECT_EQ(reply->object_id(), id);
    EXPECT_EQ(reply->text(), "x");
  }
  absl::StatusOr<korbtest::EchoReply> reply = Stub("own").Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "1") << "the active object must win over the default servant";
  // Another interface has no default servant here.
  auto factory_stub = testing::InMemoryFactoryStub(
      client_, adapter_->CreateReference("alice", "korbtest.EchoFactory"));
  EXPECT_THAT(factory_stub.Create(korbtest::CreateRequest()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(adapter_->SetDefaultServant(nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A store that counts saves and can be made to fail them.
class FlakyStore : public StateStore {
 public:
  absl::StatusOr<std::string> Load(absl::string_view key) override { return store_.Load(key); }
  absl::StatusOr<bool> Contains(absl::string_view key) override { return store_.Contains(key); }
  absl::Status Save(absl::string_view key, absl::string_view state) override {
    if (fail_.load()) return absl::UnavailableError("disk on fire");
    ++saves;
    return store_.Save(key, state);
  }
  absl::Status SaveAll(absl::Span<const std::pair<std::string, std::string>> entries) override {
    return store_.SaveAll(entries);
  }
  absl::Status Erase(absl::string_view key) override { return store_.Erase(key); }
  absl::StatusOr<size_t> Size() override { return store_.Size(); }

  void Fail(bool fail) { fail_.store(fail); }
  std::atomic<int> saves{0};

 private:
  MemoryStateStore store_;
  std::atomic<bool> fail_{false};
};

std::string Stored(StateStore& store, absl::string_view key) {
  absl::StatusOr<std::string> state = store.Load(key);
  return state.ok() ? *state : std::string(state.status().ToString());
}

// Write-through: every non-readonly call is saved before its reply;
// readonly calls are not; a new incarnation starts from the saved state.
TEST_F(ServantManagerTest, WriteThroughSavesBeforeReplying) {
  auto store = std::make_shared<FlakyStore>();
  ASSERT_THAT(store->Save("a", "41"), IsOk());
  store->saves = 0;
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2),
                      .persistence = {.store = store, .mode = PersistenceMode::kWriteThrough}});
  testing::InMemoryEchoStub stub = Stub("a");
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "42") << "state was not loaded on incarnation";
  EXPECT_EQ(Stored(*store, "a"), "42");
  ASSERT_THAT(stub.Ping(Empty()), IsOk());  // readonly
  EXPECT_EQ(store->saves.load(), 1);
  ASSERT_THAT(adapter_->Deactivate("a"), IsOk());
  EXPECT_EQ(store->saves.load(), 1) << "write-through saves nothing on etherealize";
  reply = stub.Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "43");
}

// A failed write-through save fails the call as transient and drops the
// unsaved change: the next call starts from the last saved state.
TEST_F(ServantManagerTest, FailedSaveDropsTheChange) {
  auto store = std::make_shared<FlakyStore>();
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2),
                      .persistence = {.store = store, .mode = PersistenceMode::kWriteThrough}});
  testing::InMemoryEchoStub stub = Stub("a");
  ASSERT_THAT(stub.Echo(Text("x")), IsOk());  // saved: 1
  store->Fail(true);
  // One attempt: the client would otherwise retry the transient failure.
  absl::StatusOr<korbtest::EchoReply> failed = stub.Echo(Text("x"), {.max_attempts = 1});
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(failed.status()), ErrorKind::kTransient);
  store->Fail(false);
  ASSERT_TRUE(Eventually([&] { return activator_->etherealizations() == 1; }));
  EXPECT_EQ(activator_->log().back(), "etherealize a save-failed");
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "2") << "the unsaved change survived";
  const LifecycleStats lifecycle = adapter_->Metrics().lifecycle;
  EXPECT_EQ(lifecycle.saves, 2u);
  EXPECT_EQ(lifecycle.failed_saves, 1u);
  EXPECT_EQ(lifecycle.incarnations, 2u);
  EXPECT_EQ(lifecycle.etherealizations, 1u);
  EXPECT_EQ(lifecycle.evictions, 0u) << "a failed save is not an eviction";
}

// Write-back: nothing is saved per call; etherealization saves the state,
// and a call racing it sees the saved state in its fresh incarnation.
TEST_F(ServantManagerTest, WriteBackSavesOnEtherealize) {
  auto store = std::make_shared<FlakyStore>();
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2),
                      .max_active_objects = 1,
                      .persistence = {.store = store, .mode = PersistenceMode::kWriteBack}});
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Stub("a").Echo(Text("x")), IsOk());
  EXPECT_EQ(store->saves.load(), 0);
  ASSERT_THAT(Stub("b").Echo(Text("x")), IsOk());  // evicts a
  ASSERT_TRUE(Eventually([&] { return store->saves.load() == 1; }));
  EXPECT_EQ(Stored(*store, "a"), "3");
  absl::StatusOr<korbtest::EchoReply> reply = Stub("a").Echo(Text("x"));  // evicts b
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "4");
  ASSERT_THAT(adapter_->Shutdown(kDeadline), IsOk());
  EXPECT_EQ(Stored(*store, "a"), "4");
  EXPECT_EQ(Stored(*store, "b"), "1");
}

// Transient references carry the adapter instance's tag; another tag (an
// earlier instance) or none is object-not-exist. Persistent references
// carry no tag.
TEST_F(ServantManagerTest, LifespanTagsReferences) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  absl::StatusOr<Ref> ref = adapter_->Activate("o", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  EXPECT_EQ(ref->adapter(), "t@" + adapter_->instance_tag());
  EXPECT_THAT(testing::InMemoryEchoStub(client_, *ref).Echo(Text("x")), IsOk());
  for (const std::string stale : {"t@0123456789abcdef", "t"}) {
    Ref other(ref->type(), ref->endpoints(), stale, "o");
    absl::StatusOr<korbtest::EchoReply> reply = testing::InMemoryEchoStub(client_, other).Echo(Text("x"));
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound)) << stale;
    EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kObjectNotExist) << stale;
  }
  absl::StatusOr<ObjectAdapter*> persistent =
      server_->CreateAdapter("p", {.lifespan = Lifespan::kPersistent});
  ASSERT_THAT(persistent, IsOk());
  EXPECT_EQ((*persistent)->instance_tag(), "");
  absl::StatusOr<Ref> kept = (*persistent)->Activate("o", std::make_shared<EchoImpl>());
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT((*persistent)->Resume(), IsOk());
  EXPECT_EQ(kept->adapter(), "p");
  EXPECT_THAT(testing::InMemoryEchoStub(client_, *kept).Echo(Text("x")), IsOk());
  Ref tagged(kept->type(), kept->endpoints(), "p@0123456789abcdef", "o");
  EXPECT_THAT(testing::InMemoryEchoStub(client_, tagged).Echo(Text("x")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(server_->CreateAdapter("a@b", {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace korb
