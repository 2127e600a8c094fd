// korb::ReplyCache: the replies an adapter keeps so that a retried call is
// answered, not executed again (at-most-once execution for calls that carry
// `korb-request-id`).
//
// A call with request id R to object X claims (X, R) with Begin() before it
// runs. The first claim executes and then Complete()s with its reply (or
// Abandon()s if the operation did not run, so that a retry may run it);
// later claims of (X, R) get the stored reply (kDone) or, while the first is
// still executing, kInProgress. A stored reply is kept for `ttl` after it
// completed, and each object keeps at most `max_per_object` of them (oldest
// dropped first); all objects together at most `max_total`. A retry that
// arrives after its reply was dropped runs again: that is the window's
// limit (docs/client.md, "Retries").
//
// Thread-safety: thread-safe.
//
// Usage:
//   CachedReply reply;
//   switch (cache.Begin(id, request_id, &reply)) {
//     case ReplyCache::Claim::kNew:        run it, then cache.Complete(id, request_id, result)
//     case ReplyCache::Claim::kDone:       answer with `reply`
//     case ReplyCache::Claim::kInProgress: answer "still executing, retry later"
//   }
#ifndef KORB_ADAPTER_REPLY_CACHE_H_
#define KORB_ADAPTER_REPLY_CACHE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace korb {

struct ReplyCacheOptions {
  absl::Duration ttl = absl::Seconds(60);
  size_t max_per_object = 256;
  size_t max_total = 100000;
};

// What a completed call answered.
struct CachedReply {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string error_kind;  // korb-error trailer value, if any
  grpc::ByteBuffer body;   // the reply message when OK
};

class ReplyCache {
 public:
  enum class Claim { kNew, kDone, kInProgress };

  // `clock` tells the time (tests pass a fake one).
  explicit ReplyCache(ReplyCacheOptions options,
                      std::function<absl::Time()> clock = [] { return absl::Now(); });
  ReplyCache(const ReplyCache&) = delete;
  ReplyCache& operator=(const ReplyCache&) = delete;

  // Claims (object, request_id); on kDone fills *reply.
  Claim Begin(absl::string_view object, absl::string_view request_id, CachedReply* reply)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The claimed call ran and answered `reply`.
  void Complete(absl::string_view object, absl::string_view request_id, CachedReply reply)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The claimed call did not run the operation; forget the claim.
  void Abandon(absl::string_view object, absl::string_view request_id) ABSL_LOCKS_EXCLUDED(mu_);

  // Stored replies plus claims in progress.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    bool done = false;
    absl::Time completed_at;
    CachedReply reply;
  };
  struct ObjectReplies {
    absl::flat_hash_map<std::string, Entry> entries;  // by request id
    // Completed request ids of this object, oldest first.
    std::deque<std::pair<std::string, absl::Time>> completed;
  };
  struct Completion {
    std::string object;
    std::string request_id;
    absl::Time at;
  };

  // Erases (object, request_id) if it is the reply completed at `at` (the
  // completion queues may hold stale names).
  void EraseCompletedLocked(const std::string& object, const std::string& request_id,
                            absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops replies older than ttl, and the oldest while over max_total.
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ReplyCacheOptions options_;
  const std::function<absl::Time()> clock_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, ObjectReplies> objects_ ABSL_GUARDED_BY(mu_);
  // All completions, oldest first.
  std::deque<Completion> completed_ ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace korb

#endif  // KORB_ADAPTER_REPLY_CACHE_H_
