#include "idl/compiler/validate.h"

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "idl/compiler/names.h"
#include "korb/options.pb.h"

namespace korb::idl {
namespace {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kEmptyMessage[] = "korb.Empty";

absl::Status Invalid(const FileDescriptor* file, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("protoc-gen-korb: ", file->name(), ": ", message));
}

absl::Status ValidateMethod(const MethodDescriptor* method) {
  const FileDescriptor* file = method->file();
  if (method->client_streaming() || method->server_streaming()) {
    return Invalid(file, absl::StrCat("method ", method->full_name(),
                                      " is streaming; Korb supports unary methods only"));
  }
  const auto& semantics = method->options().GetExtension(korb::method);
  if (semantics.oneway() && method->output_type()->full_name() != kEmptyMessage) {
    return Invalid(file, absl::StrCat("method ", method->full_name(), " is oneway but returns ",
                                      method->output_type()->full_name(),
                                      "; a oneway method must return korb.Empty"));
  }
  const ServiceDescriptor* service = method->service();
  // The generated classes' own members: korb_* is the runtime's prefix.
  if (absl::StartsWith(method->name(), "korb_") || method->name() == "kInterfaceName") {
    return Invalid(file, absl::StrCat("method ", method->full_name(),
                                      " uses a name reserved for Korb's runtime members "
                                      "(kInterfaceName and names starting with korb_)"));
  }
  if (method->name() == ServantClassName(service) || method->name() == StubClassName(service)) {
    return Invalid(
        file, absl::StrCat("method ", method->full_name(), " has the name of a generated class"));
  }
  return absl::OkStatus();
}

// Every C++ member name the stub gets (the servant's are a subset) must belong
// to one operation only: `rpc Get` and `rpc GetAsync` both want GetAsync, and
// `rpc delete` and `rpc delete_` both want delete_.
absl::Status ValidateMemberNames(const ServiceDescriptor* service) {
  std::map<std::string, const MethodDescriptor*> owners;
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* method = service->method(i);
    for (const std::string& member : {MethodCppName(method), MethodAsyncName(method)}) {
      auto [it, inserted] = owners.emplace(member, method);
      if (!inserted) {
        return Invalid(
            service->file(),
            absl::StrCat("methods ", it->second->full_name(), " and ", method->full_name(),
                         " both generate the C++ member ", StubClassName(service), "::", member));
      }
    }
  }
  return absl::OkStatus();
}

// XServant and XStub live in the package's namespace next to protoc's classes;
// a message, enum, enum value or extension of that name would clash with them.
absl::Status ValidateClassNames(const ServiceDescriptor* service) {
  const std::string prefix = service->file()->package().empty()
                                 ? std::string()
                                 : absl::StrCat(service->file()->package(), ".");
  for (const std::string& name : {ServantClassName(service), StubClassName(service)}) {
    const google::protobuf::DescriptorPool* pool = service->file()->pool();
    const std::string full_name = absl::StrCat(prefix, name);
    // Services generate no C++ class of their own, so `service SStub` is fine.
    if (pool->FindMessageTypeByName(full_name) != nullptr ||
        pool->FindEnumTypeByName(full_name) != nullptr ||
        pool->FindEnumValueByName(full_name) != nullptr ||
        pool->FindExtensionByName(full_name) != nullptr) {
      return Invalid(service->file(),
                     absl::StrCat("service ", service->full_name(), " generates the class ", name,
                                  ", which collides with ", full_name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateFile(const FileDescriptor* file) {
  for (int s = 0; s < file->service_count(); ++s) {
    const ServiceDescriptor* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      if (absl::Status status = ValidateMethod(service->method(m)); !status.ok()) {
        return status;
      }
    }
    if (absl::Status status = ValidateMemberNames(service); !status.ok()) return status;
    if (absl::Status status = ValidateClassNames(service); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace korb::idl
