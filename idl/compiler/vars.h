// The substitution variables of the code templates: everything the printers
// say about a service or a method, computed in one place so that the header
// and the source agree on every name.
//
// Thread-safety: pure functions; thread-safe.
//
// Usage:
//   Vars vars = MethodVars(method, index);
//   printer->Print(vars, "virtual ::absl::StatusOr<$Reply$> $Method$(...);\n");
#ifndef KORB_IDL_COMPILER_VARS_H_
#define KORB_IDL_COMPILER_VARS_H_

#include <google/protobuf/descriptor.h>

#include <map>
#include <string>

namespace korb::idl {

using Vars = std::map<std::string, std::string>;

// file:        "a/b/c.proto"
// korb_header: "a/b/c.korb.h"
// guard:       "KORB_GENERATED_A_B_C_KORB_H_"
// namespace:   "a::b::c" ("" for no package)
Vars FileVars(const google::protobuf::FileDescriptor* file);

// Service:     "S"                     ServiceFull: "a.b.S"
// Servant:     "SServant"              Stub:        "SStub"
// Methods:     "korb_S_methods"        Interface:   "korb_S_interface"
Vars ServiceVars(const google::protobuf::ServiceDescriptor* service);

// ServiceVars plus
// Index:       "0" (position in the service)
// Name:        "delete" (.proto name)  MethodFull:  "a.b.S.delete"
// Method:      "delete_" (C++ member)  MethodAsync: "deleteAsync"
// Path:        "/a.b.S/delete"
// Request:     "::a::b::Req"           Reply:       "::a::b::Reply"
// readonly, idempotent, oneway: "true" | "false"; priority: "-3"
Vars MethodVars(const google::protobuf::MethodDescriptor* method);

}  // namespace korb::idl

#endif  // KORB_IDL_COMPILER_VARS_H_
