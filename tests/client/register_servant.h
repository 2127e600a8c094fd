// Test support for the client runtime's transparency tests: a register
// servant with knobs (slow, failing, reporting a load, answering
// differently) and counters, and a set of in-process ObjectServers that each
// host one replica of it under the same adapter and id, so that one
// reference with every server's endpoint names the replicated object.
//
// Thread-safety: RegisterImpl is thread-safe; ReplicaSet is
// thread-compatible (tests drive it from their main thread).
#ifndef KORB_TESTS_CLIENT_REGISTER_SERVANT_H_
#define KORB_TESTS_CLIENT_REGISTER_SERVANT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/object_server.h"
#include "common/sync.h"
#include "common/wire.h"
#include "korbclient/register.korb.h"

namespace korb::testing {

class RegisterImpl : public korbclient::RegisterServant {
 public:
  explicit RegisterImpl(std::string name) : name_(std::move(name)) {}

  absl::StatusOr<korbclient::Result> Get(CallContext& context, const korbclient::Op& op) override {
    ++gets;
    if (absl::Status status = Enter(context, op); !status.ok()) return status;
    korbclient::Result result;
    MutexLock lock(&mu_);
    result.set_text(value_);
    result.set_replica(name_);
    return result;
  }

  absl::StatusOr<korbclient::Result> Put(CallContext& context, const korbclient::Op& op) override {
    ++puts;
    if (absl::Status status = Enter(context, op); !status.ok()) return status;
    korbclient::Result result;
    MutexLock lock(&mu_);
    value_ = skew_ + op.text();
    result.set_text(value_);
    return result;
  }

  absl::StatusOr<korbclient::Result> Append(CallContext& context,
                                            const korbclient::Op& op) override {
    ++appends;
    std::optional<absl::string_view> id = context.Metadata(kRequestIdHeader);
    {
      MutexLock lock(&mu_);
      request_ids_.emplace_back(id.has_value() ? std::string(*id) : "");
    }
    if (absl::Status status = Enter(context, op); !status.ok()) return status;
    korbclient::Result result;
    MutexLock lock(&mu_);
    value_ += skew_ + op.text();
    result.set_text(value_);
    if (id.has_value()) result.set_request_id(std::string(*id));
    return result;
  }

  // Writes prepend `skew`: this replica then answers differently.
  void SetSkew(std::string skew) {
    MutexLock lock(&mu_);
    skew_ = std::move(skew);
  }
  std::string value() const {
    MutexLock lock(&mu_);
    return value_;
  }
  // The korb-request-id of every Append call, in arrival order ("" if none).
  std::vector<std::string> request_ids() const {
    MutexLock lock(&mu_);
    return request_ids_;
  }
  int calls() const { return gets + puts + appends; }

  // Knobs.
  std::atomic<int> delay_ms{0};     // every call sleeps this long first
  std::atomic<int> fail_next{0};    // the next n calls answer UNAVAILABLE
  std::atomic<int> report_load{-1};  // >= 0: every answer carries this korb-load

  // Counters: calls that reached the servant.
  std::atomic<int> gets{0};
  std::atomic<int> puts{0};
  std::atomic<int> appends{0};

 private:
  absl::Status Enter(CallContext& context, const korbclient::Op& op) {
    if (report_load.load() >= 0) {
      context.AddTrailingMetadata(kLoadTrailer, absl::StrCat(report_load.load()));
    }
    const int delay = delay_ms.load() + op.delay_ms();
    const absl::Time until = absl::Now() + absl::Milliseconds(delay);
    while (absl::Now() < until) {
      if (context.IsCancelled()) {
        // Past the caller's deadline, or the caller gave up.
        if (absl::Now() >= context.deadline()) return absl::DeadlineExceededError("deadline passed");
        return absl::CancelledError("caller went away");
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    for (int n = fail_next.load(); n > 0; n = fail_next.load()) {
      if (fail_next.compare_exchange_weak(n, n - 1)) {
        return absl::UnavailableError(absl::StrCat(name_, ": injected failure"));
      }
    }
    return absl::OkStatus();
  }

  const std::string name_;
  mutable Mutex mu_;
  std::string value_ ABSL_GUARDED_BY(mu_);
  std::string skew_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> request_ids_ ABSL_GUARDED_BY(mu_);
};

// `n` ObjectServers on 127.0.0.1, each with adapter "r" serving a
// RegisterImpl as object "reg" (replica i is named "r<i>"). The adapters are
// persistent: a transient adapter's references carry its instance tag, so
// no single reference could name the replicas of several servers.
class ReplicaSet {
 public:
  absl::Status Start(int n, AdapterOptions options = {.threading = ThreadingOptions::SharedPool(8)}) {
    options.lifespan = Lifespan::kPersistent;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
      if (!server.ok()) return server.status();
      absl::StatusOr<ObjectAdapter*> adapter =
          (*server)->CreateAdapter("r", options);
      if (!adapter.ok()) return adapter.status();
      auto servant = std::make_shared<RegisterImpl>(absl::StrCat("r", i));
      absl::StatusOr<Ref> ref = (*adapter)->Activate("reg", servant);
      if (!ref.ok()) return ref.status();
      if (absl::Status resumed = (*adapter)->Resume(); !resumed.ok()) return resumed;
      endpoints_.push_back(ref->endpoints().front());
      adapters_.push_back(*adapter);
      servants_.push_back(std::move(servant));
      servers_.push_back(*std::move(server));
    }
    return absl::OkStatus();
  }

  // The replicated object: every server's endpoint, in server order.
  Ref ref() const { return Ref("korbclient.Register", endpoints_, "r", "reg"); }
  // Replica i alone.
  Ref ref(int i) const { return Ref("korbclient.Register", {endpoints_[i]}, "r", "reg"); }

  int size() const { return static_cast<int>(servers_.size()); }
  RegisterImpl& servant(int i) const { return *servants_[i]; }
  ObjectServer& server(int i) const { return *servers_[i]; }
  ObjectAdapter& adapter(int i) const { return *adapters_[i]; }
  const HostPort& endpoint(int i) const { return endpoints_[i]; }

 private:
  std::vector<std::unique_ptr<ObjectServer>> servers_;
  std::vector<ObjectAdapter*> adapters_;
  std::vector<std::shared_ptr<RegisterImpl>> servants_;
  std::vector<HostPort> endpoints_;
};

inline korbclient::Op OpText(std::string text, int delay_ms = 0) {
  korbclient::Op op;
  op.set_text(std::move(text));
  op.set_delay_ms(delay_ms);
  return op;
}

// Polls `condition` every millisecond; false if it did not hold within
// `timeout`.
inline bool Eventually(const std::function<bool()>& condition,
                       absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace korb::testing

#endif  // KORB_TESTS_CLIENT_REGISTER_SERVANT_H_
