#include "servants/naming/registration.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "servants/naming/names.h"

namespace korb::naming {

absl::string_view RegistrationStateName(RegistrationState state) {
  switch (state) {
    case RegistrationState::kRegistering:
      return "registering";
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kRetrying:
      return "retrying";
    case RegistrationState::kStopping:
      return "stopping";
    case RegistrationState::kStopped:
      return "stopped";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Registration>> Registration::Start(
    Client& client, const Ref& naming, std::vector<RegistrationEntry> entries,
    RegistrationOptions options) {
  if (absl::Status status = naming.Validate(); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("naming service reference: ", status.message()));
  }
  if (options.ttl_seconds < 1 || options.ttl_seconds > kMaxTtlSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_seconds ", options.ttl_seconds, " is not within 1..", kMaxTtlSeconds));
  }
  if (entries.empty()) return absl::InvalidArgumentError("nothing to register");
  for (RegistrationEntry& entry : entries) {
    if (entry.member_id.empty() && !entry.ref.endpoints().empty()) {
      entry.member_id = absl::StrCat(entry.ref.endpoints().front().ToString(), "/",
                                     PercentEncode(entry.ref.adapter()));
    }
    absl::Status status = ValidateName(entry.name);
    if (status.ok()) status = ValidateRef(entry.ref.ToProto());
    if (status.ok()) status = ValidateMemberId(entry.member_id);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("registration of \"", PercentEncode(entry.name), "\": ", status.message()));
    }
  }
  std::unique_ptr<Registration> registration(
      new Registration(client, naming, std::move(entries), options));
  registration->thread_ = std::thread([r = registration.get()] { r->Run(); });
  return registration;
}

Registration::Registration(Client& client, const Ref& naming,
                           std::vector<RegistrationEntry> entries, RegistrationOptions options)
    : naming_(client, naming), entries_(std::move(entries)), options_(options) {}

Registration::~Registration() { Stop(); }

void Registration::SetState(RegistrationState state, absl::Status error) {
  korb::MutexLock lock(&mu_);
  state_ = state;
  last_error_ = std::move(error);
}

bool Registration::Sleep(absl::Duration d) {
  korb::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_requested_), d);
  return !stop_requested_;
}

absl::StatusOr<int64_t> Registration::Register() {
  LeaseRequest grant;
  grant.set_ttl_seconds(options_.ttl_seconds);
  absl::StatusOr<Lease> lease = naming_.GrantLease(grant, Call());
  if (!lease.ok()) return lease.status();
  for (const RegistrationEntry& entry : entries_) {
    JoinRequest join;
    join.set_name(entry.name);
    *join.mutable_ref() = entry.ref.ToProto();
    join.set_member_id(entry.member_id);
    join.set_lease(lease->id());
    absl::StatusOr<korb::Empty> joined = naming_.Join(join, Call());
    if (!joined.ok()) {
      // Entries joined so far leave with the lease.
      LeaseId id;
      id.set_id(lease->id());
      (void)naming_.RevokeLease(id, Call());
      return absl::Status(joined.status().code(),
                          absl::StrCat("joining \"", entry.name, "\": ", joined.status().message()));
    }
  }
  return lease->id();
}

void Registration::Run() {
  const absl::Duration ttl = absl::Seconds(options_.ttl_seconds);
  const absl::Duration renew_every = ttl / 3;
  absl::Duration backoff = options_.initial_backoff;
  absl::Time renewed = absl::InfinitePast();
  int64_t lease = 0;
  while (true) {
    absl::Duration wait = renew_every;
    if (lease == 0) {
      SetState(RegistrationState::kRegistering, absl::OkStatus());
      absl::StatusOr<int64_t> granted = Register();
      if (granted.ok()) {
        lease = *granted;
        lease_ = lease;
        renewed = absl::Now();
        backoff = options_.initial_backoff;
        {
          korb::MutexLock lock(&mu_);
          ++registrations_;
          state_ = RegistrationState::kRegistered;
          last_error_ = absl::OkStatus();
        }
      } else {
        SetState(RegistrationState::kRetrying, granted.status());
        wait = backoff;
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
    } else {
      LeaseId id;
      id.set_id(lease);
      absl::StatusOr<Lease> renewal = naming_.KeepAlive(id, Call());
      if (renewal.ok()) {
        renewed = absl::Now();
        backoff = options_.initial_backoff;
        SetState(RegistrationState::kRegistered, absl::OkStatus());
      } else if (renewal.status().code() == absl::StatusCode::kNotFound ||
                 absl::Now() - renewed >= ttl) {
        // Lost (the service forgot it, or it has surely expired by now):
        // register again at once, under a new lease.
        SetState(RegistrationState::kRegistering, renewal.status());
        lease = 0;
        lease_ = 0;
        wait = absl::ZeroDuration();
      } else {
        SetState(RegistrationState::kRetrying, renewal.status());
        wait = std::min(backoff, renew_every);
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
    }
    if (!Sleep(wait)) return;
  }
}

void Registration::Stop() {
  korb::MutexLock stop(&stop_mu_);
  {
    korb::MutexLock lock(&mu_);
    if (state_ == RegistrationState::kStopped) return;
    stop_requested_ = true;
  }
  if (thread_.joinable()) thread_.join();
  SetState(RegistrationState::kStopping, absl::OkStatus());
  if (lease_ != 0) {
    for (const RegistrationEntry& entry : entries_) {
      LeaveRequest leave;
      leave.set_name(entry.name);
      leave.set_member_id(entry.member_id);
      (void)naming_.Leave(leave, Call());
    }
    LeaseId id;
    id.set_id(lease_);
    (void)naming_.RevokeLease(id, Call());
    lease_ = 0;
  }
  SetState(RegistrationState::kStopped, absl::OkStatus());
}

RegistrationState Registration::state() const {
  korb::MutexLock lock(&mu_);
  return state_;
}

absl::Status Registration::last_error() const {
  korb::MutexLock lock(&mu_);
  return last_error_;
}

int Registration::registrations() const {
  korb::MutexLock lock(&mu_);
  return registrations_;
}

bool Registration::WaitUntilRegistered(absl::Duration timeout) const {
  korb::MutexLock lock(&mu_);
  struct Registered {
    const Registration* r;
    bool Eval() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return r->state_ == RegistrationState::kRegistered;
    }
  } registered{this};
  return mu_.AwaitWithTimeout(absl::Condition(&registered, &Registered::Eval), timeout);
}

}  // namespace korb::naming
