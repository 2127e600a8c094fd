#include "idl/compiler/vars.h"

#include "absl/strings/str_cat.h"
#include "idl/compiler/names.h"
#include "korb/options.pb.h"

namespace korb::idl {

Vars FileVars(const google::protobuf::FileDescriptor* file) {
  return {
      {"file", file->name()},
      {"korb_header", KorbHeaderName(file)},
      {"guard", IncludeGuard(file)},
      {"namespace", CppNamespace(file)},
  };
}

Vars ServiceVars(const google::protobuf::ServiceDescriptor* service) {
  return {
      {"Service", service->name()},           {"ServiceFull", service->full_name()},
      {"Servant", ServantClassName(service)}, {"Stub", StubClassName(service)},
      {"Methods", MethodArrayName(service)},  {"Interface", InterfaceInfoName(service)},
  };
}

Vars MethodVars(const google::protobuf::MethodDescriptor* method) {
  Vars vars = ServiceVars(method->service());
  // GetExtension needs korb/options.pb.cc linked in, which registers the
  // extension so protoc's serialized options parse into it. `auto`: the
  // option message's C++ name is not this file's business.
  const auto& semantics = method->options().GetExtension(korb::method);
  vars.insert({
      {"Index", absl::StrCat(method->index())},
      {"Name", method->name()},
      {"MethodFull", method->full_name()},
      {"Method", MethodCppName(method)},
      {"MethodAsync", MethodAsyncName(method)},
      {"Path", GrpcPath(method)},
      {"Request", QualifiedMessageName(method->input_type())},
      {"Reply", QualifiedMessageName(method->output_type())},
      {"readonly", semantics.readonly() ? "true" : "false"},
      {"idempotent", semantics.idempotent() ? "true" : "false"},
      {"oneway", semantics.oneway() ? "true" : "false"},
      {"priority", absl::StrCat(semantics.priority())},
  });
  return vars;
}

}  // namespace korb::idl
