// ReplyCache on its own, with a fake clock: claims, completion, abandoned
// claims, the time window and the size bounds.
#include "adapter/reply_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace korb {
namespace {

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
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew);
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kInProgress);
  cache.Complete("a", "r1", Reply("first"));
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(out.code, grpc::StatusCode::ABORTED);
  EXPECT_EQ(out.message, "first");
  EXPECT_EQ(out.error_kind, "transient");
  // Request ids are per object.
  EXPECT_EQ(cache.Begin("b", "r1", &out), ReplyCache::Claim::kNew);
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(ReplyCacheTest, AbandonedClaimMayRunAgain) {
  ReplyCache cache = Make({});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew);
  cache.Abandon("a", "r1");
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew);
  // Abandon and Complete of something not claimed are no-ops.
  cache.Abandon("zz", "r");
  cache.Complete("zz", "r", Reply("x"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ReplyCacheTest, RepliesExpireAfterTtl) {
  ReplyCache cache = Make({.ttl = absl::Seconds(60)});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew);
  cache.Complete("a", "r1", Reply("x"));
  now_ += absl::Seconds(59);
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kDone);
  now_ += absl::Seconds(2);
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew) << "kept past its ttl";
}

TEST_F(ReplyCacheTest, ClaimsInProgressNeverExpire) {
  ReplyCache cache = Make({.ttl = absl::Seconds(1), .max_per_object = 1, .max_total = 2});
  CachedReply out;
  ASSERT_EQ(cache.Begin("a", "slow", &out), ReplyCache::Claim::kNew);
  now_ += absl::Hours(1);
  for (int i = 0; i < 10; ++i) {
    std::string id = "r" + std::to_string(i);
    ASSERT_EQ(cache.Begin("a", id, &out), ReplyCache::Claim::kNew);
    cache.Complete("a", id, Reply(id));
  }
  EXPECT_EQ(cache.Begin("a", "slow", &out), ReplyCache::Claim::kInProgress);
}

TEST_F(ReplyCacheTest, PerObjectBoundDropsOldestFirst) {
  ReplyCache cache = Make({.max_per_object = 2});
  CachedReply out;
  for (const char* id : {"r1", "r2", "r3"}) {
    ASSERT_EQ(cache.Begin("a", id, &out), ReplyCache::Claim::kNew);
    cache.Complete("a", id, Reply(id));
  }
  EXPECT_EQ(cache.Begin("a", "r3", &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(cache.Begin("a", "r2", &out), ReplyCache::Claim::kDone);
  EXPECT_EQ(cache.Begin("a", "r1", &out), ReplyCache::Claim::kNew) << "oldest not dropped";
}

TEST_F(ReplyCacheTest, TotalBoundHoldsAcrossObjects) {
  ReplyCache cache = Make({.max_total = 100});
  CachedReply out;
  for (int i = 0; i < 1000; ++i) {
    std::string object = "o" + std::to_string(i);
    ASSERT_EQ(cache.Begin(object, "r", &out), ReplyCache::Claim::kNew);
    cache.Complete(object, "r", Reply(object));
    ASSERT_LE(cache.size(), 101u);
  }
  // The newest reply is still there.
  EXPECT_EQ(cache.Begin("o999", "r", &out), ReplyCache::Claim::kDone);
}

}  // namespace
}  // namespace korb
