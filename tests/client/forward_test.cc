// Forwards and the location cache. A raw gRPC generic service stands in for
// a server that answers with forwards (NOT_FOUND, korb-error: forward,
// korb-forward: <reference>), per object id; real in-process ObjectServers
// host the objects forwarded to. Covers one hop, chains, loops, the hop
// limit, malformed and ill-typed forwards, the per-Client cache and its
// fallback to the original reference when the cached location dies or loses
// the object.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "client/client.h"
#include "client/stub_base.h"
#include "common/sync.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbclient/register.korb.h"
#include "tests/client/register_servant.h"
#include "tests/client/transports.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::OpText;
using ::korb::testing::ReplicaSet;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A gRPC server whose every object (adapter "f") answers with a forward to
// the reference set for its id, or object-not-exist. Records the
// korb-request-id of each call. Thread-safe.
class ForwardingServer : public grpc::CallbackGenericService {
 public:
  ForwardingServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(this);
    server_ = builder.BuildAndStart();
  }
  ~ForwardingServer() override { server_->Shutdown(); }

  bool started() const { return server_ != nullptr && port_ > 0; }

  // Calls to object `id` are forwarded to `uri`.
  void Forward(const std::string& id, const std::string& uri) ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    rules_[id] = uri;
  }
  // Calls to object `id` get object-not-exist.
  void Remove(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    rules_.erase(id);
  }
  Ref RefTo(const std::string& id) const {
    return Ref("korbclient.Register", {HostPort{"127.0.0.1", static_cast<uint16_t>(port_)}}, "f",
               id);
  }
  int calls() const ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    return static_cast<int>(request_ids_.size());
  }
  std::vector<std::string> request_ids() const ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    return request_ids_;
  }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new Reactor(this, context);
  }

 private:
  // Reads the request, answers with the rule for its object. Deletes itself.
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(ForwardingServer* service, grpc::GenericCallbackServerContext* context)
        : service_(service), context_(context) {
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      std::string key = Header(kObjectKeyHeader);
      std::string adapter, id;
      DecodeObjectKey(key, &adapter, &id);
      std::optional<std::string> uri = service_->Record(id, Header(kRequestIdHeader));
      if (!uri.has_value()) {
        context_->AddTrailingMetadata(std::string(kErrorHeader), "object-not-exist");
        Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no object " + key));
        return;
      }
      context_->AddTrailingMetadata(std::string(kErrorHeader), "forward");
      context_->AddTrailingMetadata(std::string(kForwardHeader), *uri);
      Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "moved"));
    }
    void OnDone() override { delete this; }

   private:
    std::string Header(absl::string_view key) const {
      auto it = context_->client_metadata().find(grpc::string_ref(key.data(), key.size()));
      if (it == context_->client_metadata().end()) return "";
      return std::string(it->second.data(), it->second.size());
    }

    ForwardingServer* service_;
    grpc::GenericCallbackServerContext* context_;
    grpc::ByteBuffer request_;
  };

  std::optional<std::string> Record(const std::string& id, std::string request_id)
      ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    request_ids_.push_back(std::move(request_id));
    auto it = rules_.find(id);
    if (it == rules_.end()) return std::nullopt;
    return it->second;
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  mutable korb::Mutex mu_;
  std::map<std::string, std::string> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> request_ids_ ABSL_GUARDED_BY(mu_);
};

class ForwardTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(forwarder_.started());
    ASSERT_THAT(replicas_.Start(2), IsOk());
  }

  ReplicaSet replicas_;
  ForwardingServer forwarder_;
};

// A forward is followed transparently and the new location cached for the
// Client: later calls, from any stub for the reference, go straight there.
TEST_P(ForwardTest, SingleHopIsFollowedAndCached) {
  forwarder_.Forward("reg", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  EXPECT_EQ(stub.korb_location(), forwarder_.RefTo("reg"));
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(replicas_.servant(0).value(), "v");
  EXPECT_EQ(forwarder_.calls(), 1);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), replicas_.ref(0));
  EXPECT_EQ(stub.korb_location(), replicas_.ref(0));

  ASSERT_THAT(stub.Put(OpText("w")), IsOk());
  korbclient::RegisterStub other(client, forwarder_.RefTo("reg"));
  ASSERT_THAT(other.Get(OpText("")), IsOk());
  EXPECT_EQ(forwarder_.calls(), 1) << "the cached location was not used";
  EXPECT_EQ(replicas_.servant(0).calls(), 3);
}

