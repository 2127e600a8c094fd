#include "adapter/internal/collocated.h"

#include "client/internal/collocation.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <ctime>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapter/internal/server_impl.h"
#include "common/sync.h"
#include "common/wire.h"

namespace korb::internal {

// A registered server and the collocated calls opened on it. Outlives them:
// Unregister() waits for `calls` to drop to zero before deleting it.
struct LocalServer {
  ServerImpl* server;
  std::atomic<int> calls{0};
};

namespace {

class Registry {
 public:
  void Register(ServerImpl* server, const std::vector<HostPort>& names) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    std::unique_ptr<LocalServer>& entry = servers_[server];
    if (entry == nullptr) entry.reset(new LocalServer{server});
    for (const HostPort& name : names) by_name_.try_emplace(name, entry.get());
    any_.store(true, std::memory_order_relaxed);
  }

  void Unregister(ServerImpl* server) ABSL_LOCKS_EXCLUDED(mu_) {
    std::unique_ptr<LocalServer> entry;
    {
      MutexLock lock(&mu_);
      auto it = servers_.find(server);
      if (it == servers_.end()) return;
      entry = std::move(it->second);
      servers_.erase(it);
      absl::erase_if(by_name_, [&entry](const auto& name) { return name.second == entry.get(); });
      any_.store(!servers_.empty(), std::memory_order_relaxed);
    }
    // Calls were opened under mu_, so none can be opened any more. Those
    // still open are answered soon (the adapters have shut down); a poll is
    // fine at the end of a shutdown.
    while (entry->calls.load(std::memory_order_acquire) > 0) absl::SleepFor(absl::Milliseconds(1));
  }

  LocalServer* Open(const HostPort& endpoint) ABSL_LOCKS_EXCLUDED(mu_) {
    // Processes without a server pay one relaxed load per attempt.
    if (!any_.load(std::memory_order_relaxed)) return nullptr;
    ReaderMutexLock lock(&mu_);
    auto it = by_name_.find(endpoint);
    if (it == by_name_.end()) return nullptr;
    it->second->calls.fetch_add(1, std::memory_order_relaxed);
    return it->second;
  }

