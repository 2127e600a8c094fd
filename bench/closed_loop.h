// The benchmarks' closed-loop measurement: client threads call back to back,
// first for a short warm-up, then for a measured period whose latencies are
// kept; Summarize() reads a row's figures (calls/s, percentiles) off them.
//
// Thread-safety: RunClosedLoop() is called from one thread; it runs the
// clients' calls on threads of its own. Summarize() is thread-compatible.
#ifndef KORB_BENCH_CLOSED_LOOP_H_
#define KORB_BENCH_CLOSED_LOOP_H_

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/percentile.h"

namespace korb::bench {

// Latencies and measured time, accumulated over the rounds of one row.
struct Sample {
  std::vector<double> latencies_us;
  double seconds = 0;
};

// A row's figures, read off its accumulated sample.
struct Figures {
  long calls = 0;
  double calls_per_s = 0, p50_us = 0, p90_us = 0, p99_us = 0;
};

// Sorts the sample's latencies in place and reads the figures off them.
inline Figures Summarize(Sample& sample) {
  std::vector<double>& all = sample.latencies_us;
  std::sort(all.begin(), all.end());
  return {.calls = static_cast<long>(all.size()),
          .calls_per_s = sample.seconds > 0 ? all.size() / sample.seconds : 0,
          .p50_us = Percentile(all, 0.50),
          .p90_us = Percentile(all, 0.90),
          .p99_us = Percentile(all, 0.99)};
}

// One client's next call; false if it failed. Anything the client computes
// before the call goes in `prepare`, outside the timed region.
struct ClientLoop {
  std::function<void()> prepare = [] {};
  std::function<bool()> call;
};

// Runs `clients` threads, client c looping over make_client(c): a warm-up of
// min(max_warmup, seconds / 4), then `seconds` of measured calls whose
// latencies are appended to `sample`. False if any call failed (every
// thread then stops).
inline bool RunClosedLoop(int clients, double seconds, double max_warmup,
                          const std::function<ClientLoop(int)>& make_client, Sample* sample) {
  std::atomic<int> phase{0};  // 0 warm-up, 1 measure, 2 stop
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ClientLoop client = make_client(c);
      std::vector<double>& mine = latencies[c];
      mine.reserve(100000);
      for (;;) {
        int p = phase.load(std::memory_order_relaxed);
        if (p == 2 || failed.load(std::memory_order_relaxed)) break;
        client.prepare();
        absl::Time start = absl::Now();
        if (!client.call()) {
          failed = true;
          break;
        }
        if (p == 1) mine.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
      }
    });
  }
  absl::SleepFor(absl::Seconds(std::min(max_warmup, seconds / 4)));
  phase = 1;
  absl::Time start = absl::Now();
  absl::SleepFor(absl::Seconds(seconds));
  phase = 2;
  sample->seconds += absl::ToDoubleSeconds(absl::Now() - start);
  for (std::thread& t : threads) t.join();
  for (const std::vector<double>& l : latencies) {
    sample->latencies_us.insert(sample->latencies_us.end(), l.begin(), l.end());
  }
  return !failed;
}

}  // namespace korb::bench

#endif  // KORB_BENCH_CLOSED_LOOP_H_
