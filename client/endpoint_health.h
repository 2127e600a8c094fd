// What a Client knows about one endpoint (a host:port that serves replicas):
// smoothed load and latency for the load- and latency-aware selection
// policies, and the failure backoff that keeps calls away from an endpoint
// that failed until it is probed again (failback).
//
// korb::EndpointStats is the public, read-only snapshot
// (Client::EndpointStatsFor). internal::EndpointHealth is the live record the
// runtime updates around every attempt; a Client keeps one per endpoint,
// shared by all its stubs, for the Client's lifetime.
//
// Failure backoff: a transient failure (UNAVAILABLE, or RESOURCE_EXHAUSTED
// with korb-error: transient) of an endpoint that is not already backing off
// puts it in backoff for
//   b = min(failback_max_backoff, failback_initial_backoff × 2^(failures-1)),
// jittered to [0.8 b, b]. While in backoff the selection policies skip it.
// When the backoff ends, exactly one attempt at a time (a probe) may go
// there: a reply (any status a server sends, including application errors)
// makes the endpoint healthy again; another failure doubles the backoff.
// Failures of attempts that were already in flight when the backoff began do
// not escalate it, so one outage costs one step, not one per call.
//
// Thread-safety: EndpointHealth is thread-safe; EndpointStats is a
// thread-compatible value.
//
// Usage (runtime side):
//   bool probe = health->Begin(absl::Now());
//   ... the attempt ...
//   health->End(probe, AttemptOutcome::kReply, elapsed, load, absl::Now());
#ifndef KORB_CLIENT_ENDPOINT_HEALTH_H_
#define KORB_CLIENT_ENDPOINT_HEALTH_H_

#include <cstdint>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace korb {

// A snapshot of one endpoint's record in a Client.
struct EndpointStats {
  std::optional<double> load;             // smoothed korb-load; unset before the first report
  std::optional<absl::Duration> latency;  // smoothed reply latency; unset before the first reply
  int in_flight = 0;                      // this Client's attempts awaiting an answer
  int consecutive_failures = 0;           // transient failures since the last reply
  absl::Time backoff_until = absl::InfinitePast();  // skipped by selection until then
  uint64_t attempts = 0;                  // attempts sent to it, ever
  uint64_t failures = 0;                  // transient failures, ever
};

namespace internal {

// The Client-wide settings an EndpointHealth follows (from ClientOptions).
struct HealthOptions {
  absl::Duration failback_initial_backoff = absl::Seconds(1);
  absl::Duration failback_max_backoff = absl::Seconds(30);
  double load_smoothing = 0.5;     // weight of a new sample, (0, 1]
  double latency_smoothing = 0.3;  // weight of a new sample, (0, 1]
  // Samples older than this no longer count: the endpoint is scored as if
  // unknown, so selection probes it again instead of trusting stale figures.
  absl::Duration stats_max_age = absl::Seconds(10);
};

// What an attempt's answer says about its endpoint.
enum class AttemptOutcome {
  kReply,    // the server answered (any status but a transient failure)
  kFailure,  // transient failure: unreachable, shutting down, overloaded
  kNeither,  // no verdict: the caller cancelled or the deadline passed
};

class EndpointHealth {
 public:
  // `options` is borrowed; it must outlive this record (the Client's).
  explicit EndpointHealth(const HealthOptions* options) : options_(options) {}

  EndpointHealth(const EndpointHealth&) = delete;
  EndpointHealth& operator=(const EndpointHealth&) = delete;

  // What selection sees of the endpoint at `now`.
  struct Score {
    bool available = true;  // not in backoff, and no probe in flight
    absl::Time available_at = absl::InfinitePast();  // when backoff ends
    std::optional<double> load;        // fresh smoothed load, if any
    std::optional<double> latency_us;  // fresh smoothed latency, if any
    int in_flight = 0;
  };
  Score Snapshot(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);

  // An attempt to this endpoint starts. Returns true if it is the probe of
  // an endpoint whose backoff has ended; pass that on to End().
  bool Begin(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // The attempt Begin() announced ended after `latency`; `load` is the
  // korb-load the reply carried, if any. Called exactly once per Begin().
  void End(bool probe, AttemptOutcome outcome, absl::Duration latency,
           std::optional<double> load, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  EndpointStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const HealthOptions* const options_;
  mutable korb::Mutex mu_;
  std::optional<double> load_ ABSL_GUARDED_BY(mu_);
  absl::Time load_time_ ABSL_GUARDED_BY(mu_);
  std::optional<double> latency_us_ ABSL_GUARDED_BY(mu_);
  absl::Time latency_time_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int probes_ ABSL_GUARDED_BY(mu_) = 0;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time backoff_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t attempts_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_CLIENT_ENDPOINT_HEALTH_H_
