// Test helper: the contents of a file, for tests that inspect generated code.
//
// Thread-safety: stateless; thread-safe.
//
// Usage:
//   std::string header = korb::testing::ReadFile(KORB_GENERATED_HEADER);
#ifndef KORB_TESTS_IDL_READ_FILE_H_
#define KORB_TESTS_IDL_READ_FILE_H_

#include <fstream>
#include <sstream>
#include <string>

namespace korb::testing {

// The file's bytes, or "" if it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace korb::testing

#endif  // KORB_TESTS_IDL_READ_FILE_H_
