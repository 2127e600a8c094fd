// Scripted PendingCalls for the threading policy tests: each call records in
// a shared CallLog when and on which thread it ran (or why it was rejected),
// whether it overlapped another call of the same object or connection, and
// may block on a gate until the test opens it.
//
// Every wait here is bounded by kTestDeadline (30 s) and reports failure by
// returning false, so a broken policy fails a test instead of hanging it.
//
// Thread-safety: CallLog is thread-safe; a ScriptedCall is run or rejected
// once, by the policy under test, while the test owns it.
//
// Usage:
//   CallLog log;
//   korb::Notification gate;
//   ScriptedCall blocker(&log, 0, {.object = &a, .gate = &gate});
//   policy.Execute(&blocker);
//   ASSERT_TRUE(log.AwaitRunning(1));
#ifndef KORB_TESTS_ADAPTER_POLICY_TEST_CALLS_H_
#define KORB_TESTS_ADAPTER_POLICY_TEST_CALLS_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"

namespace korb::testing {

inline constexpr absl::Duration kTestDeadline = absl::Seconds(30);

// Polls `done` until it holds; false after kTestDeadline. For conditions only
// a policy's Stats() can tell (a thread ended), which no callback announces.
inline bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + kTestDeadline;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// What happened to a batch of ScriptedCalls.
struct CallLog {
  korb::Mutex mu;
  std::vector<int> ran ABSL_GUARDED_BY(mu);  // tags, in the order they started
  std::vector<std::pair<int, absl::Status>> rejected ABSL_GUARDED_BY(mu);
  std::map<int, std::thread::id> thread_of ABSL_GUARDED_BY(mu);
  // Calls running now, per object/connection key.
  std::map<std::pair<const void*, std::string>, int> running_per_key ABSL_GUARDED_BY(mu);
  // Set when two calls of one object and connection ran at once.
  bool overlapped ABSL_GUARDED_BY(mu) = false;
  bool gate_timed_out ABSL_GUARDED_BY(mu) = false;
  int running ABSL_GUARDED_BY(mu) = 0;
  int max_running ABSL_GUARDED_BY(mu) = 0;
  int finished ABSL_GUARDED_BY(mu) = 0;  // ran to the end or rejected

  bool Await(const std::function<bool()>& done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return mu.AwaitWithTimeout(absl::Condition(&done), kTestDeadline);
  }
  // Blocks until exactly `n` calls are running.
  bool AwaitRunning(int n) {
    korb::MutexLock lock(&mu);
    return Await([this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return running == n; });
  }
  // Blocks until at least `n` calls ran to the end or were rejected.
  bool AwaitFinished(int n) {
    korb::MutexLock lock(&mu);
    return Await([this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return finished >= n; });
  }
  // Blocks until at least `n` calls were rejected.
  bool AwaitRejected(size_t n) {
    korb::MutexLock lock(&mu);
    return Await([this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return rejected.size() >= n; });
  }
  // Tags of the rejected calls, in rejection order.
  std::vector<int> RejectedTags() {
    korb::MutexLock lock(&mu);
    std::vector<int> tags;
    for (const auto& [tag, status] : rejected) tags.push_back(tag);
    return tags;
  }
  std::vector<int> Ran() {
    korb::MutexLock lock(&mu);
    return ran;
  }
};

struct CallScript {
  int32_t priority = 0;
  const void* object = nullptr;  // nullptr: the call itself
  std::string connection = "ipv4:127.0.0.1:50000";
  korb::Notification* gate = nullptr;  // Run() blocks until it is notified
};

class ScriptedCall final : public PendingCall {
 public:
  ScriptedCall(CallLog* log, int tag, CallScript script = {})
      : log_(log), tag_(tag), script_(std::move(script)) {}

  void Run() override {
    const auto key = std::make_pair(object(), script_.connection);
    {
      korb::MutexLock lock(&log_->mu);
      log_->ran.push_back(tag_);
      log_->thread_of[tag_] = std::this_thread::get_id();
      if (++log_->running_per_key[key] > 1) log_->overlapped = true;
      log_->max_running = std::max(log_->max_running, ++log_->running);
    }
    bool opened = true;
    if (script_.gate != nullptr) {
      opened = script_.gate->WaitForNotificationWithTimeout(kTestDeadline);
    }
    korb::MutexLock lock(&log_->mu);
    if (!opened) log_->gate_timed_out = true;
    --log_->running_per_key[key];
    --log_->running;
    ++log_->finished;
  }
  void Reject(const absl::Status& status) override {
    korb::MutexLock lock(&log_->mu);
    log_->rejected.emplace_back(tag_, status);
    ++log_->finished;
  }
  int32_t priority() const override { return script_.priority; }
  const void* object() const override { return script_.object != nullptr ? script_.object : this; }
  absl::string_view connection() const override { return script_.connection; }

 private:
  CallLog* const log_;
  const int tag_;
  const CallScript script_;
};

// Owns the calls of a test; they must outlive the policy's use of them.
class Calls {
 public:
  ScriptedCall* Add(CallLog* log, int tag, CallScript script = {}) {
    calls_.push_back(std::make_unique<ScriptedCall>(log, tag, std::move(script)));
    return calls_.back().get();
  }

 private:
  std::vector<std::unique_ptr<ScriptedCall>> calls_;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_ADAPTER_POLICY_TEST_CALLS_H_
