// ReplyCache on its own, with a fake clock: claims, completion, abandoned
// claims, the time window and the size bounds.
#include "adapter/reply_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace korb {
namespace {

// The call every claim below is for, unless a test says otherwise.
const CallFingerprint kCall{.operation = "/bank.Account/Deposit", .body_digest = 7};

class ReplyCacheTest : public ::testing::Test {
 protected:
  ReplyCache Make(ReplyCacheOptions options) {
    return ReplyCache(options, [this] { return now_; });
  }
  static CachedReply Reply(const std::string& message) {
    CachedReply reply;
    reply.code = grpc::StatusCode::ABORTED;
    reply.message = message;
    reply.error_kind = "transient";
    return reply;
  }
  absl::Time now_ = absl::UnixEpoch() + absl::Hours(1);
};

TEST_F(ReplyCacheTest, FirstClaimRunsLaterOnesGetItsReply) {
  ReplyCache cache = Make({});
  CachedReply out;
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kInProgress);
  cache.Complete("a", "r1", Reply("first"));
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(out.code, grpc::StatusCode::ABORTED);
  EXPECT_EQ(out.message, "first");
  EXPECT_EQ(out.error_kind, "transient");
  // Request ids are per object.
  EXPECT_EQ(cache.Begin("b", "r1", kCall, &out), ReplyCache::Claim::kNew);
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(ReplyCacheTest, AbandonedClaimMayRunAgain) {
  ReplyCache cache = Make({});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
  cache.Abandon("a", "r1");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
  // Abandon and Complete of something not claimed are no-ops.
  cache.Abandon("zz", "r");
  cache.Complete("zz", "r", Reply("x"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ReplyCacheTest, RepliesExpireAfterTtl) {
  ReplyCache cache = Make({.ttl = absl::Seconds(60)});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
  cache.Complete("a", "r1", Reply("x"));
  now_ += absl::Seconds(59);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kDone);
  now_ += absl::Seconds(2);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew) << "kept past its ttl";
}

TEST_F(ReplyCacheTest, ClaimsInProgressNeverExpire) {
  ReplyCache cache = Make({.ttl = absl::Seconds(1), .max_per_object = 1, .max_total = 2});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "slow", kCall, &out), ReplyCache::Claim::kNew);
  now_ += absl::Hours(1);
  for (int i = 0; i < 10; ++i) {
    std::string id = "r" + std::to_string(i);
    ASSERT_EQ(cache.Begin("a", id, kCall, &out), ReplyCache::Claim::kNew);
    cache.Complete("a", id, Reply(id));
  }
  EXPECT_EQ(cache.Begin("a", "slow", kCall, &out), ReplyCache::Claim::kInProgress);
}

