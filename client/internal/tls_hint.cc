#include "client/internal/tls_hint.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/retry.h"

namespace korb::internal {

absl::Status ExplainConnectionFailure(absl::Status error, const HostPort& endpoint) {
  // Only connections that never carried a call: a server that dies later
  // closes sockets too, and says nothing about TLS.
  if (error.code() != absl::StatusCode::kUnavailable ||
      !absl::StrContains(error.message(), "failed to connect") ||
      !absl::StrContains(error.message(), "Socket closed")) {
    return error;
  }
  if (endpoint.tls) {
    return Annotate(error, absl::StrCat(
        "TLS to ", endpoint.ToString(), ": the server closed the connection during the handshake; "
        "an mTLS server does this when it refuses the client certificate "
        "(ClientOptions::tls.certificate_chain_file missing, or not signed by a CA the server "
        "trusts)"));
  }
  return Annotate(error, absl::StrCat(
      "plaintext to ", endpoint.ToString(), " (a korb:// reference): the server closed the "
      "connection; a server that requires TLS does this: call it with its korbs:// reference"));
}

}  // namespace korb::internal
