// The object lifecycle through the adapter, over the in-memory transport (so
// under TSan too): objects deactivated before or during their first
// incarnation still serve the calls bound to them; a failed incarnation after
// a deactivation; entries whose calls were all rejected leave the map; every
// incarnation is etherealized exactly once under concurrent calls,
// deactivations and shutdown; the per-state gauges follow. (Eviction of idle
// and busy objects: servant_manager_test.)
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapter/object_adapter.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapter/recording_activator.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::Eventually;
using ::korb::testing::IsOk;
using ::korb::testing::kDeadline;
using ::korb::testing::RecordingActivator;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

bool NoObjects(const ObjectStateCounts& o) {
  return o.pending + o.incarnating + o.ready + o.leaving + o.failed + o.etherealizing == 0;
}

class LifecycleTest : public testing::InMemoryFixture {
 protected:
  void StartWithActivator(AdapterOptions options) {
    StartServer(std::move(options));
    ASSERT_THAT(adapter_->SetServantActivator(activator_), IsOk());
  }
  testing::InMemoryEchoStub Stub(const std::string& id) {
    return testing::InMemoryEchoStub(client_, adapter_->CreateReference(id, "korbtest.Echo"));
  }
  ObjectStateCounts Objects() { return adapter_->Metrics().objects; }

  std::shared_ptr<RecordingActivator> activator_ = std::make_shared<RecordingActivator>();
};

// Deactivated while its first call incarnates it: the incarnation finishes,
// every call bound to it runs on that servant, and it is etherealized once,
// after the last of them. The next call incarnates a new one.
TEST_F(LifecycleTest, DeactivateDuringIncarnationServesBoundCalls) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(4)});
  activator_->HoldIncarnate(true);
  testing::InMemoryEchoStub stub = Stub("a");
  std::vector<Future<korbtest::EchoReply>> calls;
  for (int i = 0; i < 3; ++i) calls.push_back(stub.EchoAsync(Text("x")));
  ASSERT_TRUE(Eventually([&] { return activator_->incarnations() == 1; }));
  EXPECT_EQ(Objects().incarnating, 1u);
  ASSERT_THAT(adapter_->Deactivate("a"), IsOk());
  EXPECT_FALSE(adapter_->IsActive("a"));
  EXPECT_EQ(Objects().leaving, 1u);
  EXPECT_EQ(Objects().incarnating, 0u);
  EXPECT_THAT(adapter_->Deactivate("a"), StatusIs(absl::StatusCode::kNotFound));
  activator_->HoldIncarnate(false);
  std::vector<std::string> texts;
  for (auto& call : calls) {
    ASSERT_TRUE(call.WaitFor(kDeadline));
    ASSERT_THAT(call.Get(), IsOk());
    texts.push_back(call.Get()->text());
  }
  EXPECT_THAT(texts, UnorderedElementsAre("1", "2", "3")) << "not one servant for all calls";
  ASSERT_TRUE(Eventually([&] { return activator_->etherealizations() == 1; }));
  ASSERT_TRUE(Eventually([&] { return NoObjects(Objects()); }));
  EXPECT_THAT(activator_->log(), ElementsAre("incarnate a", "etherealize a deactivated"));
  ASSERT_THAT(stub.Echo(Text("x")), IsOk());
  EXPECT_EQ(activator_->incarnations(), 2);
  EXPECT_EQ(Objects().ready, 1u);
}

