// The disk server example: the seeds' file server as a Korb servant.
//
// Every Read() costs real processor time (a hash chain, run until this
// thread's CPU clock has advanced by the configured amount: CPU, not sleep)
// and, unless the block cache holds the block, one read from a single disk
// drive that serves one request at a time (a mutex held while the read
// "spins the platter", i.e. sleeps: waiting, not CPU). With the seeds' 2 ms of
// processing and 8 ms of disk per request:
//
//   threads   no cache                 cache (75 % hits, 2.5 ms processing)
//   1         100 req/s (10 ms each)   222 req/s (2.5 + 0.25·8 = 4.5 ms each)
//   2         125 req/s (disk-bound)   444 req/s
//   3         125 req/s                500 req/s (disk-bound: 0.25·8 = 2 ms each)
//
// DiskOptions describes the costs; SimulatedDisk is the one drive and its
// cache, shared by every DiskImpl object of a server (however many objects
// there are, there is one disk); DiskImpl is the servant.
//
// Thread-safety: SimulatedDisk and DiskImpl are thread-safe; any threading
// policy may run Read() on any number of threads at once.
//
// Usage:
//   auto drive = std::make_shared<disk::SimulatedDisk>(disk::DiskOptions{.cache = true});
//   ASSIGN_OR_RETURN(korb::Ref ref,
//                    adapter->Activate("disk", std::make_shared<disk::DiskImpl>(drive)));
//   disk::DiskStub stub(client, ref);
//   disk::BlockRequest request;
//   request.set_block(42);
//   absl::StatusOr<disk::Block> block = stub.Read(request);
#ifndef KORB_EXAMPLES_DISKSERVER_DISK_SERVANT_H_
#define KORB_EXAMPLES_DISKSERVER_DISK_SERVANT_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "common/sync.h"
#include "diskserver/disk.korb.h"

namespace disk {

// What one request costs. The defaults are the seeds' figures.
struct DiskOptions {
  // Processing per request without the cache.
  absl::Duration cpu = absl::Milliseconds(2);
  // One read from the drive.
  absl::Duration io = absl::Milliseconds(8);
  // With the block cache a fraction `hit_rate` of reads needs no drive, and
  // every request costs `cache_cpu` of processing (searching the cache).
  bool cache = false;
  double hit_rate = 0.75;  // 0..1
  absl::Duration cache_cpu = absl::Microseconds(2500);
};

// The single disk drive and the block cache in front of it.
//
// Whether block b is cached is a fixed function of b: with miss rate
// m = 1 - hit_rate, block b misses iff floor((b+1)·m) > floor(b·m). So a
// request's outcome is the same in every run, and any run of consecutive block
// numbers hits at exactly `hit_rate` with the misses evenly spaced (one in
// four at 75 %). The seeds' mean-value arithmetic assumes this; misses placed
// at random bunch up and queue at the drive (in a simulation, two threads then
// reach 393 instead of 444 req/s).
class SimulatedDisk {
 public:
  explicit SimulatedDisk(DiskOptions options = {});
  SimulatedDisk(const SimulatedDisk&) = delete;
  SimulatedDisk& operator=(const SimulatedDisk&) = delete;

  const DiskOptions& options() const { return options_; }

  // True if `block` is served from the cache (always false without one).
  bool Cached(uint64_t block) const;
  // Reads one block from the drive: waits for the drive to be free, then
  // holds it for `options().io`. Blocks the calling thread without using CPU.
  //
  // The drive keeps its own clock, as a real one does: a read that was
  // waiting when the previous one ended starts at that end, not when the
  // operating system gets round to waking the waiting thread. So the drive
  // serves exactly 1 / io reads per second while busy, on a loaded machine
  // too; the threads' wake-up latency still delays their replies.
  void ReadFromDrive() ABSL_LOCKS_EXCLUDED(drive_);

  // Reads served by the drive so far.
  uint64_t drive_reads() const { return drive_reads_.load(std::memory_order_relaxed); }

 private:
  const DiskOptions options_;
  const uint64_t miss_ppm_;  // miss rate in parts per million
  // Held for the duration of each drive read: the drive serves one at a time.
  korb::Mutex drive_;
  // When the read in progress (or the last one) ends, on the drive's clock.
  absl::Time free_at_ ABSL_GUARDED_BY(drive_) = absl::InfinitePast();
  std::atomic<uint64_t> drive_reads_{0};
};

// Burns `cpu` of this thread's processor time (CLOCK_THREAD_CPUTIME_ID) in a
// hash chain seeded with `seed`, and returns the chain's digest. Time the
// thread spends preempted does not count, so on a busy machine the call takes
// longer than `cpu` in wall time, as real computation would.
uint64_t BurnCpu(absl::Duration cpu, uint64_t seed);

// A file server object: Read() processes the request, then reads the block
// from the shared drive unless the cache has it.
class DiskImpl : public DiskServant {
 public:
  // `disk` is shared by all objects of one server.
  explicit DiskImpl(std::shared_ptr<SimulatedDisk> disk) : disk_(std::move(disk)) {}

  absl::StatusOr<Block> Read(korb::CallContext& context, const BlockRequest& request) override;

 private:
  const std::shared_ptr<SimulatedDisk> disk_;
};

}  // namespace disk

#endif  // KORB_EXAMPLES_DISKSERVER_DISK_SERVANT_H_
