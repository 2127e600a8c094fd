#include "servants/naming/memory_backend.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/wire.h"
#include "servants/naming/names.h"

namespace korb::naming {
namespace {

absl::Status Exhausted(absl::string_view what, size_t bound) {
  return WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                           "naming service: at most ", bound, " ", what, " (a configured bound)")),
                       ErrorKind::kTransient);
}

absl::Status LeaseNotFound(int64_t lease) {
  return absl::NotFoundError(absl::StrCat("lease ", lease, " does not exist (expired or revoked)"));
}

// Member `member_id` of `binding`, or null.
Member* FindMember(Binding& binding, absl::string_view member_id) {
  for (Member& member : *binding.mutable_members()) {
    if (member.member_id() == member_id) return &member;
  }
  return nullptr;
}

// Inserts `member` keeping member_id order.
void InsertMember(Binding& binding, Member member) {
  auto* members = binding.mutable_members();
  members->Add(std::move(member));
  for (int i = members->size() - 1; i > 0 && members->Get(i - 1).member_id() > members->Get(i).member_id();
       --i) {
    members->SwapElements(i - 1, i);
  }
}

}  // namespace

MemoryBackend::MemoryBackend(MemoryBackendOptions options) : options_(std::move(options)) {
  expiry_thread_ = std::thread([this] { ExpiryLoop(); });
}

MemoryBackend::~MemoryBackend() {
  {
    korb::MutexLock lock(&mu_);
    stopping_ = true;
  }
  expiry_thread_.join();
}

absl::Time MemoryBackend::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

void MemoryBackend::ExpiryLoop() {
  korb::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.expiry_interval);
    if (!stopping_) ExpireLocked();
  }
}

void MemoryBackend::ExpireNow() {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
}

void MemoryBackend::ExpireLocked() {
  const absl::Time now = Now();
  if (now < next_expiry_) return;
  std::vector<int64_t> expired;
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [id, lease] : leases_) {
    if (lease.expiry <= now) {
      expired.push_back(id);
    } else {
      next = std::min(next, lease.expiry);
    }
  }
  next_expiry_ = next;
  for (int64_t id : expired) {
    auto it = leases_.find(id);
    const auto members = std::move(it->second.members);
    leases_.erase(it);
    for (const auto& [name, member_id] : members) {
      if (RemoveMemberLocked(name, member_id)) RecordLocked(name);
    }
  }
}

void MemoryBackend::UnlinkMembersLocked(const Binding& binding) {
  for (const Member& member : binding.members()) {
    if (member.lease() == 0) continue;
    auto it = leases_.find(member.lease());
    if (it != leases_.end()) it->second.members.erase({binding.name(), member.member_id()});
  }
}

bool MemoryBackend::RemoveMemberLocked(const std::string& name, const std::string& member_id) {
  auto it = names_.find(name);
  if (it == names_.end()) return false;
  auto* members = it->second.mutable_members();
  for (int i = 0; i < members->size(); ++i) {
    if (members->Get(i).member_id() != member_id) continue;
    const int64_t lease = members->Get(i).lease();
    if (lease != 0) {
      auto lease_it = leases_.find(lease);
      if (lease_it != leases_.end()) lease_it->second.members.erase({name, member_id});
    }
    members->DeleteSubrange(i, 1);
    --members_;
    if (members->empty()) names_.erase(it);
    return true;
  }
  return false;
}

void MemoryBackend::RecordLocked(const std::string& name) {
  ++revision_;
  Change change;
  change.set_name(name);
  change.set_revision(revision_);
  auto it = names_.find(name);
  if (it != names_.end()) {
    it->second.set_revision(revision_);
    *change.mutable_binding() = it->second;
  } else {
    change.mutable_binding()->set_name(name);
    change.mutable_binding()->set_revision(revision_);
  }
  history_bytes_ += change.ByteSizeLong();
  history_.push_back(std::move(change));
  while (!history_.empty() && (history_.size() > options_.max_history ||
                               history_bytes_ > options_.max_history_bytes)) {
    history_bytes_ -= history_.front().ByteSizeLong();
    history_.pop_front();
  }
}

