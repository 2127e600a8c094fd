// Indirect references end to end: a korb-naming process (in memory, or on a
// real etcd), examples/replicated's replicated_server processes registered
// in it as one replica group (--naming, --group), and this test as their
// client through korbname://<naming>/<group>. Under a read load a replica
// leaves (SIGTERM: it unregisters), one joins (a new process), one is killed
// (SIGKILL: its lease expires): no call fails and the new replica gets
// calls. A stub on an unbound name gets name-not-bound. A name rebound to
// another server is followed once the old one dies. korb-naming, or the etcd
// under it, restarted: calls go on with the cached resolution. Assertions are on results and on who served
// what, never on times; every wait is bounded.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "common/sync.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "replicated/counter.korb.h"
#include "tests/naming/naming_processes.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::naming::testing::EtcdProcess;
using ::korb::naming::testing::RefProcess;
using ::korb::naming::testing::StartWithRef;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;

// Generous: the machine may be busy building.
constexpr absl::Duration kWait = absl::Seconds(60);
// Lease of the replicas' registrations: a SIGKILLed replica leaves within it.
constexpr int kLeaseTtl = 2;
constexpr absl::string_view kGroup = "counters/main";

bool Eventually(const std::function<bool()>& probe) {
  return naming::testing::Eventually(kWait, probe);
}

// Reads through `counter` from four threads until Stop(): counts calls,
// failures (the first kept) and the replicas that answered.
class ReadLoad {
 public:
  explicit ReadLoad(const replicated::CounterStub& counter) {
    for (int t = 0; t < 4; ++t) {
      workers_.emplace_back([this, counter] {
        while (!stop_.load()) {
          absl::StatusOr<replicated::Value> value = counter.Get(Empty());
          korb::MutexLock lock(&mu_);
          ++done_;
          if (value.ok()) {
            ++served_[value->replica()];
          } else {
            ++failed_;
            if (first_failure_.empty()) first_failure_ = value.status().ToString();
          }
        }
      });
    }
  }
  ~ReadLoad() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }
  int done() const {
    korb::MutexLock lock(&mu_);
    return done_;
  }
  int failed() const {
    korb::MutexLock lock(&mu_);
    return failed_;
  }
  int served(const std::string& replica) const {
    korb::MutexLock lock(&mu_);
    auto it = served_.find(replica);
    return it == served_.end() ? 0 : it->second;
  }
  std::string first_failure() const {
    korb::MutexLock lock(&mu_);
    return first_failure_;
  }

 private:
  std::atomic<bool> stop_{false};
  mutable korb::Mutex mu_;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> served_ ABSL_GUARDED_BY(mu_);
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

class NamingEndToEnd : public ::testing::Test {
 protected:
  // Starts korb-naming with `flags`.
  void StartNaming(std::vector<std::string> flags = {}) {
    if (std::find(flags.begin(), flags.end(), "--listen") == flags.end()) {
      flags.insert(flags.begin(), {"--listen", "127.0.0.1:0"});
    }
    absl::StatusOr<RefProcess> naming = StartWithRef(KORB_NAMING_SERVER, flags);
    ASSERT_THAT(naming, IsOk());
    naming_ = std::make_unique<RefProcess>(*std::move(naming));
  }

  // Starts replica `name`; registered in the group unless `registered` is false.
  void StartReplica(const std::string& name, bool registered = true) {
    std::vector<std::string> flags = {"--name", name};
    if (registered) {
      flags.insert(flags.end(), {"--naming", naming_->ref.ToString(), "--group",
                                 std::string(kGroup), "--lease-ttl", absl::StrCat(kLeaseTtl)});
    }
    absl::StatusOr<RefProcess> replica = StartWithRef(KORB_REPLICATED_SERVER, flags);
    ASSERT_THAT(replica, IsOk());
    replicas_.push_back(std::make_unique<RefProcess>(*std::move(replica)));
  }

  Ref Name(absl::string_view name) const {
    return Ref::Indirect("replicated.Counter", naming_->ref.endpoints(), std::string(name));
  }

