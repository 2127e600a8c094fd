#include "idl/compiler/options.h"

#include <google/protobuf/compiler/code_generator.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace korb::idl {

absl::StatusOr<GeneratorOptions> ParseGeneratorOptions(std::string_view parameter) {
  std::vector<std::pair<std::string, std::string>> pairs;
  google::protobuf::compiler::ParseGeneratorParameter(std::string(parameter), &pairs);

  GeneratorOptions options;
  std::set<std::string> seen;
  for (const auto& [key, value] : pairs) {
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("protoc-gen-korb: option '", key, "' is given more than once"));
    }
    if (key == "generate") {
      if (value == "both") {
        options.servants = options.stubs = true;
      } else if (value == "servants") {
        options.servants = true;
        options.stubs = false;
      } else if (value == "stubs") {
        options.servants = false;
        options.stubs = true;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("protoc-gen-korb: bad value '", value,
                         "' for option 'generate'; expected both, servants or stubs"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("protoc-gen-korb: unknown option '", key, "'; known options: generate"));
    }
  }
  return options;
}

}  // namespace korb::idl