 private:
  Mutex mu_;
  absl::flat_hash_map<ServerImpl*, std::unique_ptr<LocalServer>> servers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<HostPort, LocalServer*> by_name_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> any_{false};
};

Registry& TheRegistry() {
  // Never destroyed: servers may shut down during static destruction.
  static Registry* registry = new Registry();
  return *registry;
}

bool IsLoopback(absl::string_view host) {
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

bool IsWildcard(absl::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

namespace {

// What the client library reaches collocated calls through
// (client/internal/collocation.h): it cannot link this library itself.
const CollocationOps kCollocationOps = {
    .open = [](const HostPort& endpoint) { return CollocatedCall::Open(endpoint); },
    .start = [](std::shared_ptr<CollocatedCall> call) { CollocatedCall::Start(std::move(call)); },
    .on_end = [](CollocatedCall& call, std::function<void()> done) { call.OnEnd(std::move(done)); },
    .abandon = [](CollocatedCall& call, absl::Status status) { call.Abandon(std::move(status)); },
    .wait = [](CollocatedCall& call, absl::Time deadline) { call.Wait(deadline); },
};

}  // namespace

void LocalServers::Register(ServerImpl* server, const std::vector<HostPort>& names) {
  InstallCollocationOps(&kCollocationOps);
  TheRegistry().Register(server, names);
}

void LocalServers::Unregister(ServerImpl* server) { TheRegistry().Unregister(server); }

std::vector<HostPort> LocalServers::NamesOf(absl::string_view listen_host,
                                            const HostPort& endpoint) {
  std::vector<HostPort> names = {endpoint};
  auto add = [&names, &endpoint](absl::string_view host) {
    HostPort name{std::string(host), endpoint.port};
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  if (!IsWildcard(listen_host)) add(listen_host);
  // Only a listener on loopback (or on every address) is what a loopback
  // name reaches; one bound to another address is not.
  if (IsWildcard(listen_host) || IsLoopback(listen_host)) {
    add("localhost");
    add("127.0.0.1");
    add("::1");
  }
  if (IsWildcard(listen_host)) add(HostName());
  return names;
}

// --- CollocatedCall -------------------------------------------------------------

std::shared_ptr<CollocatedCall> CollocatedCall::Open(const HostPort& endpoint) {
  // A TLS endpoint is called over the network: the server then sees the
  // caller's verified certificate, which its access control may require; a
  // collocated call has no handshake and so no identity.
  if (endpoint.tls) return nullptr;
  LocalServer* server = TheRegistry().Open(endpoint);
  if (server == nullptr) return nullptr;
  return std::make_shared<CollocatedCall>(OpenTag(), server);
}

CollocatedCall::~CollocatedCall() { server_->calls.fetch_sub(1, std::memory_order_release); }

void CollocatedCall::OnEnd(std::function<void()> done) {
  done_ = std::move(done);
  if (state_.fetch_or(kHasDone, std::memory_order_acq_rel) & kEnded) done_();
}

void CollocatedCall::Publish(uint32_t outcome) {
  const uint32_t before = state_.fetch_or(kEnded | outcome, std::memory_order_acq_rel);
  if (before & kWaiter) {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
            nullptr, 0);
  }
  if (before & kHasDone) done_();
}

void CollocatedCall::Start(std::shared_ptr<CollocatedCall> call) {
  CollocatedCall& self = *call;
  if (self.state_.load(std::memory_order_acquire) & kClaimed) return;  // abandoned already
  const int limit = self.server_->server->max_receive_message_bytes();
  if (limit >= 0 && self.payload.Length() > static_cast<size_t>(limit)) {
    // As the server's gRPC refuses it, before the pipeline sees it.
    if (self.Claim()) {
      self.status_ = absl::ResourceExhaustedError(absl::StrCat(
          "Received message larger than max (", self.payload.Length(), " vs. ", limit, ")"));
      self.Publish(kAnswered);
    }
    return;
  }
  self.self_ = std::move(call);
  Request& request = self.call_.request;
  request.method_path = self.method_path;
  request.object_key = self.object_key;
  if (self.priority.has_value()) request.priority = *self.priority;
  if (!self.request_id.empty()) request.request_id = self.request_id;
  request.deadline = self.deadline;
  request.payload = &self.payload;
  // `self` may be answered, and released by the pipeline, before Accept()
  // returns; the caller's reference keeps it.
  self.server_->server->Accept(self.call_);
}

void CollocatedCall::Abandon(absl::Status status) {
  if (!Claim()) return;
  status_ = std::move(status);
  // As gRPC reports a client's cancellation to the server: the operation's
  // cancel callback runs, a queued call is dropped.
  call_.Cancelled();
  Publish(kAbandoned);
}

void CollocatedCall::Wait(absl::Time deadline) {
  // Only a caller that has to wait pays for it (an inline adapter has
  // answered already).
  uint32_t state = state_.load(std::memory_order_acquire);
  if (state & kEnded) return;
  state = state_.fetch_or(kWaiter, std::memory_order_acq_rel) | kWaiter;
  while (!(state & kEnded)) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      Abandon(absl::DeadlineExceededError("Deadline Exceeded"));
      // Another end may have been claimed first and not be published yet.
      while (!(state_.load(std::memory_order_acquire) & kEnded)) std::this_thread::yield();
      return;
    }
    timespec timeout = absl::ToTimespec(std::min(deadline - now, absl::Seconds(1)));
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, state, &timeout,
            nullptr, 0);
    state = state_.load(std::memory_order_acquire);
  }
}

std::optional<absl::string_view> CollocatedCall::Metadata(absl::string_view key) const {
  if (key == kObjectKeyHeader) return object_key;
  if (key == kPriorityHeader) {
    if (priority.has_value()) return *priority;
    return std::nullopt;
  }
  if (key == kRequestIdHeader) {
    if (!request_id.empty()) return request_id;
    return std::nullopt;
  }
  for (const auto& [name, value] : metadata) {
    if (name == key) return value;
  }
  return std::nullopt;
}

MetadataList CollocatedCall::CopyMetadata() const {
  MetadataList copy;
  copy.reserve(metadata.size() + 3);
  copy.emplace_back(kObjectKeyHeader, object_key);
  if (priority.has_value()) copy.emplace_back(kPriorityHeader, *priority);
  if (!request_id.empty()) copy.emplace_back(kRequestIdHeader, request_id);
  copy.insert(copy.end(), metadata.begin(), metadata.end());
  return copy;
}

void CollocatedCall::Send(const absl::Status& status) {
  std::shared_ptr<CollocatedCall> self = std::move(self_);
  if (Claim()) {
    if (deadline != absl::InfiniteFuture() && absl::Now() > deadline) {
      // Too late for the caller, who would have given up at the deadline
      // had it not been running the operation itself (inline policy).
      status_ = absl::DeadlineExceededError("Deadline Exceeded");
      Publish(0);
    } else {
      status_ = status;
      Publish(kAnswered);
    }
  }
  // `self` may be the last reference: nothing of this object is used after.
}

}  // namespace korb::internal
