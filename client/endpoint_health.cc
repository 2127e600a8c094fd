#include "client/endpoint_health.h"

#include <algorithm>
#include <cmath>

#include "absl/random/random.h"
#include "client/retry.h"

namespace korb::internal {
namespace {

double Smooth(const std::optional<double>& old, double sample, double weight) {
  if (!old.has_value()) return sample;
  return weight * sample + (1 - weight) * *old;
}

}  // namespace

EndpointHealth::Score EndpointHealth::Snapshot(absl::Time now) const {
  korb::MutexLock lock(&mu_);
  Score score;
  score.in_flight = in_flight_;
  if (consecutive_failures_ > 0) {
    score.available_at = backoff_until_;
    score.available = now >= backoff_until_ && probes_ == 0;
  }
  if (load_.has_value() && now - load_time_ <= options_->stats_max_age) score.load = load_;
  if (latency_us_.has_value() && now - latency_time_ <= options_->stats_max_age) {
    score.latency_us = latency_us_;
  }
  return score;
}

bool EndpointHealth::Begin(absl::Time now) {
  korb::MutexLock lock(&mu_);
  ++in_flight_;
  ++attempts_;
  if (consecutive_failures_ > 0 && now >= backoff_until_) {
    ++probes_;
    return true;
  }
  return false;
}

void EndpointHealth::End(bool probe, AttemptOutcome outcome, absl::Duration latency,
                         std::optional<double> load, absl::Time now) {
  korb::MutexLock lock(&mu_);
  --in_flight_;
  if (probe) --probes_;
  if (load.has_value()) {
    load_ = Smooth(load_, *load, options_->load_smoothing);
    load_time_ = now;
  }
  switch (outcome) {
    case AttemptOutcome::kReply:
      consecutive_failures_ = 0;
      backoff_until_ = absl::InfinitePast();
      latency_us_ = Smooth(latency_us_, absl::ToDoubleMicroseconds(latency),
                           options_->latency_smoothing);
      latency_time_ = now;
      break;
    case AttemptOutcome::kFailure: {
      ++failures_;
      // An attempt sent before the current backoff began adds nothing: the
      // endpoint is already known to be failing.
      if (!probe && consecutive_failures_ > 0 && now < backoff_until_) break;
      ++consecutive_failures_;
      const double steps = std::min(consecutive_failures_ - 1, 30);
      absl::Duration backoff = std::min(options_->failback_max_backoff,
                                        options_->failback_initial_backoff * std::exp2(steps));
      backoff *= absl::Uniform(RandomGenerator(), 0.8, 1.0);
      backoff_until_ = now + backoff;
      break;
    }
    case AttemptOutcome::kNeither:
      break;
  }
}

EndpointStats EndpointHealth::Stats() const {
  korb::MutexLock lock(&mu_);
  EndpointStats stats;
  stats.load = load_;
  if (latency_us_.has_value()) stats.latency = absl::Microseconds(*latency_us_);
  stats.in_flight = in_flight_;
  stats.consecutive_failures = consecutive_failures_;
  stats.backoff_until = consecutive_failures_ > 0 ? backoff_until_ : absl::InfinitePast();
  stats.attempts = attempts_;
  stats.failures = failures_;
  return stats;
}

}  // namespace korb::internal
