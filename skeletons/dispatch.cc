#include "skeletons/dispatch.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/wire.h"

namespace korb {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

namespace internal {

grpc::Status BadRequest(CallContext& context, absl::string_view message_type) {
  if (context.hooks_ != nullptr) context.hooks_->RequestUndecodable();
  context.AddTrailingMetadata(kErrorHeader, ErrorKindName(ErrorKind::kBadRequest));
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("request payload for ", context.method().path,
                                   " does not decode as ", message_type));
}

grpc::Status ServantFailed(CallContext& context, const absl::Status& status) {
  ErrorKind kind = ErrorKindOf(status);
  if (kind != ErrorKind::kNone) context.AddTrailingMetadata(kErrorHeader, ErrorKindName(kind));
  return ToGrpcStatus(status);
}

grpc::Status ServantThrew(CallContext& context, const char* what) {
  // A throwing servant is a bug in user code worth a log line; the caller
  // gets INTERNAL and the server keeps serving.
  KORB_LOG(kError, "dispatch") << "servant for " << context.method().path << " (object '"
                               << absl::CHexEscape(context.object_id()) << "') threw: " << what;
  return grpc::Status(grpc::StatusCode::INTERNAL,
                      absl::StrCat("servant threw an exception: ", what));
}

grpc::Status UnknownMethodIndex(int index) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat("no operation with index ", index));
}

}  // namespace internal
}  // namespace korb
