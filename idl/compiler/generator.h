// korb::idl::Generator: the protoc plugin's CodeGenerator. For each .proto
// file protoc asks for, it parses the plugin options, validates the file's
// services (ValidateFile) and writes <stem>.korb.h and <stem>.korb.cc. Both
// files are written even for a file without services, so build rules can
// always list them.
//
// Thread-safety: stateless; Generate() may run concurrently for different
// files, as protoc permits.
//
// Usage (main.cc):
//   korb::idl::Generator generator;
//   return google::protobuf::compiler::PluginMain(argc, argv, &generator);
#ifndef KORB_IDL_COMPILER_GENERATOR_H_
#define KORB_IDL_COMPILER_GENERATOR_H_

#include <google/protobuf/compiler/code_generator.h>
#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>

namespace korb::idl {

class Generator : public google::protobuf::compiler::CodeGenerator {
 public:
  // On failure returns false with `*error` set to one line starting
  // "protoc-gen-korb: ", which protoc prints.
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;

  uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_GENERATOR_H_