// Deactivated while its calls still wait for a thread, before any began to
// incarnate it: the first of them still incarnates it (kLeavingPending).
TEST_F(LifecycleTest, DeactivateBeforeIncarnationBeginsServesBoundCalls) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(1)});
  Future<korbtest::EchoReply> blocker = Stub("busy").EchoAsync(Text("block"));
  ASSERT_TRUE(Eventually([&] { return adapter_->Metrics().running_calls == 1; }));
  testing::InMemoryEchoStub stub = Stub("a");
  Future<korbtest::EchoReply> first = stub.EchoAsync(Text("x"));
  Future<korbtest::EchoReply> second = stub.EchoAsync(Text("x"));
  ASSERT_TRUE(AwaitQueued(2));
  EXPECT_EQ(Objects().pending, 1u);
  ASSERT_THAT(adapter_->Deactivate("a"), IsOk());
  EXPECT_EQ(Objects().pending, 0u);
  EXPECT_EQ(Objects().leaving, 1u);
  EXPECT_EQ(activator_->incarnations(), 1) << "only busy is incarnated yet";
  activator_->ReleaseBlockedCalls();
  ASSERT_TRUE(blocker.WaitFor(kDeadline));
  ASSERT_TRUE(first.WaitFor(kDeadline));
  ASSERT_TRUE(second.WaitFor(kDeadline));
  EXPECT_THAT(first.Get(), IsOk());
  EXPECT_THAT(second.Get(), IsOk());
  ASSERT_TRUE(Eventually([&] { return activator_->etherealizations() == 1; }));
  EXPECT_THAT(activator_->log(), ElementsAre("incarnate busy", "incarnate a",
                                             "etherealize a deactivated"));
  ASSERT_TRUE(Eventually([&] { return Objects().leaving == 0 && Objects().ready == 1; }));
}

// Deactivated during an incarnation that then fails: the bound calls get the
// failure, nothing is etherealized, nothing is left.
TEST_F(LifecycleTest, FailedIncarnationAfterDeactivate) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(4)});
  activator_->HoldIncarnate(true);
  testing::InMemoryEchoStub stub = Stub("ghost-1");
  Future<korbtest::EchoReply> first = stub.EchoAsync(Text("x"));
  Future<korbtest::EchoReply> second = stub.EchoAsync(Text("x"));
  ASSERT_TRUE(Eventually([&] { return activator_->incarnations() == 1; }));
  ASSERT_THAT(adapter_->Deactivate("ghost-1"), IsOk());
  activator_->HoldIncarnate(false);
  for (auto* call : {&first, &second}) {
    ASSERT_TRUE(call->WaitFor(kDeadline));
    EXPECT_THAT(call->Get(), StatusIs(absl::StatusCode::kNotFound));
    EXPECT_EQ(ErrorKindOf(call->Get().status()), ErrorKind::kObjectNotExist);
  }
  ASSERT_TRUE(Eventually([&] { return NoObjects(Objects()); })) << "a failed entry was kept";
  EXPECT_EQ(activator_->etherealizations(), 0);
  EXPECT_EQ(adapter_->Metrics().lifecycle.failed_incarnations, 1u);
  EXPECT_EQ(adapter_->active_objects(), 0u);
}

// Calls to ids nothing incarnated yet, all rejected by a full queue, leave no
// entry behind: a client making up ids cannot grow the map.
TEST_F(LifecycleTest, RejectedCallsLeaveNoPendingEntry) {
  ThreadingOptions threading = ThreadingOptions::SharedPool(1);
  threading.max_queued_calls = 1;
  StartWithActivator({.threading = threading});
  Future<korbtest::EchoReply> blocker = Stub("busy").EchoAsync(Text("block"));
  ASSERT_TRUE(Eventually([&] { return adapter_->Metrics().running_calls == 1; }));
  Future<korbtest::EchoReply> queued = Stub("queued").EchoAsync(Text("x"));
  ASSERT_TRUE(AwaitQueued(1));
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(Stub(absl::StrCat("made-up-", i)).Echo(Text("x")), ::testing::Not(IsOk()));
  }
  EXPECT_TRUE(Eventually([&] { return adapter_->active_objects() == 2; }))
      << adapter_->active_objects() << " objects: rejected calls left entries in the map";
  EXPECT_EQ(Objects().pending, 1u);  // "queued"
  activator_->ReleaseBlockedCalls();
  ASSERT_TRUE(blocker.WaitFor(kDeadline));
  ASSERT_TRUE(queued.WaitFor(kDeadline));
  EXPECT_THAT(queued.Get(), IsOk());
  EXPECT_EQ(activator_->incarnations(), 2);
  EXPECT_EQ(activator_->etherealizations(), 0);
}

