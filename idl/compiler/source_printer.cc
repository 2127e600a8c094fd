#include "idl/compiler/source_printer.h"

#include "idl/compiler/print_common.h"
#include "idl/compiler/vars.h"

namespace korb::idl {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::io::Printer;

void PrintMethodTable(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  printer->Print(vars, "// The method table of $ServiceFull$, in .proto order.\n");
  if (service->method_count() == 0) {
    // A zero-length array is ill-formed; an interface may still be empty.
    printer->Print(vars,
                   "constexpr ::korb::InterfaceInfo $Interface${\n"
                   "    \"$ServiceFull$\", {}};\n\n");
    return;
  }
  printer->Print(vars, "constexpr ::korb::MethodInfo $Methods$[] = {\n");
  printer->Indent();
  for (int m = 0; m < service->method_count(); ++m) {
    // The path is a string literal, so its view is NUL-terminated: the client
    // passes path.data() to grpc::internal::RpcMethod as a C string.
    printer->Print(MethodVars(service->method(m)),
                   "{\"$Name$\",\n"
                   " \"$Path$\",\n"
                   " {.readonly = $readonly$, .idempotent = $idempotent$, .oneway = $oneway$,"
                   " .priority = $priority$}},\n");
  }
  printer->Outdent();
  printer->Print(vars,
                 "};\n"
                 "constexpr ::korb::InterfaceInfo $Interface${\n"
                 "    \"$ServiceFull$\", $Methods$};\n\n");
}

void PrintServantMethodDefs(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  printer->Print(vars,
                 "const ::korb::InterfaceInfo& $Servant$::korb_static_interface() {\n"
                 "  return $Interface$;\n"
                 "}\n\n"
                 "const ::korb::InterfaceInfo& $Servant$::korb_interface() const {\n"
                 "  return $Interface$;\n"
                 "}\n\n");
  for (int m = 0; m < service->method_count(); ++m) {
    printer->Print(MethodVars(service->method(m)),
                   "::absl::StatusOr<$Reply$> $Servant$::$Method$(\n"
                   "    ::korb::CallContext& /*context*/,\n"
                   "    const $Request$& /*request*/) {\n"
                   "  return ::absl::UnimplementedError(\n"
                   "      \"$MethodFull$ is not implemented by this servant\");\n"
                   "}\n\n");
  }
}

void PrintDispatchSwitch(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  printer->Print(vars,
                 "::grpc::Status $Servant$::korb_dispatch(\n"
                 "    int method_index, ::korb::CallContext& context,\n"
                 "    const ::grpc::ByteBuffer& request, ::grpc::ByteBuffer* reply) {\n");
  printer->Indent();
  if (service->method_count() == 0) {
    printer->Print(
        "static_cast<void>(context);\n"
        "static_cast<void>(request);\n"
        "static_cast<void>(reply);\n");
  }
  printer->Print("switch (method_index) {\n");
  printer->Indent();
  for (int m = 0; m < service->method_count(); ++m) {
    // `this->` because an operation may share its name with a lambda parameter.
    printer->Print(MethodVars(service->method(m)),
                   "case $Index$:  // $Name$\n"
                   "  return ::korb::internal::InvokeUnary<\n"
                   "      $Request$,\n"
                   "      $Reply$>(\n"
                   "      context, request, reply,\n"
                   "      [this](::korb::CallContext& c, const $Request$& r) {\n"
                   "        return this->$Method$(c, r);\n"
                   "      });\n");
  }
  // The index comes from the network (via the adapter): never trust it.
  printer->Print(
      "default:\n"
      "  return ::korb::internal::UnknownMethodIndex(method_index);\n");
  printer->Outdent();
  printer->Print("}\n");
  printer->Outdent();
  printer->Print("}\n\n");
}

void PrintStubMethodDefs(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  printer->Print(vars,
                 "const ::korb::InterfaceInfo& $Stub$::korb_static_interface() {\n"
                 "  return $Interface$;\n"
                 "}\n\n"
                 "$Stub$::$Stub$(::korb::Client& client, const ::korb::Ref& ref)\n"
                 "    : ::korb::StubBase(client, ref, $Interface$) {}\n\n"
                 "$Stub$::$Stub$(::korb::Client& client, const ::korb::ObjectRef& ref)\n"
                 "    : ::korb::StubBase(client, ref, $Interface$) {}\n\n");
  for (int m = 0; m < service->method_count(); ++m) {
    printer->Print(MethodVars(service->method(m)),
                   "::absl::StatusOr<$Reply$> $Stub$::$Method$(\n"
                   "    const $Request$& request,\n"
                   "    const ::korb::CallOptions& options) const {\n"
                   "  return korb_invoke<\n"
                   "      $Request$,\n"
                   "      $Reply$>($Index$, request, options);\n"
                   "}\n\n"
                   "void $Stub$::$MethodAsync$(\n"
                   "    const $Request$& request,\n"
                   "    ::std::function<void(::absl::StatusOr<$Reply$>)> done,\n"
                   "    const ::korb::CallOptions& options) const {\n"
                   "  korb_invoke_async<\n"
                   "      $Request$,\n"
                   "      $Reply$>($Index$, request, ::std::move(done), options);\n"
                   "}\n\n"
                   "::korb::Future<$Reply$> $Stub$::$MethodAsync$(\n"
                   "    const $Request$& request,\n"
                   "    const ::korb::CallOptions& options) const {\n"
                   "  return korb_invoke_future<\n"
                   "      $Request$,\n"
                   "      $Reply$>($Index$, request, options);\n"
                   "}\n\n");
  }
}

void PrintSource(Printer* printer, const FileDescriptor* file, const GeneratorOptions& options) {
  PrintFileBanner(printer, file);
  printer->Print(FileVars(file), "\n#include \"$korb_header$\"\n");
  if (file->service_count() == 0) return;
  printer->Print("\n");
  if (options.stubs) printer->Print("#include <functional>\n#include <utility>\n\n");
  if (options.servants) {
    printer->Print(
        "#include <grpcpp/support/byte_buffer.h>\n"
        "#include <grpcpp/support/status.h>\n\n");
  }
  printer->Print(
      "#include \"absl/status/status.h\"\n"
      "#include \"absl/status/statusor.h\"\n");
  if (options.servants) printer->Print("#include \"korb/skeletons/dispatch.h\"\n");
  printer->Print("#include \"korb/skeletons/method_table.h\"\n\n");
  PrintNamespaceOpen(printer, file);
  printer->Print("namespace {\n\n");
  for (int s = 0; s < file->service_count(); ++s) PrintMethodTable(printer, file->service(s));
  printer->Print("}  // namespace\n\n");
  for (int s = 0; s < file->service_count(); ++s) {
    if (options.servants) {
      PrintServantMethodDefs(printer, file->service(s));
      PrintDispatchSwitch(printer, file->service(s));
    }
    if (options.stubs) PrintStubMethodDefs(printer, file->service(s));
  }
  PrintNamespaceClose(printer, file);
}

}  // namespace korb::idl