absl::Status MemoryBackend::SetPermanentLocked(const std::string& name,
                                               const korb::ObjectRef& ref) {
  auto it = names_.find(name);
  const size_t had = it == names_.end() ? 0 : it->second.members_size();
  if (members_ - had + 1 > options_.max_members) {
    return Exhausted("members in the directory", options_.max_members);
  }
  if (it == names_.end()) {
    it = names_.emplace(name, Binding()).first;
    it->second.set_name(name);
  } else {
    UnlinkMembersLocked(it->second);
    it->second.clear_members();
  }
  members_ = members_ - had + 1;
  Member* member = it->second.add_members();
  *member->mutable_ref() = ref;
  RecordLocked(name);
  return absl::OkStatus();
}

absl::Status MemoryBackend::Bind(const std::string& name, const korb::ObjectRef& ref) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  if (names_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("name \"", name, "\" is already bound"));
  }
  return SetPermanentLocked(name, ref);
}

absl::Status MemoryBackend::Rebind(const std::string& name, const korb::ObjectRef& ref) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  return SetPermanentLocked(name, ref);
}

absl::Status MemoryBackend::Unbind(const std::string& name) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  auto it = names_.find(name);
  if (it == names_.end()) return NameNotBound(name);
  UnlinkMembersLocked(it->second);
  members_ -= it->second.members_size();
  names_.erase(it);
  RecordLocked(name);
  return absl::OkStatus();
}

absl::StatusOr<Binding> MemoryBackend::Get(const std::string& name) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  auto it = names_.find(name);
  if (it == names_.end()) return NameNotBound(name);
  return it->second;
}

absl::StatusOr<ListReply> MemoryBackend::List(const std::string& prefix, int page_size,
                                              const std::string& page_token) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  ListReply reply;
  reply.set_revision(revision_);
  auto it = page_token.empty() ? names_.lower_bound(prefix) : names_.upper_bound(page_token);
  // Names under a whole-component prefix are among those that start with its
  // bytes ("bank", "bank-x", "bank/a"), which are contiguous in name order.
  for (; it != names_.end() && absl::StartsWith(it->first, prefix); ++it) {
    if (!NameHasPrefix(it->first, prefix)) continue;
    if (reply.bindings_size() == page_size) {
      reply.set_next_page_token(reply.bindings(page_size - 1).name());
      break;
    }
    *reply.add_bindings() = it->second;
  }
  return reply;
}

bool MemoryBackend::CollectChangesLocked(const std::string& prefix, int64_t after,
                                         WaitReply* reply) {
  reply->set_revision(revision_);
  if (after >= revision_) return false;
  // The first retained change with a revision after `after`.
  auto it = std::upper_bound(history_.begin(), history_.end(), after,
                             [](int64_t rev, const Change& c) { return rev < c.revision(); });
  size_t bytes = 0;
  for (; it != history_.end(); ++it) {
    if (!NameHasPrefix(it->name(), prefix)) continue;
    const size_t size = it->ByteSizeLong();
    if (reply->changes_size() > 0 &&
        (static_cast<size_t>(reply->changes_size()) >= options_.max_changes_per_reply ||
         bytes + size > options_.max_reply_bytes)) {
      // The rest come with the next wait, after the last change sent.
      reply->set_revision(reply->changes(reply->changes_size() - 1).revision());
      break;
    }
    bytes += size;
    *reply->add_changes() = *it;
  }
  return reply->changes_size() > 0;
}

absl::StatusOr<WaitReply> MemoryBackend::WaitForChanges(const WaitParams& params) {
  korb::MutexLock lock(&mu_);
  if (waiters_ >= options_.max_waiters) return Exhausted("waiting calls", options_.max_waiters);
  ++waiters_;
  struct Leave {
    size_t* waiters;
    ~Leave() { --*waiters; }
  } leave{&waiters_};

  int64_t after = params.after_revision == 0 ? revision_ : params.after_revision;
  WaitReply reply;
  ExpireLocked();
  const int64_t oldest_known = history_.empty() ? revision_ + 1 : history_.front().revision();
  if (after > revision_ || (after < revision_ && after + 1 < oldest_known)) {
    // Ahead of this directory (it restarted) or behind its history.
    reply.set_revision(revision_);
    reply.set_history_lost(true);
    return reply;
  }
  struct Changed {
    const MemoryBackend* backend;
    const int64_t* after;
    bool Eval() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return backend->revision_ > *after || backend->stopping_;
    }
  } changed{this, &after};
  while (true) {
    if (CollectChangesLocked(params.prefix, after, &reply)) return reply;
    // Nothing under the prefix up to the current revision.
    after = revision_;
    if (stopping_) return Unavailable("naming service is shutting down");
    if (absl::Now() >= params.deadline) return reply;
    if (params.cancelled && params.cancelled()) return absl::CancelledError("wait cancelled");
    // Wakes on a change, and at least every 200 ms to poll cancellation.
    mu_.AwaitWithDeadline(absl::Condition(&changed, &Changed::Eval),
                          std::min(params.deadline, absl::Now() + absl::Milliseconds(200)));
  }
}

