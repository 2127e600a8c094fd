// The plugin options of protoc-gen-korb, passed as `--korb_opt=k=v,...` (or
// `--korb_out=k=v,...:dir`), parsed into a struct. Unknown keys are errors, so
// that a misspelt option never silently produces different code.
//
// Thread-safety: stateless functions and a value type; thread-safe.
//
// Usage:
//   absl::StatusOr<GeneratorOptions> options = ParseGeneratorOptions("generate=stubs");
//   if (!options.ok()) { *error = std::string(options.status().message()); return false; }
//   if (options->servants) PrintServantDecl(...);
#ifndef KORB_IDL_COMPILER_OPTIONS_H_
#define KORB_IDL_COMPILER_OPTIONS_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace korb::idl {

struct GeneratorOptions {
  bool servants = true;  // emit the XServant skeletons (generate=both|servants)
  bool stubs = true;     // emit the XStub client stubs (generate=both|stubs)
};

// Parses protoc's parameter string ("" or "k=v,k=v"). Known keys:
//   generate=both|servants|stubs   (default both)
// Returns INVALID_ARGUMENT, with a message starting "protoc-gen-korb: ", for an
// unknown key, a repeated key, or a bad value.
absl::StatusOr<GeneratorOptions> ParseGeneratorOptions(std::string_view parameter);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_OPTIONS_H_
