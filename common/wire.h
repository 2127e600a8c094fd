// The wire contract shared by Korb's servers and clients: metadata keys and the
// `korb-error` values that refine gRPC status codes (see ../shared design brief,
// "Wire contract", and docs/wire.md).
//
// Thread-safety: constants and pure functions only; thread-safe.
//
// Usage:
//   absl::Status s = stub.Deposit(amount).status();
//   if (korb::ErrorKindOf(s) == korb::ErrorKind::kObjectNotExist) { ... }
#ifndef KORB_COMMON_WIRE_H_
#define KORB_COMMON_WIRE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace korb {

// Request metadata naming the target object: "<adapter>/<object-id>", both
// percent-encoded (EncodeObjectKey). Absent: the interface's default object.
inline constexpr absl::string_view kObjectKeyHeader = "korb-object";
// Request metadata: integer scheduling priority, higher runs first.
inline constexpr absl::string_view kPriorityHeader = "korb-priority";
// Request metadata: unique id of a logical request, for at-most-once execution
// of retried non-idempotent calls.
inline constexpr absl::string_view kRequestIdHeader = "korb-request-id";
// Trailing metadata refining an error status; value is an ErrorKind name.
inline constexpr absl::string_view kErrorHeader = "korb-error";
// Trailing metadata carrying the stringified new reference of a moved object.
inline constexpr absl::string_view kForwardHeader = "korb-forward";

// What a Korb error means beyond its gRPC status code.
enum class ErrorKind {
  kNone,            // Not a Korb-refined error (or OK).
  kObjectNotExist,  // "object-not-exist": no such object (NOT_FOUND).
  kNoSuchMethod,    // "no-such-method": the object lacks the operation (UNIMPLEMENTED).
  kBadRequest,      // "bad-request": the payload did not decode (INVALID_ARGUMENT).
  kTransient,       // "transient": retry elsewhere or later (UNAVAILABLE, RESOURCE_EXHAUSTED).
  kForward,         // "forward": the object moved; see kForwardHeader.
  kNameNotBound,    // "name-not-bound": the naming service has no binding (NOT_FOUND).
  kPermissionDenied,  // "permission-denied": access control refused the caller
                      // (PERMISSION_DENIED, or UNAUTHENTICATED from an Authenticator).
};

// The wire name of `kind` ("object-not-exist", ...); empty for kNone.
absl::string_view ErrorKindName(ErrorKind kind);
// Inverse of ErrorKindName; kNone for unknown names.
ErrorKind ParseErrorKind(absl::string_view name);

// Client side: Korb attaches the server's `korb-error` to the absl::Status it
// returns as a payload under this type URL.
inline constexpr absl::string_view kErrorPayloadUrl = "type.korb/korb-error";
// Returns the Korb error kind carried by `status` (kNone if there is none).
ErrorKind ErrorKindOf(const absl::Status& status);
// Returns `status` with `kind` attached (used by the runtime); kNone removes
// any attached kind. An OK status is returned unchanged: it carries no payload.
absl::Status WithErrorKind(absl::Status status, ErrorKind kind);

// Percent-encodes `adapter` and `id` and joins them as "<adapter>/<id>".
std::string EncodeObjectKey(absl::string_view adapter, absl::string_view id);
// Splits and decodes a `korb-object` value into *adapter and *id (both
// non-null). Returns false, leaving both untouched, if the key is malformed:
// no '/', an empty part, an unencoded '/' in the id, or a bad escape or raw
// byte (see PercentDecode).
bool DecodeObjectKey(absl::string_view key, std::string* adapter, std::string* id);


// --- Client transparency (issue #5): load reports, forwards, request ids. ---

// Trailing metadata on every reply (success or error) of a Korb server: the
// replying adapter's current load (calls in flight plus held) as a
// non-negative decimal number, e.g. "3" or "2.5".
inline constexpr absl::string_view kLoadTrailer = "korb-load";
// Largest korb-request-id value, in bytes.
inline constexpr size_t kMaxRequestIdBytes = 64;

// The load a korb-load value states, or nullopt when it is not a finite,
// non-negative number (clients ignore such values). Servers should send plain
// decimals; exponent forms ("1e+06") are accepted too.
std::optional<double> ParseLoad(absl::string_view value);
// True if `id` is a valid korb-request-id: 1 to kMaxRequestIdBytes bytes of
// printable ASCII (0x21-0x7E).
bool IsValidRequestId(absl::string_view id);

// --- Hostile input in messages (issue #11). ---

// Longest piece of client input an error message repeats, in bytes.
inline constexpr size_t kMaxEchoedBytes = 256;
// `client_input` as an error message may repeat it: C-escaped, cut to at
// most kMaxEchoedBytes bytes of output, with its full size when cut
// ("abc...(7000 bytes)"). A hostile value never grows a reply.
std::string Echo(absl::string_view client_input);

}  // namespace korb

#endif  // KORB_COMMON_WIRE_H_
