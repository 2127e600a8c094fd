#include "client/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace korb {

Client::Client(ClientOptions options) : options_(std::move(options)) {}

Client::~Client() {
  korb::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &async_calls_in_flight_));
}

std::shared_ptr<grpc::Channel> Client::Channel(const HostPort& endpoint) {
  {
    korb::ReaderMutexLock lock(&mu_);
    auto it = channels_.find(endpoint);
    if (it != channels_.end()) return it->second;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options_.max_send_message_bytes);
  if (options_.private_connections) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      endpoint.ToString(), grpc::InsecureChannelCredentials(), args);
  korb::MutexLock lock(&mu_);
  // Another thread may have won the race; keep the first channel so every
  // stub to this endpoint shares one connection.
  auto [it, inserted] = channels_.emplace(endpoint, std::move(channel));
  return it->second;
}

void Client::BeginAsyncCall() {
  korb::MutexLock lock(&mu_);
  ++async_calls_in_flight_;
}

void Client::EndAsyncCall() {
  korb::MutexLock lock(&mu_);
  --async_calls_in_flight_;
}

}  // namespace korb
