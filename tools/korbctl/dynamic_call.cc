#include "tools/korbctl/dynamic_call.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/support/byte_buffer.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/internal/invocation.h"
#include "client/internal/target.h"
#include "korb/options.pb.h"
#include "tools/korbctl/byte_buffers.h"

namespace korb::ctl {
namespace {

MethodSemantics SemanticsOf(const google::protobuf::MethodDescriptor& method) {
  // The fetched descriptors carry the options as unknown fields of a pool
  // that does not know Korb's extension; reparsing them into the generated
  // MethodOptions, where the extension is registered, reads them.
  google::protobuf::MethodOptions options;
  options.ParseFromString(method.options().SerializeAsString());
  const korb::MethodAnnotation& annotation = options.GetExtension(korb::method);
  return {.readonly = annotation.readonly(),
          .idempotent = annotation.idempotent(),
          .oneway = annotation.oneway(),
          .priority = annotation.priority()};
}

}  // namespace

DynamicInterface::DynamicInterface(const google::protobuf::ServiceDescriptor& service)
    : service_(service), name_(service.full_name()) {
  for (int i = 0; i < service.method_count(); ++i) {
    names_.push_back(service.method(i)->name());
    paths_.push_back(absl::StrCat("/", name_, "/", service.method(i)->name()));
  }
  for (int i = 0; i < service.method_count(); ++i) {
    methods_.push_back({names_[i], paths_[i], SemanticsOf(*service.method(i))});
  }
  info_ = InterfaceInfo{name_, methods_};
}

std::unique_ptr<DynamicInterface> DynamicInterface::Make(
    const google::protobuf::ServiceDescriptor& service) {
  return std::unique_ptr<DynamicInterface>(new DynamicInterface(service));
}

absl::StatusOr<std::string> CallJson(Client& client, const DynamicInterface& interface,
                                     const Ref& ref, absl::string_view operation,
                                     absl::string_view request_json, const CallOptions& options) {
  const google::protobuf::ServiceDescriptor& service = interface.service();
  const google::protobuf::MethodDescriptor* method =
      service.FindMethodByName(std::string(operation));
  if (method == nullptr) {
    std::vector<std::string> names;
    for (int i = 0; i < service.method_count(); ++i) names.push_back(service.method(i)->name());
    return absl::InvalidArgumentError(absl::StrCat("interface ", service.full_name(),
                                                   " has no operation '", operation,
                                                   "'; it has: ", absl::StrJoin(names, ", ")));
  }
  if (method->client_streaming() || method->server_streaming()) {
    return absl::InvalidArgumentError(
        absl::StrCat(method->full_name(), " streams; Korb operations are unary"));
  }
  google::protobuf::DynamicMessageFactory factory(service.file()->pool());
  std::unique_ptr<google::protobuf::Message> request(
      factory.GetPrototype(method->input_type())->New());
  std::string json = request_json.empty() ? "{}" : std::string(request_json);
  if (auto parsed = google::protobuf::util::JsonStringToMessage(json, request.get());
      !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request is not a valid ",
                                                   method->input_type()->full_name(),
                                                   " in JSON: ", parsed.message().ToString()));
  }
  grpc::ByteBuffer send = ToByteBuffer(request->SerializeAsString());

  std::shared_ptr<const internal::Binding> binding = internal::Bind(client, ref, interface.info());
  if (!binding->status.ok()) return binding->status;
  absl::StatusOr<grpc::ByteBuffer> reply = internal::InvokeBlocking(
      client, binding, internal::StubConfig{}, method->index(), send, options);
  if (!reply.ok()) return reply.status();
  std::unique_ptr<google::protobuf::Message> answer(
      factory.GetPrototype(method->output_type())->New());
  if (!answer->ParseFromString(ToBytes(*reply))) {
    return absl::InternalError(
        absl::StrCat("reply is not a valid ", method->output_type()->full_name()));
  }
  std::string out;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = false;
  print.preserve_proto_field_names = false;
  if (auto printed = google::protobuf::util::MessageToJsonString(*answer, &out, print);
      !printed.ok()) {
    return absl::InternalError(
        absl::StrCat("reply does not print as JSON: ", printed.message().ToString()));
  }
  return out;
}

}  // namespace korb::ctl