TEST_P(ForwardTest, ChainIsFollowed) {
  forwarder_.Forward("a", forwarder_.RefTo("b").ToString());
  forwarder_.Forward("b", forwarder_.RefTo("c").ToString());
  forwarder_.Forward("c", replicas_.ref(1).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("a"));
  ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  EXPECT_EQ(forwarder_.calls(), 3);
  EXPECT_EQ(replicas_.servant(1).value(), "v");
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("a")), replicas_.ref(1));
}

TEST_P(ForwardTest, LoopIsAnError) {
  forwarder_.Forward("x", forwarder_.RefTo("y").ToString());
  forwarder_.Forward("y", forwarder_.RefTo("x").ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("x"));
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kNotFound, HasSubstr("forward loop")));
  EXPECT_EQ(ErrorKindOf(result.status()), ErrorKind::kForward);
  EXPECT_EQ(forwarder_.calls(), 2);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("x")), std::nullopt);
}

// At most max_forward_hops forwards per call (default 5).
TEST_P(ForwardTest, HopLimit) {
  for (int i = 0; i < 6; ++i) {
    forwarder_.Forward("h" + std::to_string(i), forwarder_.RefTo("h" + std::to_string(i + 1)).ToString());
  }
  forwarder_.Forward("h6", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("h0"));
  EXPECT_THAT(stub.Put(OpText("v")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("more than 5 forward hops")));
  Client patient(testing::Transport(GetParam(), {.max_forward_hops = 7}));
  korbclient::RegisterStub far(patient, forwarder_.RefTo("h0"));
  EXPECT_THAT(far.Put(OpText("v")), IsOk());
}

TEST_P(ForwardTest, MalformedOrIllTypedForwardIsAnError) {
  forwarder_.Forward("m", "not a reference");
  forwarder_.Forward("t", "korb://127.0.0.1:1/x/y?type=other.Thing");
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub malformed(client, forwarder_.RefTo("m"));
  EXPECT_THAT(malformed.Put(OpText("v")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("malformed")));
  korbclient::RegisterStub ill_typed(client, forwarder_.RefTo("t"));
  EXPECT_THAT(ill_typed.Put(OpText("v")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("other.Thing")));
}

// The cached location's server dies: the call falls back to the original
// reference, follows its new forward, and caches that.
TEST_P(ForwardTest, DeadCachedLocationFallsBackToOriginal) {
  forwarder_.Forward("reg", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  ASSERT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), replicas_.ref(0));

  replicas_.server(0).Shutdown();
  forwarder_.Forward("reg", replicas_.ref(1).ToString());
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("w"), {.timeout = absl::Seconds(30)});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(replicas_.servant(1).value(), "w");
  EXPECT_EQ(forwarder_.calls(), 2);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), replicas_.ref(1));
}

// The cached location no longer has the object (object-not-exist): same
// fallback.
TEST_P(ForwardTest, CachedLocationWithoutObjectFallsBack) {
  forwarder_.Forward("reg", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  ASSERT_THAT(replicas_.adapter(0).Deactivate("reg"), IsOk());
  forwarder_.Forward("reg", replicas_.ref(1).ToString());
  ASSERT_THAT(stub.Get(OpText("")), IsOk());
  EXPECT_EQ(replicas_.servant(1).gets.load(), 1);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), replicas_.ref(1));
}

// The original reference no longer forwards: the dead cached location is
// dropped and the original's answer returned.
TEST_P(ForwardTest, FallbackToOriginalThatNoLongerForwards) {
  forwarder_.Forward("reg", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  replicas_.server(0).Shutdown();
  forwarder_.Remove("reg");
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("w"), {.timeout = absl::Seconds(30)});
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(result.status()), ErrorKind::kObjectNotExist);
  EXPECT_EQ(forwarder_.calls(), 2);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), std::nullopt);
}

// A forwarded call keeps its korb-request-id on every hop.
TEST_P(ForwardTest, RequestIdSurvivesForwards) {
  forwarder_.Forward("a", forwarder_.RefTo("b").ToString());
  forwarder_.Forward("b", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("a"));
  absl::StatusOr<korbclient::Result> result = stub.Append(OpText("x"));
  ASSERT_THAT(result, IsOk());
  ASSERT_FALSE(result->request_id().empty());
  EXPECT_THAT(forwarder_.request_ids(), ElementsAre(result->request_id(), result->request_id()));
  EXPECT_THAT(replicas_.servant(0).request_ids(), ElementsAre(result->request_id()));
}

