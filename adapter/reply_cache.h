// korb::ReplyCache: the replies an adapter keeps so that a retried call is
// answered, not executed again (at-most-once execution for calls that carry
// `korb-request-id`).
//
// A call with request id R to object X claims (X, R) with Begin() before it
// runs, naming what it is (its operation and a digest of its request body).
// The first claim executes and then Complete()s with its reply (or
// Abandon()s if the operation did not run, so that a retry may run it);
// while the first is still executing, later claims of (X, R) get
// kInProgress; once it completed, a claim for the same call gets the stored
// reply (kDone) and one for another operation or another body kConflict: a
// request id names one logical call, and a reply is never handed to a
// different call. (While it runs, the first claim may be an attempt whose
// connection broke mid-request: its body is not the call's, so a differing
// claim then only waits.)
//
// Bounds (every one a client can push against): a stored reply is kept for
// `ttl` after it completed; each object keeps at most `max_per_object`, all
// objects together at most `max_total` replies and `max_bytes` bytes (oldest
// dropped first). A reply larger than `max_reply_bytes` is not kept: a retry
// of that call is answered DATA_LOSS ("ran, reply too large to keep"), never
// run twice. A retry that arrives after its reply was dropped runs again:
// that is the window's limit (docs/client.md, "Retries").
//
// Thread-safety: thread-safe.
//
// Usage:
//   CachedReply reply;
//   switch (cache.Begin(id, request_id, {operation, BodyDigest(body)}, &reply)) {
//     case ReplyCache::Claim::kNew:        run it, then cache.Complete(id, request_id, result)
//     case ReplyCache::Claim::kDone:       answer with `reply`
//     case ReplyCache::Claim::kInProgress: answer "still executing, retry later"
//     case ReplyCache::Claim::kConflict:   refuse: the id belongs to another call
//   }
#ifndef KORB_ADAPTER_REPLY_CACHE_H_
#define KORB_ADAPTER_REPLY_CACHE_H_

#include <cstddef>
#include <cstdint>
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
  // All kept replies of the adapter, with their keys, in bytes.
  size_t max_bytes = 64 << 20;
  // One reply larger than this (body and message) is not kept.
  size_t max_reply_bytes = 1 << 20;
};

// What a claim is for: a request id may be reused only by the same call.
struct CallFingerprint {
  absl::string_view operation;  // the method path
  uint64_t body_digest = 0;     // BodyDigest() of the request payload
};

// A digest of a request payload (not cryptographic: salted per process, so a
// client cannot aim at a collision it cannot compute).
uint64_t BodyDigest(const grpc::ByteBuffer& body);

// What a completed call answered.
struct CachedReply {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string error_kind;  // korb-error trailer value, if any
  grpc::ByteBuffer body;   // the reply message when OK
};

class ReplyCache {
 public:
  enum class Claim { kNew, kDone, kInProgress, kConflict };

  // `clock` tells the time (tests pass a fake one).
  explicit ReplyCache(ReplyCacheOptions options,
                      std::function<absl::Time()> clock = [] { return absl::Now(); });
  ReplyCache(const ReplyCache&) = delete;
  ReplyCache& operator=(const ReplyCache&) = delete;

  // Claims (object, request_id) for the call `fingerprint`; on kDone fills
  // *reply.
  Claim Begin(absl::string_view object, absl::string_view request_id,
              const CallFingerprint& fingerprint, CachedReply* reply) ABSL_LOCKS_EXCLUDED(mu_);
  // The claimed call ran and answered `reply`.
  void Complete(absl::string_view object, absl::string_view request_id, CachedReply reply)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The claimed call did not run the operation; forget the claim.
  void Abandon(absl::string_view object, absl::string_view request_id) ABSL_LOCKS_EXCLUDED(mu_);

  // Stored replies plus claims in progress.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // Bytes they take, as counted against max_bytes.
  size_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    bool done = false;
    absl::Time completed_at;
    std::string operation;
    uint64_t body_digest = 0;
    size_t bytes = 0;  // as counted in bytes_
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
  // Drops replies older than ttl, and the oldest while over max_total or
  // max_bytes.
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ReplyCacheOptions options_;
  const std::function<absl::Time()> clock_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, ObjectReplies> objects_ ABSL_GUARDED_BY(mu_);
  // All completions, oldest first.
  std::deque<Completion> completed_ ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace korb

#endif  // KORB_ADAPTER_REPLY_CACHE_H_
