// Servants and helpers shared by the adapter, client and end-to-end tests.
//
// Thread-safety: EchoImpl is thread-safe (stateless but for atomic counters).
#ifndef KORB_TESTS_TESTING_TEST_SERVANTS_H_
#define KORB_TESTS_TESTING_TEST_SERVANTS_H_

#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapter/object_adapter.h"
#include "common/sync.h"
#include "korbtest/testing.korb.h"

namespace korb::testing {

// Echoes its request and reports what it saw of the call; can delay, fail
// with a status, or throw on request.
class EchoImpl : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    ++running;
    ++calls;
    struct Done {
      std::atomic<int>& running;
      ~Done() { --running; }
    } done{running};
    // Sleep in small steps, giving up early if the caller cancelled: shows
    // cancellation reaching the servant and keeps test teardown fast.
    absl::Time until = absl::Now() + absl::Milliseconds(request.delay_ms());
    while (absl::Now() < until) {
      if (context.IsCancelled()) {
        // The server may learn of an expired deadline before the caller's
        // own timer fires: say which it was, as the caller would.
        if (absl::Now() >= context.deadline()) return absl::DeadlineExceededError("deadline passed");
        return absl::CancelledError("caller went away");
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    if (request.throw_exception()) throw std::runtime_error("servant exploded");
    if (request.fail_code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(request.fail_code()), request.text());
    }
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    reply.set_object_id(std::string(context.object_id()));
    if (auto value = context.Metadata("x-test")) reply.set_metadata(std::string(*value));
    return reply;
  }
  absl::StatusOr<Empty> Ping(CallContext&, const Empty&) override { return Empty(); }

  // Waits until at least `n` calls are inside Echo(); false after 30 s.
  bool AwaitRunning(int n) const {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (running.load() < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  std::atomic<int> calls{0};
  std::atomic<int> running{0};
};

// Records the text of every call it runs, in order. A call whose text
// starts with "block" waits until Release() (or 30 s) — or until the caller
// cancels, which it learns through CallContext::OnCancel().
class GatedEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    {
      MutexLock lock(&mu_);
      log_.push_back(request.text());
      ++running_;
    }
    bool cancelled = false;
    if (request.text().rfind("block", 0) == 0) {
      auto interrupt = std::make_shared<Notification>();
      context.OnCancel([interrupt] { interrupt->Notify(); });
      MutexLock lock(&mu_);
      auto released = [this, &interrupt]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return released_ || interrupt->HasBeenNotified();
      };
      mu_.AwaitWithTimeout(absl::Condition(&released), absl::Seconds(30));
      cancelled = !released_;
      if (cancelled) ++saw_cancel_;
    }
    MutexLock lock(&mu_);
    --running_;
    if (cancelled) return absl::CancelledError("interrupted by OnCancel");
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    return reply;
  }

  void Release() {
    MutexLock lock(&mu_);
    released_ = true;
  }
  std::vector<std::string> log() const {
    MutexLock lock(&mu_);
    return log_;
  }
  int saw_cancel() const {
    MutexLock lock(&mu_);
    return saw_cancel_;
  }
  // Waits until `n` calls are inside Echo(); false after 30 s.
  bool AwaitRunning(int n) const {
    MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  int saw_cancel_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// Activates EchoImpl objects on request.
class FactoryImpl : public korbtest::EchoFactoryServant {
 public:
  absl::StatusOr<ObjectRef> Create(CallContext& context,
                                    const korbtest::CreateRequest& request) override {
    absl::StatusOr<Ref> ref = request.id().empty()
                                  ? context.adapter()->Activate(std::make_shared<EchoImpl>())
                                  : context.adapter()->Activate(request.id(),
                                                                std::make_shared<EchoImpl>());
    if (!ref.ok()) return ref.status();
    return ref->ToProto();
  }
};

// The outcome of a raw gRPC call made without Korb's stubs.
struct RawReply {
  grpc::Status status;
  std::string korb_error;  // the korb-error trailer, if any
  std::string body;        // the serialized reply, if OK
  // Every trailing metadata entry (korb-load, korb-forward, ...).
  std::map<std::string, std::string> trailers;
};

// Makes a unary call of `path` with serialized `body` and the given metadata
// through gRPC's generic stub, as a non-Korb client would. Waits at most 30 s.
RawReply RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                 const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace korb::testing

#endif  // KORB_TESTS_TESTING_TEST_SERVANTS_H_