  // Options of the tested client: round robin, quick failback probes and
  // watches that notice changes at once.
  static ClientOptions Options() {
    ClientOptions options;
    options.selection = SelectionPolicy::kRoundRobin;
    options.default_timeout = absl::Seconds(30);
    options.failback_initial_backoff = absl::Milliseconds(100);
    options.failback_max_backoff = absl::Milliseconds(500);
    options.reconnect.initial_backoff = absl::Milliseconds(100);
    options.reconnect.max_backoff = absl::Milliseconds(500);
    return options;
  }

  void KeepsCallingAcrossRestart(const std::function<void()>& restart);
  // The replica-group scenario below, on the korb-naming started already.
  void ReplicaGroupChangesUnderLoad();

  // How many endpoints `client`'s resolution of `ref` has.
  static size_t Members(const Client& client, const Ref& ref) {
    std::optional<Ref> resolved = client.CachedResolution(ref);
    return resolved.has_value() ? resolved->endpoints().size() : 0;
  }

  Client admin_;  // binds by hand
  std::unique_ptr<RefProcess> naming_;
  std::vector<std::unique_ptr<RefProcess>> replicas_;  // destroyed first: SIGKILL
};

// Three replicas behind one name under a read load through an indirect
// reference: r0 leaves cleanly, r3 joins, r1 is killed. No call fails; r3
// serves calls; the resolution ends with r2 and r3. With korb-naming in
// memory, and on a real etcd.
TEST_F(NamingEndToEnd, ReplicaGroupChangesUnderLoadLoseNoCall) {
  StartNaming();
  ReplicaGroupChangesUnderLoad();
}

TEST_F(NamingEndToEnd, ReplicaGroupChangesOnEtcdUnderLoadLoseNoCall) {
  if (!EtcdProcess::Binary().has_value()) GTEST_SKIP() << "etcd is not installed";
  absl::StatusOr<EtcdProcess> etcd = EtcdProcess::Start();
  ASSERT_THAT(etcd, IsOk());
  StartNaming({"--etcd", etcd->endpoint()});
  ReplicaGroupChangesUnderLoad();
}

void NamingEndToEnd::ReplicaGroupChangesUnderLoad() {
  for (int i = 0; i < 3; ++i) StartReplica(absl::StrCat("r", i));
  Client client(Options());
  replicated::CounterStub counter(client, Name(kGroup));
  ASSERT_TRUE(Eventually([&] {
    (void)counter.Get(Empty(), {.timeout = absl::Seconds(5)});
    return Members(client, counter.korb_ref()) == 3;
  })) << "the three replicas never all registered";
  ReadLoad load(counter);
  EXPECT_TRUE(Eventually([&] { return load.served("r0") > 20 && load.served("r2") > 20; }));

  replicas_[0]->process.Kill(SIGTERM);  // leaves the group, then stops
  EXPECT_TRUE(Eventually([&] { return Members(client, counter.korb_ref()) == 2; }))
      << "r0 left but is still resolved";

  StartReplica("r3");
  EXPECT_TRUE(Eventually([&] { return load.served("r3") > 20; }))
      << "the replica that joined got " << load.served("r3") << " calls";

  replicas_[1]->process.Kill(SIGKILL);
  const int r2 = load.served("r2");
  const int r3 = load.served("r3");
  EXPECT_TRUE(Eventually([&] { return Members(client, counter.korb_ref()) == 2; }))
      << "r1 was killed but is still resolved after its lease";
  EXPECT_TRUE(Eventually([&] { return load.served("r2") > r2 + 50 && load.served("r3") > r3 + 50; }));
  load.Stop();
  EXPECT_EQ(load.failed(), 0) << "first failure: " << load.first_failure();
  std::optional<Ref> resolved = client.CachedResolution(counter.korb_ref());
  ASSERT_TRUE(resolved.has_value());
  EXPECT_THAT(resolved->endpoints(),
              ::testing::UnorderedElementsAre(replicas_[2]->ref.endpoints().front(),
                                              replicas_[3]->ref.endpoints().front()));
}

// A stub on a name nobody bound fails at once with name-not-bound.
TEST_F(NamingEndToEnd, UnboundNameIsNameNotBound) {
  StartNaming();
  Client client(Options());
  replicated::CounterStub counter(client, Name("nobody/home"));
  absl::StatusOr<replicated::Value> value = counter.Get(Empty());
  EXPECT_THAT(value, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(value.status()), ErrorKind::kNameNotBound) << value.status();
}

