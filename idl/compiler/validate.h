// Checks that a .proto file's services can be generated as Korb interfaces,
// before anything is written: unary methods only, oneway methods returning
// korb.Empty, and no two generated C++ names that collide (with each other,
// with the runtime's korb_ members, or with protoc's classes).
//
// Thread-safety: pure function; thread-safe.
//
// Usage:
//   if (absl::Status s = ValidateFile(file); !s.ok()) {
//     *error = std::string(s.message());
//     return false;
//   }
#ifndef KORB_IDL_COMPILER_VALIDATE_H_
#define KORB_IDL_COMPILER_VALIDATE_H_

#include <google/protobuf/descriptor.h>

#include "absl/status/status.h"

namespace korb::idl {

// OK, or INVALID_ARGUMENT with a message
//   "protoc-gen-korb: <file>: <what is wrong, naming the methods involved>"
// for the first problem found.
absl::Status ValidateFile(const google::protobuf::FileDescriptor* file);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_VALIDATE_H_
