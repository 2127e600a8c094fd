#include "client/internal/name_resolver.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/internal/invocation.h"
#include "client/internal/naming_wire.pb.h"
#include "client/internal/timer_queue.h"
#include "client/retry.h"
#include "client/stub_base.h"
#include "common/wire.h"

namespace korb::internal {
namespace {

namespace naming_wire = ::korb::naming::wire;

// The two operations of korb.naming.NamingContext the runtime calls, with
// naming.proto's paths and semantics. The paths are NUL-terminated literals,
// as BuildTarget requires.
constexpr MethodInfo kNamingMethods[] = {
    {"Resolve", "/korb.naming.NamingContext/Resolve", {.readonly = true}},
    {"WaitForChanges", "/korb.naming.NamingContext/WaitForChanges", {.readonly = true}},
};
constexpr InterfaceInfo kNamingInterface{"korb.naming.NamingContext", kNamingMethods};
constexpr int kResolveMethod = 0;
constexpr int kWaitMethod = 1;

// The naming service's object on a korb-naming server (naming.proto).
constexpr absl::string_view kNamingAdapter = "korb-naming";
constexpr absl::string_view kNamingId = "root";

// Backoff of a watch whose polls fail: a naming service that is down is
// asked again soon, but not hammered.
constexpr absl::Duration kPollInitialBackoff = absl::Seconds(1);
constexpr absl::Duration kPollMaxBackoff = absl::Seconds(30);

}  // namespace

std::string NameKey(const Ref& indirect) {
  Ref key = indirect;
  key.set_type("");
  return key.ToString();
}

// A cached name. Fields past `naming` are guarded by NameResolver::mu_.
struct NameResolver::Entry {
  std::string key;
  std::string name;
  std::shared_ptr<const Binding> naming;  // the naming service's root object
  bool cached = false;                    // in entries_ (not so with capacity 0)

