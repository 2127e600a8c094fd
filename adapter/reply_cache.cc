#include "adapter/reply_cache.h"

#include <utility>

namespace korb {

ReplyCache::ReplyCache(ReplyCacheOptions options, std::function<absl::Time()> clock)
    : options_(options), clock_(std::move(clock)) {}

ReplyCache::Claim ReplyCache::Begin(absl::string_view object, absl::string_view request_id,
                                    CachedReply* reply) {
  const absl::Time now = clock_();
  MutexLock lock(&mu_);
  ExpireLocked(now);
  auto [it, inserted] = objects_[object].entries.try_emplace(request_id);
  if (inserted) {
    ++total_;
    return Claim::kNew;
  }
  if (!it->second.done) return Claim::kInProgress;
  *reply = it->second.reply;
  return Claim::kDone;
}

void ReplyCache::Complete(absl::string_view object, absl::string_view request_id,
                          CachedReply reply) {
  const absl::Time now = clock_();
  MutexLock lock(&mu_);
  auto object_it = objects_.find(object);
  if (object_it == objects_.end()) return;
  ObjectReplies& replies = object_it->second;
  auto it = replies.entries.find(request_id);
  if (it == replies.entries.end() || it->second.done) return;
  it->second.done = true;
  it->second.completed_at = now;
  it->second.reply = std::move(reply);
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
  object_it->second.entries.erase(it);
  --total_;
  if (object_it->second.entries.empty()) objects_.erase(object_it);
}

size_t ReplyCache::size() const {
  MutexLock lock(&mu_);
  return total_;
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
  object_it->second.entries.erase(it);
  --total_;
  if (object_it->second.entries.empty()) objects_.erase(object_it);
}

void ReplyCache::ExpireLocked(absl::Time now) {
  while (!completed_.empty() &&
         (completed_.front().at + options_.ttl <= now || total_ > options_.max_total)) {
    Completion oldest = std::move(completed_.front());
    completed_.pop_front();
    EraseCompletedLocked(oldest.object, oldest.request_id, oldest.at);
  }
}

}  // namespace korb