TEST_P(ForwardTest, AsyncCallsFollowForwards) {
  forwarder_.Forward("reg", replicas_.ref(1).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  Future<korbclient::Result> future = stub.PutAsync(OpText("v"));
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30))) << "call never completed";
  EXPECT_THAT(future.Get(), IsOk());
  EXPECT_EQ(replicas_.servant(1).value(), "v");
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), replicas_.ref(1));
}

// A Korb adapter's own forward (ObjectAdapter::Forward) is followed the
// same way, and the object's later move is picked up through the fallback.
TEST_P(ForwardTest, AdapterForwardIsFollowed) {
  ASSERT_THAT(replicas_.adapter(0).Forward("reg", replicas_.ref(1)), IsOk());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, replicas_.ref(0));
  absl::StatusOr<korbclient::Result> result = stub.Put(OpText("v"));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(replicas_.servant(1).value(), "v");
  EXPECT_EQ(client.CachedLocation(replicas_.ref(0)), replicas_.ref(1));
  // The object moves back: r1 forwards to r0, where it is active again.
  ASSERT_THAT(replicas_.adapter(0).RemoveForward("reg"), IsOk());
  ASSERT_THAT(replicas_.adapter(0).Activate("reg", std::make_shared<testing::RegisterImpl>("r0b")),
              IsOk());
  ASSERT_THAT(replicas_.adapter(1).Forward("reg", replicas_.ref(0)), IsOk());
  ASSERT_THAT(stub.Put(OpText("w")), IsOk());
  EXPECT_EQ(client.CachedLocation(replicas_.ref(0)), std::nullopt)
      << "a forward back to the original reference is not a new location";
}

// A forward from an object of this process to one elsewhere leaves the
// collocated path (the forwarding server is reached over gRPC only), and the
// forward back in enters it again: each attempt takes its own transport.
TEST_P(ForwardTest, ForwardsLeaveAndEnterTheProcess) {
  Ref moved("korbclient.Register", replicas_.ref(0).endpoints(), "r", "moved");
  ASSERT_THAT(replicas_.adapter(0).Forward("moved", forwarder_.RefTo("moved")), IsOk());
  forwarder_.Forward("moved", replicas_.ref(1).ToString());
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, moved);
  ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  EXPECT_EQ(forwarder_.calls(), 1);
  EXPECT_EQ(replicas_.servant(1).value(), "v");
  EXPECT_EQ(client.CachedLocation(moved), replicas_.ref(1));
}

// A hostile server forwarding each call to a new endpoint does not make the
// Client keep a channel (and an endpoint record) per endpoint it named:
// idle ones beyond max_idle_channels are closed.
TEST_P(ForwardTest, ForwardsToEverNewEndpointsDoNotPinChannels) {
  Client client(testing::Transport(GetParam(), {.max_idle_channels = 2}));
  for (int i = 0; i < 12; ++i) {
    const std::string id = "hostile" + std::to_string(i);
    Ref dead("korbclient.Register", {HostPort{"127.0.0.1", static_cast<uint16_t>(1 + i)}}, "r",
             "reg");
    forwarder_.Forward(id, dead.ToString());
    korbclient::RegisterStub stub(client, forwarder_.RefTo(id));
    EXPECT_THAT(stub.Get(OpText(""), {.timeout = absl::Seconds(30), .max_attempts = 1}),
                StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_LE(client.channel_count(), 3u);  // two idle and the last one made
  EXPECT_LE(client.health_count(), 3u);
}

// With the cache disabled every call starts at the original reference.
TEST_P(ForwardTest, CacheCanBeDisabled) {
  forwarder_.Forward("reg", replicas_.ref(0).ToString());
  Client client(testing::Transport(GetParam(), {.location_cache_capacity = 0}));
  korbclient::RegisterStub stub(client, forwarder_.RefTo("reg"));
  for (int i = 0; i < 3; ++i) ASSERT_THAT(stub.Put(OpText("v")), IsOk());
  EXPECT_EQ(forwarder_.calls(), 3);
  EXPECT_EQ(client.CachedLocation(forwarder_.RefTo("reg")), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Transports, ForwardTest, ::testing::Bool(), testing::TransportName);

}  // namespace
}  // namespace korb
