#include "adapter/reply_cache.h"

#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace korb {
namespace {

// What an entry costs besides its strings: the map node, the Entry, and its
// two places in the completion queues.
constexpr size_t kEntryOverhead = 192;

size_t KeyBytes(absl::string_view object, absl::string_view request_id,
                absl::string_view operation) {
  // The object and request id are held three times: in the maps and in both
  // completion queues.
  return kEntryOverhead + 3 * (object.size() + request_id.size()) + operation.size();
}

size_t ReplyBytes(const CachedReply& reply) {
  return reply.message.size() + reply.error_kind.size() + reply.body.Length();
}

}  // namespace

uint64_t BodyDigest(const grpc::ByteBuffer& body) {
  std::vector<grpc::Slice> slices;
  // Dump() only fails for an uninitialized buffer: an empty body.
  if (!body.Dump(&slices).ok()) return absl::HashOf(absl::string_view());
  std::vector<absl::string_view> parts;
  parts.reserve(slices.size());
  for (const grpc::Slice& slice : slices) {
    parts.emplace_back(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // Slice boundaries differ between transports for one body: hash the bytes,
  // not the partition.
  if (parts.size() == 1) return absl::HashOf(parts.front());
  std::string joined;
  joined.reserve(body.Length());
  for (absl::string_view part : parts) joined.append(part.data(), part.size());
  return absl::HashOf(absl::string_view(joined));
}

ReplyCache::ReplyCache(ReplyCacheOptions options, std::function<absl::Time()> clock)
    : options_(options), clock_(std::move(clock)) {}

ReplyCache::Claim ReplyCache::Begin(absl::string_view object, absl::string_view request_id,
                                    const CallFingerprint& fingerprint, CachedReply* reply) {
  const absl::Time now = clock_();
  MutexLock lock(&mu_);
  ExpireLocked(now);
  auto [it, inserted] = objects_[object].entries.try_emplace(request_id);
  Entry& entry = it->second;
  if (inserted) {
    entry.operation = std::string(fingerprint.operation);
    entry.body_digest = fingerprint.body_digest;
    entry.bytes = KeyBytes(object, request_id, fingerprint.operation);
    bytes_ += entry.bytes;
    ++total_;
    return Claim::kNew;
  }
  // While the first claim runs, any other claim waits ("retry later"): the
  // first may be an attempt whose connection broke mid-request, whose body
  // is not the call's, and which will be abandoned.
  if (!entry.done) return Claim::kInProgress;
  if (entry.operation != fingerprint.operation || entry.body_digest != fingerprint.body_digest) {
    return Claim::kConflict;
  }
  *reply = entry.reply;
  return Claim::kDone;
}

void ReplyCache::Complete(absl::string_view object, absl::string_view request_id,
                          CachedReply reply) {
  const absl::Time now = clock_();
  if (size_t size = ReplyBytes(reply); size > options_.max_reply_bytes) {
    // Kept as a marker: the call ran, so its retry must not run it again.
    reply = CachedReply();
    reply.code = grpc::StatusCode::DATA_LOSS;
    reply.message = absl::StrCat("the call ran, but its reply (", size,
                                 " bytes) was larger than the reply cache keeps (",
                                 options_.max_reply_bytes, " bytes); it is not run again");
  }
  MutexLock lock(&mu_);
  auto object_it = objects_.find(object);
  if (object_it == objects_.end()) return;
  ObjectReplies& replies = object_it->second;
  auto it = replies.entries.find(request_id);
  if (it == replies.entries.end() || it->second.done) return;
  Entry& entry = it->second;
  entry.done = true;
  entry.completed_at = now;
  const size_t reply_bytes = ReplyBytes(reply);
  entry.bytes += reply_bytes;
  bytes_ += reply_bytes;
  entry.reply = std::move(reply);
  replies.completed.emplace_back(std::string(request_id), now);
  completed_.push_back({std::string(object), std::string(request_id), now});
  while (replies.completed.size() > options_.max_per_object) {
    auto [oldest, at] = std::move(replies.completed.front());
    replies.completed.pop_front();
    EraseCompletedLocked(std::string(object), oldest, at);  // may erase `replies`
    if (!objects_.contains(object)) break;
  }
  ExpireLocked(now);
}

void ReplyCache::Abandon(absl::string_view object, absl::string_view request_id) {
  MutexLock lock(&mu_);
  auto object_it = objects_.find(object);
  if (object_it == objects_.end()) return;
  auto it = object_it->second.entries.find(request_id);
  if (it == object_it->second.entries.end() || it->second.done) return;
  bytes_ -= it->second.bytes;
  object_it->second.entries.erase(it);
  --total_;
  if (object_it->second.entries.empty()) objects_.erase(object_it);
}

size_t ReplyCache::size() const {
  MutexLock lock(&mu_);
  return total_;
}

size_t ReplyCache::bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}

void ReplyCache::EraseCompletedLocked(const std::string& object, const std::string& request_id,
                                      absl::Time at) {
  auto object_it = objects_.find(object);
  if (object_it == objects_.end()) return;
  auto it = object_it->second.entries.find(request_id);
  if (it == object_it->second.entries.end() || !it->second.done ||
      it->second.completed_at != at) {
    return;
  }
  bytes_ -= it->second.bytes;
  object_it->second.entries.erase(it);
  --total_;
  if (object_it->second.entries.empty()) objects_.erase(object_it);
}

void ReplyCache::ExpireLocked(absl::Time now) {
  while (!completed_.empty() &&
         (completed_.front().at + options_.ttl <= now || total_ > options_.max_total ||
          bytes_ > options_.max_bytes)) {
    Completion oldest = std::move(completed_.front());
    completed_.pop_front();
    EraseCompletedLocked(oldest.object, oldest.request_id, oldest.at);
  }
}

}  // namespace korb