TEST_F(ReplyCacheTest, PerObjectBoundDropsOldestFirst) {
  ReplyCache cache = Make({.max_per_object = 2});
  CachedReply out;
  for (const char* id : {"r1", "r2", "r3"}) {
    ASSERT_EQ(cache.Begin("a", id, kCall, &out), ReplyCache::Claim::kNew);
    cache.Complete("a", id, Reply(id));
  }
  EXPECT_EQ(cache.Begin("a", "r3", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(cache.Begin("a", "r2", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew) << "oldest not dropped";
}

TEST_F(ReplyCacheTest, TotalBoundHoldsAcrossObjects) {
  ReplyCache cache = Make({.max_total = 100});
  CachedReply out;
  for (int i = 0; i < 1000; ++i) {
    std::string object = "o" + std::to_string(i);
    ASSERT_EQ(cache.Begin(object, "r", kCall, &out), ReplyCache::Claim::kNew);
    cache.Complete(object, "r", Reply(object));
    ASSERT_LE(cache.size(), 101u);
  }
  // The newest reply is still there.
  EXPECT_EQ(cache.Begin("o999", "r", kCall, &out), ReplyCache::Claim::kDone);
}

TEST_F(ReplyCacheTest, RequestIdOfAnotherCallIsAConflict) {
  ReplyCache cache = Make({});
  CachedReply out;
  const CallFingerprint other_operation{.operation = "/bank.Account/Withdraw", .body_digest = 7};
  const CallFingerprint other_body{.operation = kCall.operation, .body_digest = 8};
  ASSERT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
  // While it runs, any other claim waits (the running one may be a broken
  // attempt); once it completed, another call under its id is a conflict.
  EXPECT_EQ(cache.Begin("a", "r1", other_operation, &out), ReplyCache::Claim::kInProgress);
  cache.Complete("a", "r1", Reply("deposited"));
  EXPECT_EQ(cache.Begin("a", "r1", other_operation, &out), ReplyCache::Claim::kConflict);
  EXPECT_EQ(cache.Begin("a", "r1", other_body, &out), ReplyCache::Claim::kConflict);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(out.message, "deposited");
}

// An attempt whose connection broke mid-request claims the id with a body
// that is not the call's; the retry with the real body waits, and runs once
// the broken attempt is abandoned (ReplicaEndToEnd.CutConnectionsDepositOnce).
TEST_F(ReplyCacheTest, RetryAfterABrokenAttemptRunsOnceItIsAbandoned) {
  ReplyCache cache = Make({});
  CachedReply out;
  const CallFingerprint broken{.operation = kCall.operation, .body_digest = 0};
  ASSERT_EQ(cache.Begin("a", "r1", broken, &out), ReplyCache::Claim::kNew);
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kInProgress);
  cache.Abandon("a", "r1");
  EXPECT_EQ(cache.Begin("a", "r1", kCall, &out), ReplyCache::Claim::kNew);
}

TEST_F(ReplyCacheTest, BodyDigestDependsOnTheBytesNotTheirSlices) {
  grpc::Slice whole("hello world");
  grpc::Slice parts[] = {grpc::Slice("hello "), grpc::Slice("world")};
  grpc::Slice other("hello World");
  EXPECT_EQ(BodyDigest(grpc::ByteBuffer(&whole, 1)), BodyDigest(grpc::ByteBuffer(parts, 2)));
  EXPECT_NE(BodyDigest(grpc::ByteBuffer(&whole, 1)), BodyDigest(grpc::ByteBuffer(&other, 1)));
  EXPECT_EQ(BodyDigest(grpc::ByteBuffer()), BodyDigest(grpc::ByteBuffer()));
}

CachedReply ReplyWithBody(size_t bytes) {
  CachedReply reply;
  grpc::Slice body(std::string(bytes, 'x'));
  reply.body = grpc::ByteBuffer(&body, 1);
  return reply;
}

TEST_F(ReplyCacheTest, ByteBoundDropsOldestFirst) {
  ReplyCache cache = Make({.max_bytes = 100 << 10});
  CachedReply out;
  for (int i = 0; i < 100; ++i) {
    std::string id = "r" + std::to_string(i);
    ASSERT_EQ(cache.Begin("a", id, kCall, &out), ReplyCache::Claim::kNew);
    cache.Complete("a", id, ReplyWithBody(10 << 10));
    ASSERT_LE(cache.bytes(), (100u << 10) + (11u << 10)) << "after " << id;
  }
  EXPECT_LE(cache.size(), 10u);
  EXPECT_EQ(cache.Begin("a", "r99", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(out.body.Length(), 10u << 10);
  EXPECT_EQ(cache.Begin("a", "r0", kCall, &out), ReplyCache::Claim::kNew) << "oldest not dropped";
}

TEST_F(ReplyCacheTest, OversizedReplyIsNotKeptButNeverRunsTwice) {
  ReplyCache cache = Make({.max_reply_bytes = 1000});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "big", kCall, &out), ReplyCache::Claim::kNew);
  cache.Complete("a", "big", ReplyWithBody(5000));
  EXPECT_LT(cache.bytes(), 1000u);
  ASSERT_EQ(cache.Begin("a", "big", kCall, &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(out.code, grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(out.message.find("5000 bytes"), std::string::npos) << out.message;
  EXPECT_EQ(out.body.Length(), 0u);
}

TEST_F(ReplyCacheTest, BytesReturnToZeroWhenEverythingIsGone) {
  ReplyCache cache = Make({.ttl = absl::Seconds(1)});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "kept", kCall, &out), ReplyCache::Claim::kNew);
  ASSERT_EQ(cache.Begin("a", "dropped", kCall, &out), ReplyCache::Claim::kNew);
  EXPECT_GT(cache.bytes(), 0u);
  cache.Complete("a", "kept", ReplyWithBody(300));
  cache.Abandon("a", "dropped");
  now_ += absl::Seconds(2);
  ASSERT_EQ(cache.Begin("b", "r", kCall, &out), ReplyCache::Claim::kNew);  // expires "kept"
  cache.Abandon("b", "r");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace korb
