// korb::ctl::DynamicInterface and CallJson: calling any operation of any
// interface from its descriptor, with the request and the reply as JSON.
// The call goes through Korb's client runtime (client/internal/invocation.h),
// so korb-object routing, replica selection, retries of readonly and
// idempotent operations, request ids and forwards work as for a generated
// stub.
//
// Thread-compatible.
//
// Usage:
//   ASSIGN_OR_RETURN(auto interface, DynamicInterface::Make(*service_descriptor));
//   korb::Client client;   // declared after `interface`: it may keep pointers to it
//   ASSIGN_OR_RETURN(std::string reply,
//                    CallJson(client, *interface, ref, "Deposit", R"({"cents": 100})", {}));
#ifndef KORB_TOOLS_KORBCTL_DYNAMIC_CALL_H_
#define KORB_TOOLS_KORBCTL_DYNAMIC_CALL_H_

#include <google/protobuf/descriptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/call_options.h"
#include "client/client.h"
#include "common/ref.h"
#include "skeletons/method_table.h"

namespace korb::ctl {

// The method table of an interface known only by its descriptor, with the
// IDL semantics read from its (korb.method) options.
class DynamicInterface {
 public:
  static std::unique_ptr<DynamicInterface> Make(const google::protobuf::ServiceDescriptor& service);

  const InterfaceInfo& info() const { return info_; }
  const google::protobuf::ServiceDescriptor& service() const { return service_; }

 private:
  explicit DynamicInterface(const google::protobuf::ServiceDescriptor& service);

  const google::protobuf::ServiceDescriptor& service_;
  std::string name_;
  std::vector<std::string> names_;  // the views in methods_ point here
  std::vector<std::string> paths_;
  std::vector<MethodInfo> methods_;
  InterfaceInfo info_;
};

// Calls operation `operation` of the object `ref` with the JSON request
// `request_json` ("" means {}), returning the reply as JSON. INVALID_ARGUMENT
// (with the operations there are) for an unknown operation, and for JSON that
// does not fit the request type. `interface` and the descriptors must outlive
// `client`.
absl::StatusOr<std::string> CallJson(Client& client, const DynamicInterface& interface,
                                     const Ref& ref, absl::string_view operation,
                                     absl::string_view request_json, const CallOptions& options);

}  // namespace korb::ctl

#endif  // KORB_TOOLS_KORBCTL_DYNAMIC_CALL_H_
