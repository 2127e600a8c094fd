#include "diskserver/disk_servant.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/time/clock.h"

namespace disk {
namespace {

constexpr uint64_t kPpm = 1000000;

absl::Duration ThreadCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

}  // namespace

SimulatedDisk::SimulatedDisk(DiskOptions options)
    : options_(options),
      miss_ppm_(static_cast<uint64_t>(
          std::llround(std::clamp(1.0 - options.hit_rate, 0.0, 1.0) * kPpm))) {}

bool SimulatedDisk::Cached(uint64_t block) const {
  if (!options_.cache) return false;
  // Block numbers are taken modulo 2^32 so that (b + 1)·miss_ppm_ cannot
  // overflow; the pattern repeats with that period.
  uint64_t b = block & 0xffffffffu;
  return (b + 1) * miss_ppm_ / kPpm == b * miss_ppm_ / kPpm;
}

void SimulatedDisk::ReadFromDrive() {
  const absl::Time queued = absl::Now();
  korb::MutexLock lock(&drive_);
  free_at_ = std::max(queued, free_at_) + options_.io;
  const absl::Duration left = free_at_ - absl::Now();
  if (left > absl::ZeroDuration()) absl::SleepFor(left);
  drive_reads_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t BurnCpu(absl::Duration cpu, uint64_t seed) {
  // A 4 KiB "block" rewritten by an FNV-style chain: each word depends on
  // the previous one, so the work is sequential and cannot be skipped.
  std::array<uint64_t, 512> buffer;
  uint64_t h = 0xcbf29ce484222325u ^ seed;
  for (uint64_t& word : buffer) {
    h = (h ^ (h >> 29)) * 0x100000001b3u;
    word = h;
  }
  // Reading the thread's CPU clock is a system call about as long as one
  // pass over the buffer; checking every 32 passes (about 20 us) keeps the
  // work mostly computation and the error near 1 % of 2 ms.
  const absl::Duration end = ThreadCpuTime() + cpu;
  do {
    for (int pass = 0; pass < 32; ++pass) {
      for (uint64_t& word : buffer) {
        h = (h ^ word) * 0x100000001b3u;
        word = h;
      }
    }
  } while (ThreadCpuTime() < end);
  return h;
}

absl::StatusOr<Block> DiskImpl::Read(korb::CallContext&, const BlockRequest& request) {
  const DiskOptions& options = disk_->options();
  const bool hit = disk_->Cached(request.block());
  Block block;
  block.set_block(request.block());
  block.set_checksum(BurnCpu(options.cache ? options.cache_cpu : options.cpu, request.block()));
  if (!hit) disk_->ReadFromDrive();
  block.set_cache_hit(hit);
  return block;
}

}  // namespace disk
