// korb::naming::MemoryBackend: the naming directory in this process's memory
// (the default of `korb-naming`, and what an ObjectServer embedding the
// service uses unless it is given etcd). Nothing survives the process: after
// a restart, servers' registration helpers join again (their old leases are
// unknown, so KeepAlive answers NOT_FOUND and they re-grant), and waiters
// whose revision is ahead of the fresh directory get history_lost.
//
// Leases expire on a background thread (every `expiry_interval`) and before
// every operation, so an expired member is never returned. Changes are kept
// in a bounded history for WaitForChanges; a waiter that falls behind it gets
// history_lost.
//
// Every map a client can grow is bounded (MemoryBackendOptions); beyond a
// bound the call fails with RESOURCE_EXHAUSTED (korb-error transient) and the
// directory is unchanged.
//
// Thread-safety: thread-safe.
//
// Usage:
//   auto backend = std::make_shared<korb::naming::MemoryBackend>();
//   ASSIGN_OR_RETURN(korb::naming::Lease lease, backend->GrantLease(5));
//   RETURN_IF_ERROR(backend->Join("bank", ref.ToProto(), "host:7000/bank", lease.id()));
#ifndef KORB_SERVANTS_NAMING_MEMORY_BACKEND_H_
#define KORB_SERVANTS_NAMING_MEMORY_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "servants/naming/naming_backend.h"

namespace korb::naming {

struct MemoryBackendOptions {
  // TTL of leases granted with ttl_seconds 0.
  int32_t default_ttl_seconds = 10;
  // Members of all names together (a permanent binding is one member).
  size_t max_members = 50000;
  // Members of one name (replicas of one replica group).
  size_t max_members_per_name = 100;
  // Leases alive at once.
  size_t max_leases = 10000;
  // WaitForChanges calls waiting at once.
  size_t max_waiters = 256;
  // Changes kept for WaitForChanges, by count and by their size in wire form;
  // the oldest go first.
  size_t max_history = 10000;
  size_t max_history_bytes = 32 << 20;
  // Changes in one WaitReply, by count and size (the rest come with the next
  // wait).
  size_t max_changes_per_reply = 1000;
  size_t max_reply_bytes = 2 << 20;
  // How often the background thread expires leases.
  absl::Duration expiry_interval = absl::Milliseconds(100);
  // Time source of lease expiry; empty: absl::Now. For tests.
  std::function<absl::Time()> clock{};
};

class MemoryBackend final : public NamingBackend {
 public:
  explicit MemoryBackend(MemoryBackendOptions options = {});
  ~MemoryBackend() override;  // stops the expiry thread; no call may be running

  MemoryBackend(const MemoryBackend&) = delete;
  MemoryBackend& operator=(const MemoryBackend&) = delete;

  absl::Status Bind(const std::string& name, const korb::ObjectRef& ref) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Rebind(const std::string& name, const korb::ObjectRef& ref) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Unbind(const std::string& name) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Binding> Get(const std::string& name) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ListReply> List(const std::string& prefix, int page_size,
                                 const std::string& page_token) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<WaitReply> WaitForChanges(const WaitParams& params) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Lease> GrantLease(int32_t ttl_seconds) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Lease> KeepAlive(int64_t lease) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RevokeLease(int64_t lease) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Join(const std::string& name, const korb::ObjectRef& ref,
                    const std::string& member_id, int64_t lease) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Leave(const std::string& name, const std::string& member_id) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // The revision of the latest change (0 before the first).
  int64_t revision() const ABSL_LOCKS_EXCLUDED(mu_);
  // Runs lease expiry now (tests with an injected clock).
  void ExpireNow() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct LeaseEntry {
    int32_t ttl_seconds = 0;
    absl::Time expiry;
    // (name, member id) of the members it holds.
    absl::btree_set<std::pair<std::string, std::string>> members;
  };

  absl::Time Now() const;
  void ExpiryLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void ExpireLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes every member of `binding` from its lease's index.
  void UnlinkMembersLocked(const Binding& binding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes member `member_id` of `name` (if there) without recording.
  bool RemoveMemberLocked(const std::string& name, const std::string& member_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Bumps the revision and records the name's current binding as a change.
  void RecordLocked(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetPermanentLocked(const std::string& name, const korb::ObjectRef& ref)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fills `reply` with the changes after `after` under `prefix`; false if
  // there are none (and then sets reply->revision to the current revision).
  bool CollectChangesLocked(const std::string& prefix, int64_t after, WaitReply* reply)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const MemoryBackendOptions options_;

  mutable korb::Mutex mu_;
  // Bindings with at least one member, members in member_id order.
  std::map<std::string, Binding> names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, LeaseEntry> leases_ ABSL_GUARDED_BY(mu_);
  // No lease expires before this (a lower bound: renewals only delay).
  absl::Time next_expiry_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::deque<Change> history_ ABSL_GUARDED_BY(mu_);
  size_t history_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  size_t members_ ABSL_GUARDED_BY(mu_) = 0;
  size_t waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // Lease ids are random so that ids of a previous instance (held by
  // servers that outlived it) do not name new leases.
  absl::BitGen random_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread expiry_thread_;
};

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_MEMORY_BACKEND_H_