// A name bound by hand to r0, rebound to r1; r0 is killed: calls go on at r1.
TEST_F(NamingEndToEnd, RebindIsFollowedWhenTheOldServerDies) {
  StartNaming();
  StartReplica("r0", /*registered=*/false);
  StartReplica("r1", /*registered=*/false);
  naming::NamingContextStub directory(admin_, naming_->ref);
  naming::BindRequest bind;
  bind.set_name("moving");
  *bind.mutable_ref() = replicas_[0]->ref.ToProto();
  ASSERT_THAT(directory.Bind(bind), IsOk());

  ClientOptions options = Options();
  options.watch_names = false;  // only the failure can tell the client
  options.name_max_age = absl::Hours(1);
  Client client(options);
  replicated::CounterStub counter(client, Name("moving"));
  absl::StatusOr<replicated::Value> value = counter.Get(Empty());
  ASSERT_THAT(value, IsOk());
  EXPECT_EQ(value->replica(), "r0");

  *bind.mutable_ref() = replicas_[1]->ref.ToProto();
  ASSERT_THAT(directory.Rebind(bind), IsOk());
  replicas_[0]->process.Kill(SIGKILL);
  for (int i = 0; i < 10; ++i) {
    value = counter.Get(Empty());
    ASSERT_THAT(value, IsOk());
    EXPECT_EQ(value->replica(), "r1");
  }
}

// Two replicas registered; a client reads while `restart` takes the naming
// service (or its store) down and up again: no call fails (the cached
// resolution carries them), and the replicas' registrations come back.
void NamingEndToEnd::KeepsCallingAcrossRestart(const std::function<void()>& restart) {
  for (int i = 0; i < 2; ++i) StartReplica(absl::StrCat("r", i));
  if (HasFatalFailure()) return;
  ClientOptions options = Options();
  options.name_max_age = absl::Milliseconds(100);  // also exercise refreshes
  Client client(options);
  replicated::CounterStub counter(client, Name(kGroup));
  ASSERT_TRUE(Eventually([&] {
    (void)counter.Get(Empty(), {.timeout = absl::Seconds(5)});
    return Members(client, counter.korb_ref()) == 2;
  }));
  ReadLoad load(counter);
  EXPECT_TRUE(Eventually([&] { return load.done() > 100; }));
  restart();
  if (HasFatalFailure()) return;
  const int done = load.done();
  EXPECT_TRUE(Eventually([&] { return load.done() > done + 200; }));
  // The registrations are back: a fresh client resolves both replicas.
  Client fresh(Options());
  replicated::CounterStub again(fresh, Name(kGroup));
  EXPECT_TRUE(Eventually([&] {
    (void)again.Get(Empty(), {.timeout = absl::Seconds(5)});
    return Members(fresh, again.korb_ref()) == 2;
  })) << "the replicas did not register again";
  load.Stop();
  EXPECT_EQ(load.failed(), 0) << "first failure: " << load.first_failure();
}

// korb-naming (in memory) killed and restarted on its port: it comes back
// empty, the replicas join again.
TEST_F(NamingEndToEnd, NamingRestartKeepsClientsCalling) {
  StartNaming();
  ASSERT_FALSE(HasFatalFailure());
  const std::string address = naming_->ref.endpoints().front().ToString();
  KeepsCallingAcrossRestart([&] {
    naming_->process.Kill(SIGKILL);
    naming_.reset();
    StartNaming({"--listen", address});
  });
}

// korb-naming on a real etcd; etcd is killed and restarted.
TEST_F(NamingEndToEnd, EtcdRestartKeepsClientsCalling) {
  if (!EtcdProcess::Binary().has_value()) GTEST_SKIP() << "etcd is not installed";
  absl::StatusOr<EtcdProcess> etcd = EtcdProcess::Start();
  ASSERT_THAT(etcd, IsOk());
  StartNaming({"--etcd", etcd->endpoint()});
  ASSERT_FALSE(HasFatalFailure());
  KeepsCallingAcrossRestart([&] { ASSERT_THAT(etcd->Restart(), IsOk()); });
}

}  // namespace
}  // namespace korb
