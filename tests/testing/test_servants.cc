#include "tests/testing/test_servants.h"

#include <grpcpp/support/byte_buffer.h>

#include "common/wire.h"

namespace korb::testing {

RawReply RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                 const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& metadata) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  korb::Notification done;
  RawReply reply;
  stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) {
                   reply.status = std::move(status);
                   done.Notify();
                 });
  done.WaitForNotification();
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(std::string(kErrorHeader));
  if (it != trailers.end()) reply.korb_error.assign(it->second.data(), it->second.size());
  for (const auto& [key, value] : trailers) {
    reply.trailers[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
  }
  if (reply.status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    for (const grpc::Slice& s : slices) {
      reply.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return reply;
}

}  // namespace korb::testing
