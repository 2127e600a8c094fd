// Prints the .korb.h of a .proto file: for every service S, the skeleton
// class SServant and the typed stub class SStub (docs/generated-code.md).
//
// Thread-safety: functions over a caller-owned io::Printer, which is not
// thread-safe; use one printer per thread.
//
// Usage:
//   google::protobuf::io::Printer printer(stream, '$');
//   PrintHeader(&printer, file, options);
#ifndef KORB_IDL_COMPILER_HEADER_PRINTER_H_
#define KORB_IDL_COMPILER_HEADER_PRINTER_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/printer.h>

#include "idl/compiler/options.h"

namespace korb::idl {

// The whole header. `file` must have passed ValidateFile().
void PrintHeader(google::protobuf::io::Printer* printer,
                 const google::protobuf::FileDescriptor* file, const GeneratorOptions& options);

// One construct each; PrintHeader calls them in order.
void PrintHeaderIncludes(google::protobuf::io::Printer* printer,
                         const google::protobuf::FileDescriptor* file,
                         const GeneratorOptions& options);
void PrintServantDecl(google::protobuf::io::Printer* printer,
                      const google::protobuf::ServiceDescriptor* service);
void PrintStubDecl(google::protobuf::io::Printer* printer,
                   const google::protobuf::ServiceDescriptor* service);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_HEADER_PRINTER_H_
