// korb::ctl::ReflectionClient: fetches protobuf descriptors from a server's
// gRPC server reflection (grpc.reflection.v1alpha.ServerReflection, which
// every ObjectServer offers unless ObjectServerOptions::reflection is off),
// so korbctl can call any interface without having been compiled with it.
//
// The reflection messages are the ones libgrpc++_reflection registers in
// protobuf's generated pool; they are used through protobuf reflection
// because Debian ships no headers for them.
//
// Thread-compatible.
//
// Usage:
//   korb::ctl::ReflectionClient reflection(grpc::CreateChannel(...), absl::Seconds(5));
//   ASSIGN_OR_RETURN(std::vector<std::string> services, reflection.ListServices());
//   ASSIGN_OR_RETURN(const google::protobuf::ServiceDescriptor* service,
//                    reflection.FindService("bank.Account"));
#ifndef KORB_TOOLS_KORBCTL_REFLECTION_CLIENT_H_
#define KORB_TOOLS_KORBCTL_REFLECTION_CLIENT_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>
#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace korb::ctl {

class ReflectionClient {
 public:
  // Each request gets `timeout`.
  ReflectionClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

  // The services the server lists (see ObjectServerOptions::reflection).
  absl::StatusOr<std::vector<std::string>> ListServices();
  // The service called `name` ("bank.Account"), fetched with the files it
  // needs. NOT_FOUND if the server does not know it; UNIMPLEMENTED if the
  // server offers no reflection. Descriptors live as long as this client.
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> FindService(absl::string_view name);

 private:
  // One request/response exchange on a fresh stream: `field` set to `value`
  // in a ServerReflectionRequest; returns the ServerReflectionResponse.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Exchange(absl::string_view field,
                                                                      const std::string& value);

  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration timeout_;
  google::protobuf::SimpleDescriptorDatabase database_;
  absl::flat_hash_set<std::string> files_;  // already in database_
  google::protobuf::DescriptorPool pool_{&database_};
};

}  // namespace korb::ctl

#endif  // KORB_TOOLS_KORBCTL_REFLECTION_CLIENT_H_
