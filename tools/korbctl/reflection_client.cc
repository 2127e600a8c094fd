#include "tools/korbctl/reflection_client.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/korbctl/byte_buffers.h"

namespace korb::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr absl::string_view kMethod =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
constexpr absl::string_view kRequestType = "grpc.reflection.v1alpha.ServerReflectionRequest";
constexpr absl::string_view kResponseType = "grpc.reflection.v1alpha.ServerReflectionResponse";

absl::StatusOr<std::unique_ptr<Message>> NewMessage(absl::string_view type) {
  // The reflection messages come from libgrpc++_reflection, which a client
  // links only if it refers to one of its symbols (--as-needed); loading it
  // registers them in the generated pool.
  static void (*volatile const keep_linked)() =
      &grpc::reflection::InitProtoReflectionServerBuilderPlugin;
  (void)keep_linked;
  const Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  if (descriptor == nullptr) {
    return absl::InternalError(absl::StrCat(type, " is not linked in (libgrpc++_reflection)"));
  }
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
}

// The sub-message `name` of `message`, or null if it is not set.
const Message* SubMessage(const Message& message, absl::string_view name) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(std::string(name));
  if (field == nullptr || !message.GetReflection()->HasField(message, field)) return nullptr;
  return &message.GetReflection()->GetMessage(message, field);
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

// Runs the asynchronous call one step at a time: each operation's tag comes
// back before the next starts, so any tag will do.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

}  // namespace

ReflectionClient::ReflectionClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : channel_(std::move(channel)), timeout_(timeout) {}

absl::StatusOr<std::unique_ptr<Message>> ReflectionClient::Exchange(absl::string_view field,
                                                                    const std::string& value) {
  absl::StatusOr<std::unique_ptr<Message>> request = NewMessage(kRequestType);
  if (!request.ok()) return request.status();
  const FieldDescriptor* fd = (*request)->GetDescriptor()->FindFieldByName(std::string(field));
  (*request)->GetReflection()->SetString(request->get(), fd, value);
  grpc::ByteBuffer send = ToByteBuffer((*request)->SerializeAsString());

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel_);
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, std::string(kMethod), &cq);
  call->StartCall(nullptr);
  bool ok = Await(cq);
  if (ok) {
    call->Write(send, nullptr);
    ok = Await(cq);
  }
  grpc::ByteBuffer received;
  if (ok) {
    call->WritesDone(nullptr);
    Await(cq);
    call->Read(&received, nullptr);
    ok = Await(cq);
  }
  grpc::Status status;
  call->Finish(&status, nullptr);
  Await(cq);
  cq.Shutdown();
  while (Await(cq)) {
  }
  if (!status.ok()) return FromGrpc(status);
  if (!ok) return absl::InternalError("server reflection closed the stream without a reply");

  absl::StatusOr<std::unique_ptr<Message>> response = NewMessage(kResponseType);
  if (!response.ok()) return response.status();
  if (!(*response)->ParseFromString(ToBytes(received))) {
    return absl::InternalError("server reflection reply did not decode");
  }
  if (const Message* error = SubMessage(**response, "error_response"); error != nullptr) {
    const Descriptor* d = error->GetDescriptor();
    int code = error->GetReflection()->GetInt32(*error, d->FindFieldByName("error_code"));
    std::string text =
        error->GetReflection()->GetString(*error, d->FindFieldByName("error_message"));
    return absl::Status(static_cast<absl::StatusCode>(code), text);
  }
  return response;
}

absl::StatusOr<std::vector<std::string>> ReflectionClient::ListServices() {
  absl::StatusOr<std::unique_ptr<Message>> response = Exchange("list_services", "*");
  if (!response.ok()) return response.status();
  const Message* list = SubMessage(**response, "list_services_response");
  if (list == nullptr) return absl::InternalError("server reflection sent no service list");
  std::vector<std::string> names;
  const FieldDescriptor* services = list->GetDescriptor()->FindFieldByName("service");
  for (int i = 0; i < list->GetReflection()->FieldSize(*list, services); ++i) {
    const Message& service = list->GetReflection()->GetRepeatedMessage(*list, services, i);
    names.push_back(service.GetReflection()->GetString(
        service, service.GetDescriptor()->FindFieldByName("name")));
  }
  return names;
}

absl::StatusOr<const google::protobuf::ServiceDescriptor*> ReflectionClient::FindService(
    absl::string_view name) {
  if (const auto* known = pool_.FindServiceByName(std::string(name)); known != nullptr) {
    return known;
  }
  absl::StatusOr<std::unique_ptr<Message>> response =
      Exchange("file_containing_symbol", std::string(name));
  if (!response.ok()) return response.status();
  const Message* files = SubMessage(**response, "file_descriptor_response");
  if (files == nullptr) return absl::InternalError("server reflection sent no descriptors");
  const FieldDescriptor* protos = files->GetDescriptor()->FindFieldByName("file_descriptor_proto");
  // The server sends the file and every file it imports.
  for (int i = 0; i < files->GetReflection()->FieldSize(*files, protos); ++i) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(files->GetReflection()->GetRepeatedString(*files, protos, i))) {
      return absl::InternalError("server reflection sent a file descriptor that did not decode");
    }
    if (files_.insert(file.name()).second) database_.Add(file);
  }
  const auto* service = pool_.FindServiceByName(std::string(name));
  if (service == nullptr) {
    return absl::NotFoundError(absl::StrCat("'", name, "' is not an interface of this server"));
  }
  return service;
}

}  // namespace korb::ctl