  std::optional<Ref> resolved;  // the name's current reference, if known
  int64_t revision = 0;         // of `resolved`
  absl::Time resolved_at = absl::InfinitePast();
  bool stale = false;  // a call failed on `resolved`: ask before using it again
  // Bindings of `resolved`, one per interface that looked it up.
  std::vector<std::pair<const InterfaceInfo*, std::shared_ptr<const Binding>>> bindings;
  std::shared_ptr<ResolveOp> joinable;  // a Resolve in flight lookups may join
  absl::Time last_used = absl::InfinitePast();
  bool watching = false;
  int poll_failures = 0;
  bool evicted = false;
};

// One Resolve call and the lookups waiting for it.
struct NameResolver::ResolveOp {
  absl::Time deadline;
  std::vector<std::pair<const InterfaceInfo*, LookupCallback>> waiters;
};

NameResolver::NameResolver(Client* client) : client_(client) {}

NameResolver::~NameResolver() = default;

void NameResolver::Lookup(const Binding& indirect, absl::Time deadline, LookupCallback done) {
  const absl::Time now = absl::Now();
  std::shared_ptr<Entry> entry;
  std::shared_ptr<ResolveOp> op;
  std::shared_ptr<const Binding> hit;
  bool watch = false;
  {
    korb::MutexLock lock(&mu_);
    entry = FindOrInsertLocked(indirect);
    entry->last_used = now;
    if (entry->resolved.has_value() && FreshLocked(*entry, now)) {
      watch = ShouldWatchLocked(entry);
      for (const auto& [interface, binding] : entry->bindings) {
        if (interface == indirect.interface) hit = binding;
      }
    } else if (entry->joinable != nullptr && entry->joinable->deadline <= deadline) {
      entry->joinable->waiters.emplace_back(indirect.interface, std::move(done));
      return;
    } else {
      op = std::make_shared<ResolveOp>();
      op->deadline = std::min(deadline, now + client_->options().naming_timeout);
      op->waiters.emplace_back(indirect.interface, std::move(done));
      entry->joinable = op;
    }
  }
  if (watch) Poll(entry, WatchStart(entry));
  if (op != nullptr) {
    StartResolve(entry, op);
  } else if (hit != nullptr) {
    done(std::move(hit));
  } else {
    done(BindingFor(entry, *indirect.interface));
  }
}

absl::StatusOr<std::shared_ptr<const Binding>> NameResolver::LookupBlocking(
    const Binding& indirect, absl::Time deadline) {
  korb::Notification done;
  absl::StatusOr<std::shared_ptr<const Binding>> result;
  Lookup(indirect, deadline, [&done, &result](absl::StatusOr<std::shared_ptr<const Binding>> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

void NameResolver::Invalidate(const Binding& indirect, const Ref& resolved) {
  korb::MutexLock lock(&mu_);
  auto it = entries_.find(indirect.name_key);
  if (it == entries_.end()) return;
  Entry& entry = *it->second;
  if (entry.resolved.has_value() && *entry.resolved == resolved) entry.stale = true;
}

std::optional<Ref> NameResolver::Cached(const Ref& indirect) const {
  const std::string key = NameKey(indirect);
  korb::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second->resolved;
}

void NameResolver::Shutdown() {
  std::vector<uint64_t> timers;
  {
    korb::MutexLock lock(&mu_);
    if (shutdown_) return;
    shutdown_ = true;
    for (const auto& [id, unused] : poll_timers_) timers.push_back(id);
  }
  shutdown_token_.Cancel();
  for (uint64_t id : timers) client_->timers().FireNow(id);
}

std::shared_ptr<NameResolver::Entry> NameResolver::FindOrInsertLocked(const Binding& indirect) {
  auto it = entries_.find(indirect.name_key);
  if (it != entries_.end()) return it->second;
  auto entry = std::make_shared<Entry>();
  entry->key = indirect.name_key;
  entry->name = indirect.ref.name();
  entry->naming = Bind(*client_,
                       Ref(std::string(kNamingInterface.name), indirect.ref.endpoints(),
                           std::string(kNamingAdapter), std::string(kNamingId)),
                       kNamingInterface);
  const size_t capacity = client_->options().name_cache_capacity;
  if (capacity == 0) return entry;
  if (entries_.size() >= capacity) {
    // Any entry will do: losing one costs its next lookup a Resolve. Its
    // watch, if any, ends at its next poll.
    auto victim = entries_.begin();
    victim->second->evicted = true;
    entries_.erase(victim);
  }
  entry->cached = true;
  entries_.emplace(entry->key, entry);
  return entry;
}

bool NameResolver::FreshLocked(const Entry& entry, absl::Time now) const {
  if (entry.stale) return false;
  return entry.watching || now - entry.resolved_at < client_->options().name_max_age;
}

std::shared_ptr<const Binding> NameResolver::BindingFor(const std::shared_ptr<Entry>& entry,
                                                         const InterfaceInfo& interface) {
  Ref resolved;
  {
    korb::MutexLock lock(&mu_);
    for (const auto& [known, binding] : entry->bindings) {
      if (known == &interface) return binding;
    }
    if (!entry->resolved.has_value()) {
      // Unbound by a concurrent resolution since the caller decided.
      auto binding = std::make_shared<Binding>();
      binding->interface = &interface;
      binding->status = WithErrorKind(
          absl::NotFoundError(absl::StrCat("name \"", entry->name, "\" is no longer bound")),
          ErrorKind::kNameNotBound);
      return binding;
    }
    resolved = *entry->resolved;
  }
  // Built without the lock: it creates channels.
  std::shared_ptr<const Binding> binding = Bind(*client_, resolved, interface);
  korb::MutexLock lock(&mu_);
  if (entry->resolved == resolved) entry->bindings.emplace_back(&interface, binding);
  return binding;
}

void NameResolver::StartResolve(const std::shared_ptr<Entry>& entry,
                                const std::shared_ptr<ResolveOp>& op) {
  if (!entry->naming->status.ok()) {
    Resolved(entry, op, entry->naming->status);
    return;
  }
  naming_wire::NameRequest request;
  request.set_name(entry->name);
  grpc::ByteBuffer bytes;
  if (absl::Status status = SerializeRequest(request, &bytes); !status.ok()) {
    Resolved(entry, op, status);
    return;
  }
  CallOptions options;
  options.deadline = op->deadline;
  InvokeAsync(*client_, entry->naming, StubConfig{}, kResolveMethod, std::move(bytes), options,
              [this, entry, op](absl::StatusOr<grpc::ByteBuffer> reply) {
                Resolved(entry, op, std::move(reply));
              });
}

void NameResolver::Resolved(const std::shared_ptr<Entry>& entry,
                            const std::shared_ptr<ResolveOp>& op,
                            absl::StatusOr<grpc::ByteBuffer> reply) {
  absl::Status error;
  std::optional<Ref> fresh;
  int64_t revision = 0;
  if (reply.ok()) {
    absl::StatusOr<naming_wire::ResolveReply> parsed = ParseReply<naming_wire::ResolveReply>(*reply);
    if (!parsed.ok()) {
      error = parsed.status();
    } else if (absl::StatusOr<Ref> ref = Ref::FromProto(parsed->ref()); !ref.ok()) {
      error = absl::InternalError(absl::StrCat("the naming service answered a malformed reference: ",
                                               ref.status().message()));
    } else if (ref->is_indirect()) {
      error = absl::InternalError(absl::StrCat("the name is bound to another indirect reference, ",
                                               ref->ToString(), " (names resolve in one step)"));
    } else {
      fresh = *std::move(ref);
      revision = parsed->revision();
    }
  } else {
    error = reply.status();
  }
  const bool unbound = ErrorKindOf(error) == ErrorKind::kNameNotBound;
  std::vector<std::pair<const InterfaceInfo*, LookupCallback>> waiters;
  bool fallback = false;
  bool watch = false;
  {
    korb::MutexLock lock(&mu_);
    if (entry->joinable == op) entry->joinable = nullptr;
    waiters = std::move(op->waiters);
    if (fresh.has_value()) {
      // A reply older than what a watch-triggered resolve brought meanwhile
      // does not undo it.
      if (!entry->resolved.has_value() || revision >= entry->revision) {
        if (entry->resolved != fresh) entry->bindings.clear();
        entry->resolved = std::move(fresh);
        entry->revision = revision;
      }
      entry->resolved_at = absl::Now();
      entry->stale = false;
      watch = ShouldWatchLocked(entry);
    } else if (unbound && (!entry->resolved.has_value() || entry->stale)) {
      entry->resolved.reset();
      entry->bindings.clear();
      entry->stale = false;
    } else if (unbound) {
      // The directory no longer has the name (unbound, its members gone, or
      // an in-memory naming service restarted before they joined again),
      // but calls to the resolution still succeed: keep using it, as a
      // resolved CORBA reference outlives its binding. Once calls fail on
      // it (stale), the name is not bound for them.
      entry->resolved_at = absl::Now();
    }
    fallback = entry->resolved.has_value();
  }
  if (watch) Poll(entry, WatchStart(entry));
  if (!fallback) {
    error = Annotate(error, absl::StrCat("resolving name \"", entry->name, "\" at ",
                                         entry->naming->ref.ToString()));
  }
  for (auto& [interface, done] : waiters) {
    if (fallback) {
      // Resolved, or the naming service could not answer and the last
      // resolution stands in (calls go on while it restarts).
      done(BindingFor(entry, *interface));
    } else {
      done(error);
    }
  }
}

void NameResolver::Refresh(const std::shared_ptr<Entry>& entry) {
  auto op = std::make_shared<ResolveOp>();
  {
    korb::MutexLock lock(&mu_);
    if (shutdown_ || entry->joinable != nullptr) return;
    op->deadline = absl::Now() + client_->options().naming_timeout;
    entry->joinable = op;
  }
  StartResolve(entry, op);
}

bool NameResolver::ShouldWatchLocked(const std::shared_ptr<Entry>& entry) {
  const ClientOptions& options = client_->options();
  if (!options.watch_names || shutdown_ || !entry->cached || entry->evicted || entry->watching ||
      !entry->resolved.has_value() || watched_ >= options.max_watched_names) {
    return false;
  }
  entry->watching = true;
  entry->poll_failures = 0;
  ++watched_;
  return true;
}

int64_t NameResolver::WatchStart(const std::shared_ptr<Entry>& entry) {
  korb::MutexLock lock(&mu_);
  return entry->revision;
}

void NameResolver::StopWatchLocked(Entry& entry) {
  if (!entry.watching) return;
  entry.watching = false;
  --watched_;
}

void NameResolver::Poll(std::shared_ptr<Entry> entry, int64_t after_revision) {
  const ClientOptions& options = client_->options();
  absl::Duration wait = std::clamp(options.name_watch_poll, absl::Milliseconds(1), absl::Minutes(1));
  // A long-poll must fit in one attempt, or every poll would look like a
  // hung server.
  if (options.retry.attempt_timeout != absl::InfiniteDuration()) {
    wait = std::max(absl::Milliseconds(1), std::min(wait, options.retry.attempt_timeout / 2));
  }
  naming_wire::WaitRequest request;
  request.set_prefix(entry->name);
  request.set_after_revision(after_revision);
  request.set_timeout_ms(static_cast<int32_t>(absl::ToInt64Milliseconds(wait)));
  grpc::ByteBuffer bytes;
  if (absl::Status status = SerializeRequest(request, &bytes); !status.ok()) {
    Polled(entry, after_revision, status);
    return;
  }
  CallOptions call;
  call.deadline = absl::Now() + wait + options.naming_timeout;
  call.cancellation = &shutdown_token_;
  InvokeAsync(*client_, entry->naming, StubConfig{}, kWaitMethod, std::move(bytes), call,
              [this, entry, after_revision](absl::StatusOr<grpc::ByteBuffer> reply) {
                Polled(entry, after_revision, std::move(reply));
              });
}

void NameResolver::Polled(const std::shared_ptr<Entry>& entry, int64_t after_revision,
                          absl::StatusOr<grpc::ByteBuffer> reply) {
  const absl::Time now = absl::Now();
  absl::StatusOr<naming_wire::WaitReply> parsed =
      reply.ok() ? ParseReply<naming_wire::WaitReply>(*reply) : absl::StatusOr<naming_wire::WaitReply>(reply.status());
  bool changed = false;
  int64_t next = after_revision;
  uint64_t timer = 0;
  absl::Duration backoff;
  {
    korb::MutexLock lock(&mu_);
    if (shutdown_ || entry->evicted || !entry->watching ||
        now - entry->last_used > client_->options().name_watch_idle) {
      // Shut down, evicted, or no longer in use: a later lookup resolves
      // again once the resolution is older than name_max_age.
      StopWatchLocked(*entry);
      return;
    }
    if (parsed.ok()) {
      entry->poll_failures = 0;
      changed = parsed->history_lost();
      for (const naming_wire::Change& change : parsed->changes()) {
        if (change.name() == entry->name) changed = true;
      }
      next = std::max(after_revision, parsed->revision());
    } else {
      backoff = std::min(kPollMaxBackoff, kPollInitialBackoff * (1 << std::min(entry->poll_failures, 5)));
      ++entry->poll_failures;
      timer = client_->timers().Reserve();
      poll_timers_.emplace(timer, true);
      // Counted like a call, so ~Client waits for (and Shutdown() cuts) it.
      client_->BeginAsyncCall();
    }
  }
  if (timer != 0) {
    client_->timers().Schedule(timer, now + backoff, [this, entry = std::shared_ptr<Entry>(entry), after_revision, timer]() mutable {
      bool stop;
      {
        korb::MutexLock lock(&mu_);
        poll_timers_.erase(timer);
        stop = shutdown_;
        if (stop) StopWatchLocked(*entry);
      }
      // The entry (and its channels) is let go before EndAsyncCall(), after
      // which the Client may be destroyed.
      if (stop) {
        entry.reset();
      } else {
        Poll(std::move(entry), after_revision);
      }
      client_->EndAsyncCall();
    });
    return;
  }
  if (changed) Refresh(entry);
  Poll(entry, next);
}

}  // namespace korb::internal
