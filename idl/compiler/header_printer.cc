#include "idl/compiler/header_printer.h"

#include <set>
#include <string>

#include "idl/compiler/names.h"
#include "idl/compiler/print_common.h"
#include "idl/compiler/vars.h"

namespace korb::idl {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::io::Printer;

void PrintHeaderIncludes(Printer* printer, const FileDescriptor* file,
                         const GeneratorOptions& options) {
  const bool has_services = file->service_count() > 0;
  if (has_services && options.stubs) printer->Print("#include <functional>\n\n");
  // The .pb.h of every file defining a request or reply type; this file's own
  // first (it declares the messages of its services).
  printer->Print(Vars{{"header", PbHeaderName(file)}}, "#include \"$header$\"\n");
  std::set<std::string> imported;
  for (int s = 0; s < file->service_count(); ++s) {
    const ServiceDescriptor* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      for (const FileDescriptor* dep :
           {method->input_type()->file(), method->output_type()->file()}) {
        if (dep != file) imported.insert(PbHeaderName(dep));
      }
    }
  }
  for (const std::string& header : imported) {
    printer->Print(Vars{{"header", header}}, "#include \"$header$\"\n");
  }
  if (!has_services) return;
  printer->Print(
      "\n#include \"absl/status/statusor.h\"\n"
      "#include \"absl/strings/string_view.h\"\n");
  if (options.stubs) {
    printer->Print(
        "#include \"korb/client/call_options.h\"\n"
        "#include \"korb/client/client.h\"\n"
        "#include \"korb/client/future.h\"\n"
        "#include \"korb/client/stub_base.h\"\n"
        "#include \"korb/common/ref.h\"\n");
  }
  if (options.servants) {
    printer->Print(
        "#include \"korb/servants/servant.h\"\n"
        "#include \"korb/skeletons/call_context.h\"\n");
  }
  printer->Print("#include \"korb/skeletons/method_table.h\"\n");
}

void PrintServantDecl(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  PrintComments(printer, LeadingComments(service));
  if (!LeadingComments(service).empty()) printer->Print("//\n");
  printer->Print(vars,
                 "// Skeleton of interface $ServiceFull$.\n"
                 "// Derive from it and override the operations; every operation defaults to\n"
                 "// UNIMPLEMENTED. The adapter calls them on its threading policy's threads,\n"
                 "// possibly concurrently.\n"
                 "class $Servant$ : public ::korb::Servant {\n"
                 " public:\n");
  printer->Indent();
  printer->Print(vars,
                 "static constexpr ::absl::string_view kInterfaceName = \"$ServiceFull$\";\n"
                 "// The method table of $ServiceFull$, in .proto order.\n"
                 "static const ::korb::InterfaceInfo& korb_static_interface();\n"
                 "const ::korb::InterfaceInfo& korb_interface() const final;\n");
  for (int m = 0; m < service->method_count(); ++m) {
    const MethodDescriptor* method = service->method(m);
    printer->Print("\n");
    PrintComments(printer, LeadingComments(method));
    printer->Print(MethodVars(method),
                   "virtual ::absl::StatusOr<$Reply$> $Method$(\n"
                   "    ::korb::CallContext& context,\n"
                   "    const $Request$& request);\n");
  }
  printer->Print(
      "\n"
      "// Decodes `request` for the operation at `method_index`, calls it and\n"
      "// encodes its reply into `reply`; see ::korb::Servant.\n"
      "::grpc::Status korb_dispatch(int method_index, ::korb::CallContext& context,\n"
      "                             const ::grpc::ByteBuffer& request,\n"
      "                             ::grpc::ByteBuffer* reply) final;\n");
  printer->Outdent();
  printer->Print("};\n\n");
}

void PrintStubDecl(Printer* printer, const ServiceDescriptor* service) {
  Vars vars = ServiceVars(service);
  PrintComments(printer, LeadingComments(service));
  if (!LeadingComments(service).empty()) printer->Print("//\n");
  printer->Print(vars,
                 "// Typed stub of interface $ServiceFull$.\n"
                 "// One synchronous and two asynchronous methods per operation. Thread-safe\n"
                 "// and cheap to copy; it borrows its ::korb::Client (see ::korb::StubBase).\n"
                 "class $Stub$ : public ::korb::StubBase {\n"
                 " public:\n");
  printer->Indent();
  printer->Print(vars,
                 "static constexpr ::absl::string_view kInterfaceName = \"$ServiceFull$\";\n"
                 "// The method table of $ServiceFull$, in .proto order.\n"
                 "static const ::korb::InterfaceInfo& korb_static_interface();\n"
                 "\n"
                 "$Stub$(::korb::Client& client, const ::korb::Ref& ref);\n"
                 "$Stub$(::korb::Client& client, const ::korb::ObjectRef& ref);\n");
  for (int m = 0; m < service->method_count(); ++m) {
    const MethodDescriptor* method = service->method(m);
    printer->Print("\n");
    PrintComments(printer, LeadingComments(method));
    printer->Print(MethodVars(method),
                   "::absl::StatusOr<$Reply$> $Method$(\n"
                   "    const $Request$& request,\n"
                   "    const ::korb::CallOptions& options = {}) const;\n"
                   "void $MethodAsync$(\n"
                   "    const $Request$& request,\n"
                   "    ::std::function<void(::absl::StatusOr<$Reply$>)> done,\n"
                   "    const ::korb::CallOptions& options = {}) const;\n"
                   "::korb::Future<$Reply$> $MethodAsync$(\n"
                   "    const $Request$& request,\n"
                   "    const ::korb::CallOptions& options = {}) const;\n");
  }
  printer->Outdent();
  printer->Print("};\n\n");
}

void PrintHeader(Printer* printer, const FileDescriptor* file, const GeneratorOptions& options) {
  Vars vars = FileVars(file);
  PrintFileBanner(printer, file);
  printer->Print(vars, "#ifndef $guard$\n#define $guard$\n\n");
  PrintHeaderIncludes(printer, file, options);
  printer->Print("\n");
  if (file->service_count() > 0) {
    PrintNamespaceOpen(printer, file);
    for (int s = 0; s < file->service_count(); ++s) {
      if (options.servants) PrintServantDecl(printer, file->service(s));
      if (options.stubs) PrintStubDecl(printer, file->service(s));
    }
    PrintNamespaceClose(printer, file);
    printer->Print("\n");
  }
  printer->Print(vars, "#endif  // $guard$\n");
}

}  // namespace korb::idl
