// What a failed connection may mean for TLS. gRPC reports a handshake the
// client itself failed clearly ("Tls handshake failed: ... certificate
// verify failed"), but when the *server* drops the connection — a TLS server
// reached in plaintext, an mTLS server refusing the client's certificate —
// the client sees only "Socket closed". This adds what the reference's
// scheme says about the likely cause.
//
// Thread-safety: a pure function; thread-safe.
#ifndef KORB_CLIENT_INTERNAL_TLS_HINT_H_
#define KORB_CLIENT_INTERNAL_TLS_HINT_H_

#include "absl/status/status.h"
#include "common/ref.h"

namespace korb::internal {

// `error` (a failed attempt on `endpoint`), with a note on TLS if it is a
// connection the server closed before any call got through; else unchanged.
absl::Status ExplainConnectionFailure(absl::Status error, const HostPort& endpoint);

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_TLS_HINT_H_