absl::StatusOr<Lease> MemoryBackend::GrantLease(int32_t ttl_seconds) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  if (leases_.size() >= options_.max_leases) return Exhausted("leases", options_.max_leases);
  const int32_t ttl = ttl_seconds > 0 ? ttl_seconds : options_.default_ttl_seconds;
  int64_t id;
  do {
    id = absl::Uniform<int64_t>(random_, 1, std::numeric_limits<int64_t>::max());
  } while (leases_.contains(id));
  LeaseEntry& entry = leases_[id];
  entry.ttl_seconds = ttl;
  entry.expiry = Now() + absl::Seconds(ttl);
  next_expiry_ = std::min(next_expiry_, entry.expiry);
  Lease lease;
  lease.set_id(id);
  lease.set_ttl_seconds(ttl);
  return lease;
}

absl::StatusOr<Lease> MemoryBackend::KeepAlive(int64_t lease) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  auto it = leases_.find(lease);
  if (it == leases_.end()) return LeaseNotFound(lease);
  it->second.expiry = Now() + absl::Seconds(it->second.ttl_seconds);
  Lease reply;
  reply.set_id(lease);
  reply.set_ttl_seconds(it->second.ttl_seconds);
  return reply;
}

absl::Status MemoryBackend::RevokeLease(int64_t lease) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  auto it = leases_.find(lease);
  if (it == leases_.end()) return absl::OkStatus();
  const auto members = std::move(it->second.members);
  leases_.erase(it);
  for (const auto& [name, member_id] : members) {
    if (RemoveMemberLocked(name, member_id)) RecordLocked(name);
  }
  return absl::OkStatus();
}

absl::Status MemoryBackend::Join(const std::string& name, const korb::ObjectRef& ref,
                                 const std::string& member_id, int64_t lease) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  LeaseEntry* lease_entry = nullptr;
  if (lease != 0) {
    auto lease_it = leases_.find(lease);
    if (lease_it == leases_.end()) return LeaseNotFound(lease);
    lease_entry = &lease_it->second;
  }
  auto it = names_.find(name);
  Member* existing = nullptr;
  if (it != names_.end()) {
    if (absl::Status fits = CheckJoinFits(it->second, ref); !fits.ok()) return fits;
    existing = FindMember(it->second, member_id);
  }
  if (existing == nullptr) {
    if (it != names_.end() &&
        static_cast<size_t>(it->second.members_size()) >= options_.max_members_per_name) {
      return Exhausted("members per name", options_.max_members_per_name);
    }
    if (members_ >= options_.max_members) {
      return Exhausted("members in the directory", options_.max_members);
    }
  }
  if (it == names_.end()) {
    it = names_.emplace(name, Binding()).first;
    it->second.set_name(name);
  }
  if (existing != nullptr) {
    if (existing->lease() != 0 && existing->lease() != lease) {
      auto old = leases_.find(existing->lease());
      if (old != leases_.end()) old->second.members.erase({name, member_id});
    }
    *existing->mutable_ref() = ref;
    existing->set_lease(lease);
  } else {
    Member member;
    *member.mutable_ref() = ref;
    member.set_member_id(member_id);
    member.set_lease(lease);
    InsertMember(it->second, std::move(member));
    ++members_;
  }
  if (lease_entry != nullptr) lease_entry->members.insert({name, member_id});
  RecordLocked(name);
  return absl::OkStatus();
}

absl::Status MemoryBackend::Leave(const std::string& name, const std::string& member_id) {
  korb::MutexLock lock(&mu_);
  ExpireLocked();
  if (RemoveMemberLocked(name, member_id)) RecordLocked(name);
  return absl::OkStatus();
}

int64_t MemoryBackend::revision() const {
  korb::MutexLock lock(&mu_);
  return revision_;
}

}  // namespace korb::naming