// An object still being incarnated has no interface yet: it cannot become
// a default object (it used to crash the server).
TEST_F(LifecycleTest, DefaultObjectMustBeIncarnated) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(2)});
  activator_->HoldIncarnate(true);
  Future<korbtest::EchoReply> call = Stub("a").EchoAsync(Text("x"));
  ASSERT_TRUE(Eventually([&] { return activator_->incarnations() == 1; }));
  EXPECT_THAT(adapter_->SetDefaultObject("a"), StatusIs(absl::StatusCode::kFailedPrecondition));
  activator_->HoldIncarnate(false);
  ASSERT_TRUE(call.WaitFor(kDeadline));
  ASSERT_THAT(call.Get(), IsOk());
  EXPECT_THAT(adapter_->SetDefaultObject("a"), IsOk());
}

// Explicit activations go through the same states: ready, leaving while a
// call is bound, gone after it.
TEST_F(LifecycleTest, ExplicitObjectLeavesAfterItsLastCall) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto gate = std::make_shared<Notification>();
  testing::InMemoryEchoStub stub = ActivateEcho("e", std::make_shared<testing::CountingEcho>(gate));
  EXPECT_EQ(Objects().ready, 1u);
  Future<korbtest::EchoReply> call = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(Eventually([&] { return adapter_->Metrics().running_calls == 1; }));
  ASSERT_THAT(adapter_->Deactivate("e"), IsOk());
  EXPECT_EQ(Objects().leaving, 1u);
  gate->Notify();
  ASSERT_TRUE(call.WaitFor(kDeadline));
  EXPECT_THAT(call.Get(), IsOk());
  EXPECT_TRUE(Eventually([&] { return NoObjects(Objects()); }));
}

// Calls, deactivations and finally a shutdown race: every call is answered,
// every incarnation of an id is etherealized exactly once, before the next
// one of that id, and nothing is left.
TEST_F(LifecycleTest, EtherealizedOncePerIncarnationUnderRaces) {
  StartWithActivator({.threading = ThreadingOptions::SharedPool(4)});
  const std::vector<std::string> ids = {"a", "b", "c"};
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&, t] {
      absl::BitGen gen;
      while (!stop.load()) {
        absl::StatusOr<korbtest::EchoReply> reply =
            Stub(ids[absl::Uniform<size_t>(gen, 0, ids.size())]).Echo(Text("x"));
        ++answered;
        // Only a shut-down adapter refuses (transient).
        if (!reply.ok() && ErrorKindOf(reply.status()) != ErrorKind::kTransient) ++wrong;
      }
    });
  }
  std::thread deactivator([&] {
    absl::BitGen gen;
    for (int i = 0; i < 200; ++i) {
      absl::Status status = adapter_->Deactivate(ids[absl::Uniform<size_t>(gen, 0, ids.size())]);
      if (!status.ok() && !absl::IsNotFound(status)) ++wrong;
      std::this_thread::yield();
    }
  });
  deactivator.join();
  ASSERT_TRUE(Eventually([&] { return answered.load() > 300; }));
  ASSERT_THAT(adapter_->Shutdown(kDeadline), IsOk());
  stop = true;
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(activator_->incarnations(), activator_->etherealizations());
  std::map<std::string, std::vector<std::string>> by_id;
  for (const std::string& entry : activator_->log()) {
    std::vector<std::string> words = absl::StrSplit(entry, ' ');
    by_id[words[1]].push_back(words[0]);
  }
  for (const auto& [id, events] : by_id) {
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(events[i], i % 2 == 0 ? "incarnate" : "etherealize")
          << "event " << i << " of object " << id;
    }
    EXPECT_EQ(events.size() % 2, 0u) << id << " was never etherealized";
  }
  EXPECT_TRUE(NoObjects(Objects()));
  EXPECT_EQ(adapter_->Metrics().lifecycle.incarnations,
            adapter_->Metrics().lifecycle.etherealizations);
}

}  // namespace
}  // namespace korb
