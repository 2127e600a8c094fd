// korb::naming::Registration: a server's registration of its own objects in
// a naming service, tied to a lease that dies with the server.
//
// Start() returns at once; a thread of its own then grants a lease (TTL
// RegistrationOptions::ttl_seconds, 5 s by default), joins every entry
// (name, reference, member id) under it, and renews it every TTL/3. When the
// lease is lost (KeepAlive answers NOT_FOUND: the naming service or its
// store restarted empty, or the server paused past the TTL), or renewals
// have failed for a whole TTL, it grants a new lease and joins again. While
// the naming service cannot be reached it retries with exponential backoff
// (never blocking the server it registers), and state() says so.
// Stop() (or the destructor) ends the thread, then leaves every entry and
// revokes the lease, so a clean shutdown unregisters at once; a server that
// dies (SIGKILL) is unregistered by the lease's expiry, within its TTL.
//
// Each entry joins as a member of its name's replica group: several servers
// registering one object (same adapter, id and type) under one name form a
// replicated object that Resolve answers with every live member's endpoint.
//
// Thread-safety: thread-safe.
//
// Usage:
//   korb::Client client;
//   ASSIGN_OR_RETURN(korb::Ref naming, korb::Ref::Parse(argv[1]));
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::naming::Registration> registration,
//                    korb::naming::Registration::Start(client, naming, {{"bank", bank_ref}}));
//   ...                          // serve; registration->state() for health checks
//   registration->Stop();        // before the ObjectServer shuts down
#ifndef KORB_SERVANTS_NAMING_REGISTRATION_H_
#define KORB_SERVANTS_NAMING_REGISTRATION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/sync.h"
#include "korb/naming.korb.h"

namespace korb::naming {

struct RegistrationEntry {
  // Where to register (names.h's rules).
  std::string name{};
  // The object; valid.
  Ref ref{};
  // This server's member id in the name's group; empty: "<host>:<port>/<adapter>"
  // of ref's first endpoint, which tells the replicas of a group apart.
  std::string member_id{};
};

struct RegistrationOptions {
  // Lease TTL (1..3600 s): how long a dead server's entries outlive it.
  int32_t ttl_seconds = 5;
  // Timeout of each call to the naming service.
  absl::Duration call_timeout = absl::Seconds(2);
  // Retries while the naming service is unreachable: the first wait, doubled
  // after each failure up to the maximum.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
};

// In order; kStopped is terminal.
enum class RegistrationState {
  kRegistering,  // granting a lease and joining (first time, or after a loss)
  kRegistered,   // every entry joined; renewing the lease
  kRetrying,     // the naming service failed; retrying after a backoff
  kStopping,     // Stop(): leaving and revoking
  kStopped,
};
absl::string_view RegistrationStateName(RegistrationState state);

class Registration {
 public:
  // Validates the entries (INVALID_ARGUMENT naming the bad one) and starts
  // registering them; does not wait for the naming service. `client` must
  // outlive the Registration.
  static absl::StatusOr<std::unique_ptr<Registration>> Start(
      Client& client, const Ref& naming, std::vector<RegistrationEntry> entries,
      RegistrationOptions options = {});
  ~Registration();  // Stop()

  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // Unregisters: ends the renewals, leaves every entry and revokes the lease
  // (each call bounded by call_timeout; a naming service that cannot be
  // reached lets the lease expire instead). Idempotent; blocks until done.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  RegistrationState state() const ABSL_LOCKS_EXCLUDED(mu_);
  // Why the last attempt failed (OK while registered).
  absl::Status last_error() const ABSL_LOCKS_EXCLUDED(mu_);
  // Times every entry has been joined under a fresh lease (1 after the first
  // registration; more after losses).
  int registrations() const ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until state() is kRegistered or `timeout` passes; true if it is.
  bool WaitUntilRegistered(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Registration(Client& client, const Ref& naming, std::vector<RegistrationEntry> entries,
               RegistrationOptions options);

  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Grants a lease and joins every entry; the lease id, or the failure.
  absl::StatusOr<int64_t> Register();
  // Sleeps `d` unless stopping; false if stopping.
  bool Sleep(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  void SetState(RegistrationState state, absl::Status error) ABSL_LOCKS_EXCLUDED(mu_);
  CallOptions Call() const { return {.timeout = options_.call_timeout, .max_attempts = 1}; }

  const NamingContextStub naming_;
  const std::vector<RegistrationEntry> entries_;
  const RegistrationOptions options_;

  mutable korb::Mutex mu_;
  RegistrationState state_ ABSL_GUARDED_BY(mu_) = RegistrationState::kRegistering;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  int registrations_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  // The lease held now (0: none); written by the thread, read by Stop()
  // after joining it.
  int64_t lease_ = 0;
  std::thread thread_;
  korb::Mutex stop_mu_;  // serializes Stop()
};

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_REGISTRATION_H_
