// Prints the .korb.cc of a .proto file: for every service S its method table,
// SServant's default operations and dispatch switch, and SStub's methods.
//
// The method table is internal-linkage constexpr data of the .korb.cc, so it
// exists whichever of servants and stubs is generated; SServant and SStub
// both return it from korb_static_interface().
//
// Thread-safety: functions over a caller-owned io::Printer, which is not
// thread-safe; use one printer per thread.
//
// Usage:
//   google::protobuf::io::Printer printer(stream, '$');
//   PrintSource(&printer, file, options);
#ifndef KORB_IDL_COMPILER_SOURCE_PRINTER_H_
#define KORB_IDL_COMPILER_SOURCE_PRINTER_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/printer.h>

#include "idl/compiler/options.h"

namespace korb::idl {

// The whole source file. `file` must have passed ValidateFile().
void PrintSource(google::protobuf::io::Printer* printer,
                 const google::protobuf::FileDescriptor* file, const GeneratorOptions& options);

// One construct each; PrintSource calls them in order.
void PrintMethodTable(google::protobuf::io::Printer* printer,
                      const google::protobuf::ServiceDescriptor* service);
void PrintServantMethodDefs(google::protobuf::io::Printer* printer,
                            const google::protobuf::ServiceDescriptor* service);
void PrintDispatchSwitch(google::protobuf::io::Printer* printer,
                         const google::protobuf::ServiceDescriptor* service);
void PrintStubMethodDefs(google::protobuf::io::Printer* printer,
                         const google::protobuf::ServiceDescriptor* service);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_SOURCE_PRINTER_H_
