// Checks of the PEM files that TLS options name (ObjectServerOptions::tls,
// ClientOptions::tls), made once when a server starts or a client first
// needs TLS: gRPC's certificate provider only logs a file it cannot read and
// fails every handshake afterwards, which is a poor first error.
//
// Thread-safety: pure functions; thread-safe.
//
// Usage:
//   RETURN_IF_ERROR(korb::CheckPemFile("ObjectServerOptions.tls.certificate_chain_file",
//                                      options.tls.certificate_chain_file));
#ifndef KORB_COMMON_TLS_FILES_H_
#define KORB_COMMON_TLS_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace korb {

// OK if `path` names a readable file holding at least one PEM block
// ("-----BEGIN ..."); INVALID_ARGUMENT naming `option` and the path otherwise.
absl::Status CheckPemFile(absl::string_view option, const std::string& path);

// A refresh interval as the whole seconds gRPC's file watcher takes: at
// least 1, at most a day.
unsigned int RefreshSeconds(absl::Duration interval);

}  // namespace korb

#endif  // KORB_COMMON_TLS_FILES_H_
