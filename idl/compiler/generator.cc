#include "idl/compiler/generator.h"

#include <google/protobuf/io/printer.h>
#include <google/protobuf/io/zero_copy_stream.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "idl/compiler/header_printer.h"
#include "idl/compiler/names.h"
#include "idl/compiler/options.h"
#include "idl/compiler/source_printer.h"
#include "idl/compiler/validate.h"

namespace korb::idl {

bool Generator::Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                         google::protobuf::compiler::GeneratorContext* context,
                         std::string* error) const {
  absl::StatusOr<GeneratorOptions> options = ParseGeneratorOptions(parameter);
  if (!options.ok()) {
    *error = std::string(options.status().message());
    return false;
  }
  // Validate everything before writing anything.
  if (absl::Status status = ValidateFile(file); !status.ok()) {
    *error = std::string(status.message());
    return false;
  }
  {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(
        context->Open(KorbHeaderName(file)));
    google::protobuf::io::Printer printer(stream.get(), '$');
    PrintHeader(&printer, file, *options);
    if (printer.failed()) {
      *error = "protoc-gen-korb: " + file->name() + ": failed to write " + KorbHeaderName(file);
      return false;
    }
  }
  {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> stream(
        context->Open(KorbSourceName(file)));
    google::protobuf::io::Printer printer(stream.get(), '$');
    PrintSource(&printer, file, *options);
    if (printer.failed()) {
      *error = "protoc-gen-korb: " + file->name() + ": failed to write " + KorbSourceName(file);
      return false;
    }
  }
  return true;
}

}  // namespace korb::idl
