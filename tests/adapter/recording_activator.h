// Test servants for the object lifecycle, shared by the servant manager and
// lifecycle tests (in memory, so under TSan too): CountingEcho, an Echo
// servant whose persistent state is how many Echo calls it ran, and
// RecordingActivator, which logs what the adapter asks of it and can hold
// Incarnate() and Etherealize() at a gate.
//
// Thread-safe.
#ifndef KORB_TESTS_ADAPTER_RECORDING_ACTIVATOR_H_
#define KORB_TESTS_ADAPTER_RECORDING_ACTIVATOR_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapter/servant_manager.h"
#include "common/sync.h"
#include "servants/persistent_state.h"
#include "tests/testing/test_servants.h"

namespace korb::testing {

inline constexpr absl::Duration kDeadline = absl::Seconds(30);

// Polls `done` until it holds; false after kDeadline.
template <typename Fn>
inline bool Eventually(Fn done) {
  const absl::Time deadline = absl::Now() + kDeadline;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

// An Echo servant whose state is the number of Echo calls it ran. A call
// with text "block" waits until `gate` is notified (at most kDeadline).
class CountingEcho : public EchoImpl, public PersistentState {
 public:
  explicit CountingEcho(std::shared_ptr<Notification> gate = nullptr) : gate_(std::move(gate)) {}
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    if (request.text() == "block" && gate_ != nullptr) {
      gate_->WaitForNotificationWithTimeout(kDeadline);
    }
    absl::StatusOr<korbtest::EchoReply> reply = EchoImpl::Echo(context, request);
    if (!reply.ok()) return reply;
    int now = ++count_;
    reply->set_text(std::to_string(now));
    return reply;
  }
  absl::Status LoadState(absl::string_view state) override {
    int value;
    if (!absl::SimpleAtoi(state, &value)) return absl::DataLossError("bad state");
    count_ = value;
    return absl::OkStatus();
  }
  std::string SaveState() const override { return std::to_string(count_.load()); }

 private:
  const std::shared_ptr<Notification> gate_;
  std::atomic<int> count_{0};
};

// Records what the adapter asks of it. Incarnate() fails for ids starting
// with "ghost", and can be held at a gate; Etherealize() too.
class RecordingActivator : public ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<Servant>> Incarnate(absl::string_view id) override {
    {
      MutexLock lock(&mu_);
      log_.push_back(absl::StrCat("incarnate ", id));
      ++incarnations_;
      auto open = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hold_incarnate_; };
      mu_.AwaitWithTimeout(absl::Condition(&open), kDeadline);
    }
    if (absl::StartsWith(id, "ghost")) return ObjectNotExist(id);
    return std::make_shared<CountingEcho>(gate_);
  }
  void Etherealize(absl::string_view id, std::shared_ptr<Servant> servant,
                   EtherealizeReason reason) override {
    MutexLock lock(&mu_);
    log_.push_back(absl::StrCat("etherealize ", id, " ", EtherealizeReasonName(reason)));
    ++etherealizations_;
    auto open = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hold_etherealize_; };
    mu_.AwaitWithTimeout(absl::Condition(&open), kDeadline);
  }

  // Lets the servants' "block" calls return.
  void ReleaseBlockedCalls() { gate_->Notify(); }
  void HoldIncarnate(bool hold) {
    MutexLock lock(&mu_);
    hold_incarnate_ = hold;
  }
  void HoldEtherealize(bool hold) {
    MutexLock lock(&mu_);
    hold_etherealize_ = hold;
  }
  int incarnations() const {
    MutexLock lock(&mu_);
    return incarnations_;
  }
  int etherealizations() const {
    MutexLock lock(&mu_);
    return etherealizations_;
  }
  std::vector<std::string> log() const {
    MutexLock lock(&mu_);
    return log_;
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  const std::shared_ptr<Notification> gate_ = std::make_shared<Notification>();
  int incarnations_ ABSL_GUARDED_BY(mu_) = 0;
  int etherealizations_ ABSL_GUARDED_BY(mu_) = 0;
  bool hold_incarnate_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_etherealize_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace korb::testing

#endif  // KORB_TESTS_ADAPTER_RECORDING_ACTIVATOR_H_
