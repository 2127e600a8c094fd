// korb::internal::NameResolver: resolves indirect references
// (korbname://<naming endpoints>/<name>) for the Client, caches what it
// learns, and follows changes to the names in use (docs/naming.md, "Indirect
// references" and "Replica groups seen from clients").
//
// Resolution asks the naming service at the reference's endpoints
// (korb.naming.NamingContext/Resolve on its object "korb-naming/root")
// through the ordinary runtime, so the naming service's own endpoints get
// replica selection, failover and retries like any replicated object.
//
// Cache: one entry per (naming endpoints, name), at most
// ClientOptions::name_cache_capacity of them (beyond it an arbitrary entry
// is evicted; losing one costs a Resolve, nothing more). A lookup uses the
// cached resolution while it is *fresh*: watched (see below), or resolved
// less than name_max_age ago. Otherwise it resolves, and concurrent lookups
// of one name share one Resolve call when its deadline suits them (a lookup
// with an earlier deadline sends its own, so no call waits past its deadline
// for someone else's resolution). When the naming service cannot be reached
// (UNAVAILABLE, timeout), a lookup that has a cached resolution, however
// old, uses it: clients keep calling while the naming service or its etcd
// restarts. A name that is not bound fails the lookup with NOT_FOUND and
// korb-error name-not-bound when nothing usable is cached: no resolution, or
// one that calls have failed on (Invalidate). A resolution that still works
// is kept when its name disappears from the directory (as a resolved CORBA
// reference outlives its binding): an in-memory naming service that
// restarts forgets every name until the servers join again.
//
// Watches: while a name is in use (a lookup within name_watch_idle) and
// watch_names is on, one long-poll (WaitForChanges on the name as prefix,
// after the revision last seen) is outstanding for it, at most
// max_watched_names at once. A change to the name, or lost history,
// triggers a Resolve in the background that replaces the cached resolution;
// calls meanwhile keep using the old one. So members joining and leaving a
// replica group reach the replica selection of new calls within one Resolve
// of the change. A failed poll is retried after a backoff (1 s doubling to
// 30 s). Polls run on gRPC and timer threads and never block one.
//
// Invalidate(): a call that failed on every endpoint of a resolution (or
// got object-not-exist) marks it stale, so the next lookup asks again.
//
// Thread-safety: thread-safe. Callbacks passed to Lookup run exactly once,
// without locks held: on the calling thread when the cache answers, else on
// a gRPC thread. Shutdown() (from ~Client) stops the watches; the Client's
// in-flight accounting covers their calls and backoff waits.
#ifndef KORB_CLIENT_INTERNAL_NAME_RESOLVER_H_
#define KORB_CLIENT_INTERNAL_NAME_RESOLVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/call_options.h"
#include "client/internal/target.h"
#include "common/ref.h"
#include "common/sync.h"

namespace korb {

class Client;

namespace internal {

// What a lookup yields: the binding of the resolved (direct) reference for
// the lookup's interface; its status is not OK if the resolved reference is
// of another interface.
using LookupCallback = std::function<void(absl::StatusOr<std::shared_ptr<const Binding>>)>;

class NameResolver {
 public:
  // `client` owns this resolver and outlives it.
  explicit NameResolver(Client* client);
  ~NameResolver();

  NameResolver(const NameResolver&) = delete;
  NameResolver& operator=(const NameResolver&) = delete;

  // Resolves the indirect binding `indirect` (status OK) for its interface,
  // within `deadline`; `done` runs once with the result.
  void Lookup(const Binding& indirect, absl::Time deadline, LookupCallback done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Blocking form of Lookup, for synchronous calls.
  absl::StatusOr<std::shared_ptr<const Binding>> LookupBlocking(const Binding& indirect,
                                                                absl::Time deadline);

  // A call through `resolved` (what a lookup of `indirect` gave) failed on
  // every endpoint, or the object was not there: the next lookup resolves
  // again (unless a newer resolution has arrived meanwhile).
  void Invalidate(const Binding& indirect, const Ref& resolved) ABSL_LOCKS_EXCLUDED(mu_);

  // The cached resolution of `indirect`, fresh or not, or nullopt.
  std::optional<Ref> Cached(const Ref& indirect) const ABSL_LOCKS_EXCLUDED(mu_);

  // Stops every watch and keeps new ones from starting. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry;
  struct ResolveOp;

  // Sends the Resolve of `op`, whose waiters get the outcome.
  void StartResolve(const std::shared_ptr<Entry>& entry, const std::shared_ptr<ResolveOp>& op);
  void Resolved(const std::shared_ptr<Entry>& entry, const std::shared_ptr<ResolveOp>& op,
                absl::StatusOr<grpc::ByteBuffer> reply) ABSL_LOCKS_EXCLUDED(mu_);
  // A background resolve (after a watched change), unless one is in flight.
  void Refresh(const std::shared_ptr<Entry>& entry) ABSL_LOCKS_EXCLUDED(mu_);
  // True if the caller is to start watching `entry` (Poll, after unlocking):
  // watches are on, it is cached, resolved and not watched, and the limit
  // allows. Marks it watched.
  bool ShouldWatchLocked(const std::shared_ptr<Entry>& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The revision a new watch of `entry` waits after.
  int64_t WatchStart(const std::shared_ptr<Entry>& entry) ABSL_LOCKS_EXCLUDED(mu_);
  void Poll(std::shared_ptr<Entry> entry, int64_t after_revision);
  void Polled(const std::shared_ptr<Entry>& entry, int64_t after_revision,
              absl::StatusOr<grpc::ByteBuffer> reply) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the watch of `entry` (its poll loop is over).
  void StopWatchLocked(Entry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The binding of `entry`'s current resolution for `interface`, built on
  // first use and kept with the resolution.
  std::shared_ptr<const Binding> BindingFor(const std::shared_ptr<Entry>& entry,
                                            const InterfaceInfo& interface)
      ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<Entry> FindOrInsertLocked(const Binding& indirect)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool FreshLocked(const Entry& entry, absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Client* const client_;
  // Cancels the watches' polls at shutdown.
  CancellationToken shutdown_token_;
  mutable korb::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  size_t watched_ ABSL_GUARDED_BY(mu_) = 0;
  // Backoff waits of failed polls, by timer id: fired at shutdown.
  absl::flat_hash_map<uint64_t, bool> poll_timers_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

// The key of an indirect reference in the cache: its naming endpoints and
// name (not its type: stubs of two interfaces share a resolution).
std::string NameKey(const Ref& indirect);

}  // namespace internal
}  // namespace korb

#endif  // KORB_CLIENT_INTERNAL_NAME_RESOLVER_H_
