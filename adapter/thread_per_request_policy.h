// The thread-per-request threading policy (the seeds' thread-per-request
// server): every call runs on a thread of its own, so calls never wait for
// one another, whatever object or connection they target.
//
// Creating a thread per call is what makes the seeds' model costly, so a
// thread that finished its call is cached: it waits up to `idle_timeout` to
// take a next call (the most recently idle thread first) and then ends. An
// `idle_timeout` of zero gives the seeds' model exactly: a thread ends with
// its call.
//
// With a cap (`max_threads` > 0) at most that many calls run at once; further
// calls wait in a priority-ordered queue (higher first, FIFO within a
// priority) for a running call to finish, up to `max_queued` calls, and beyond
// that are rejected with RESOURCE_EXHAUSTED (korb-error: transient). Without
// a cap nothing ever waits.
//
// Shutdown() rejects the waiting calls with UNAVAILABLE (transient), waits for
// the running ones and joins every thread.
//
// Thread-safety: thread-safe. Servant calls run on the policy's threads;
// Shutdown() must not be called from one of them (it aborts: it would wait
// for itself).
//
// Usage:
//   korb::AdapterOptions options;
//   options.threading = korb::ThreadingOptions::ThreadPerRequest(/*max_threads=*/64);
#ifndef KORB_ADAPTER_THREAD_PER_REQUEST_POLICY_H_
#define KORB_ADAPTER_THREAD_PER_REQUEST_POLICY_H_

#include <cstddef>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "adapter/internal/policy_queue.h"
#include "adapter/internal/policy_threads.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"

namespace korb {

class ThreadPerRequestPolicy final : public ThreadingPolicy {
 public:
  // `max_threads` >= 0 (0: no cap); `idle_timeout` >= 0; `max_queued` > 0
  // (used with a cap only).
  ThreadPerRequestPolicy(int max_threads, absl::Duration idle_timeout, size_t max_queued);
  ~ThreadPerRequestPolicy() override;  // Shutdown()

  absl::string_view name() const override { return "thread-per-request"; }
  void Execute(PendingCall* call) override ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_);
  // threads: running and cached; queued: calls waiting for the cap.
  PolicyStats Stats() const override ABSL_LOCKS_EXCLUDED(mu_);

  // Cached threads waiting for a call (for tests and metrics).
  int idle_threads() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A cached thread's mailbox: Execute() hands it a call directly.
  struct Worker {
    PendingCall* call = nullptr;
  };

  // The body of a thread, starting with `call`.
  void ThreadLoop(PendingCall* call) ABSL_LOCKS_EXCLUDED(mu_);

  const int max_threads_;
  const absl::Duration idle_timeout_;
  const size_t max_queued_;

  mutable korb::Mutex mu_;
  // Cached threads, most recently idle last. A Worker is here exactly while
  // its thread waits with an empty mailbox.
  std::vector<Worker*> idle_ ABSL_GUARDED_BY(mu_);
  // Calls waiting for the cap; non-empty only while running_ >= max_threads_.
  internal::PriorityCallQueue queue_ ABSL_GUARDED_BY(mu_);
  // Threads alive or being started (running + cached).
  int threads_ ABSL_GUARDED_BY(mu_) = 0;
  // Calls running or handed to a thread.
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  internal::PolicyThreads thread_set_;
};

}  // namespace korb

#endif  // KORB_ADAPTER_THREAD_PER_REQUEST_POLICY_H_
