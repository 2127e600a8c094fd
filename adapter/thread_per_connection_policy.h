// The thread-per-connection threading policy (the seeds' thread-per-
// connection server): the calls that arrive on one client connection run one
// at a time, in arrival order (priority does not reorder them), on a thread
// for that connection; different connections run in parallel.
//
// A connection is PendingCall::connection(), gRPC's peer string
// ("ipv4:127.0.0.1:53412"): its first call starts the thread.
//
// Limit: gRPC does not tell the application when a client connection closes,
// so a connection's thread cannot end with it, as the seeds' model has it.
// Instead it ends after `idle_timeout` without calls; a later call on the same
// peer starts a new one. Consequences: a closed connection's thread lingers up
// to `idle_timeout`; a new connection that reuses a closed one's address and
// port within that time shares its thread; and one client channel may use
// several connections (each serialized on its own).
//
// At most `max_queued` calls wait in all connections' queues together; beyond
// that Execute() rejects with RESOURCE_EXHAUSTED (korb-error: transient).
// Shutdown() rejects the waiting calls with UNAVAILABLE (transient), waits for
// the running ones and joins every thread.
//
// Thread-safety: thread-safe. Servant calls run on the connections' threads;
// Shutdown() must not be called from one of them (it aborts: it would wait
// for itself).
//
// Usage:
//   korb::AdapterOptions options;
//   options.threading = korb::ThreadingOptions::ThreadPerConnection();
//   options.threading.idle_timeout = absl::Seconds(30);
#ifndef KORB_ADAPTER_THREAD_PER_CONNECTION_POLICY_H_
#define KORB_ADAPTER_THREAD_PER_CONNECTION_POLICY_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "adapter/internal/policy_keyed_threads.h"
#include "adapter/threading_policy.h"

namespace korb {

class ThreadPerConnectionPolicy final : public ThreadingPolicy {
 public:
  // A connection's thread ends after `idle_timeout` (>= 0) without calls; at
  // most `max_queued` (> 0) calls wait in all queues together; at most
  // `max_threads` connections have a thread (0: no cap), calls from others
  // are rejected RESOURCE_EXHAUSTED (transient).
  ThreadPerConnectionPolicy(absl::Duration idle_timeout, size_t max_queued,
                            size_t max_threads = 0);
  ~ThreadPerConnectionPolicy() override;  // Shutdown()

  absl::string_view name() const override { return "thread-per-connection"; }
  void Execute(PendingCall* call) override;
  void Shutdown() override;
  // threads: one per connection with a call in the last `idle_timeout`.
  PolicyStats Stats() const override;

 private:
  internal::KeyedThreads<std::string> connections_;
};

}  // namespace korb

#endif  // KORB_ADAPTER_THREAD_PER_CONNECTION_POLICY_H_
