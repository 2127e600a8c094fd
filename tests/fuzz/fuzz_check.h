// FUZZ_CHECK: the property checks of Korb's fuzz targets. A failed check
// prints what broke and aborts, which libFuzzer reports as a crash with the
// input that caused it (saved as crash-<sha1> for replay).
//
// Thread-safety: thread-safe (stateless).
#ifndef KORB_TESTS_FUZZ_FUZZ_CHECK_H_
#define KORB_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                         \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, \
                   #condition);                                                       \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

#endif  // KORB_TESTS_FUZZ_FUZZ_CHECK_H_
