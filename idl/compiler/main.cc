// protoc-gen-korb: Korb's IDL compiler, run by protoc as a plugin:
//   protoc -I... --cpp_out=out --korb_out=out [--korb_opt=generate=stubs] x.proto
// See docs/generated-code.md for what it writes.
#include <google/protobuf/compiler/plugin.h>

#include "idl/compiler/generator.h"

int main(int argc, char* argv[]) {
  korb::idl::Generator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
