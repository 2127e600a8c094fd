#include "replicated/counter_servant.h"

#include <utility>

#include "absl/time/clock.h"

namespace replicated {

CounterImpl::CounterImpl(std::string replica, int64_t initial)
    : replica_(std::move(replica)), value_(initial) {}

absl::StatusOr<Value> CounterImpl::Get(korb::CallContext&, const korb::Empty&) {
  ++gets_;
  if (get_delay_ > absl::ZeroDuration()) absl::SleepFor(get_delay_);
  Value reply;
  korb::MutexLock lock(&mu_);
  reply.set_value(value_);
  reply.set_replica(replica_);
  return reply;
}

absl::StatusOr<Value> CounterImpl::Add(korb::CallContext&, const Delta& delta) {
  ++adds_;
  Value reply;
  korb::MutexLock lock(&mu_);
  int64_t sum;
  if (__builtin_add_overflow(value_, delta.amount(), &sum)) {
    return absl::OutOfRangeError("counter would overflow: refused, not wrapped");
  }
  value_ = sum;
  reply.set_value(value_);
  return reply;
}

absl::StatusOr<Value> CounterImpl::Set(korb::CallContext&, const Delta& delta) {
  ++sets_;
  Value reply;
  korb::MutexLock lock(&mu_);
  value_ = delta.amount();
  reply.set_value(value_);
  return reply;
}

absl::StatusOr<Served> CounterImpl::Stats(korb::CallContext&, const korb::Empty&) {
  Served served;
  served.set_replica(replica_);
  served.set_gets(gets_.load());
  served.set_adds(adds_.load());
  served.set_sets(sets_.load());
  served.set_dropped(dropped_.load());
  return served;
}

}  // namespace replicated
