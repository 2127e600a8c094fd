// The naming service's input rules (idl/korb/naming.proto) as functions, and
// the one piece of logic every backend shares: turning a name's members into
// the single reference Resolve returns.
//
// Every check returns INVALID_ARGUMENT with korb-error bad-request and a
// message naming the offending part, so a client sees why its input was
// refused. The NamingContext servant runs them on every request; backends
// take their inputs as already checked.
//
// Thread-safety: pure functions; thread-safe.
//
// Usage:
//   RETURN_IF_ERROR(korb::naming::ValidateName(request.name()));
//   RETURN_IF_ERROR(korb::naming::ValidateRef(request.ref()));
//   ASSIGN_OR_RETURN(korb::naming::ResolveReply reply, korb::naming::MergeMembers(binding));
#ifndef KORB_SERVANTS_NAMING_NAMES_H_
#define KORB_SERVANTS_NAMING_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/ref.h"
#include "korb/naming.pb.h"

namespace korb::naming {

// Limits of naming.proto.
inline constexpr size_t kMaxMemberIdBytes = 128;
inline constexpr int kMaxTtlSeconds = 3600;
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
inline constexpr int kDefaultWaitMs = 30000;
inline constexpr int kMaxWaitMs = 60000;
// Limits of this implementation: a bound reference in wire form, and its
// endpoints (a reference is stored once per member, so these bound the
// memory a member costs).
inline constexpr size_t kMaxRefBytes = 2048;
inline constexpr size_t kMaxRefEndpoints = 32;

// A name, by korb::ValidateName's rules (common/ref.h: 1 to kMaxNameBytes
// bytes of '/'-separated components, each 1 to kMaxNameComponentBytes of
// RFC 3986 unreserved characters and neither "." nor ".."), as bad-request.
absl::Status ValidateName(absl::string_view name);
// A whole-component prefix: "" or a valid name.
absl::Status ValidatePrefix(absl::string_view prefix);
// A member id of a Join/Leave: 1 to 128 bytes of printable ASCII (0x21-0x7E).
absl::Status ValidateMemberId(absl::string_view member_id);
// A reference to bind: valid and direct (common/ref.h), at most kMaxRefEndpoints
// endpoints and kMaxRefBytes bytes in wire form.
absl::Status ValidateRef(const korb::ObjectRef& ref);
// A lease TTL of a request: 0 (the server's default) or 1 to 3600.
absl::Status ValidateTtl(int32_t ttl_seconds);

// True if `name` is under whole-component `prefix` ("" matches everything).
bool NameHasPrefix(absl::string_view name, absl::string_view prefix);

// The Resolve reply for a binding with at least one member: the first
// member's adapter, id and type with the union of all members' endpoints in
// member order (duplicates once). NOT_FOUND (name-not-bound) if it has none.
absl::StatusOr<ResolveReply> MergeMembers(const Binding& binding);

// OK if a member with `ref` may join a name whose members are `current`
// (possibly none): INVALID_ARGUMENT if the name is bound permanently (a
// member with id "") or its members' adapter, id or type differ from `ref`'s.
absl::Status CheckJoinFits(const Binding& current, const korb::ObjectRef& ref);

// Errors with their korb-error kind attached.
absl::Status NameNotBound(absl::string_view name);
absl::Status BadRequest(absl::string_view message);
absl::Status Unavailable(absl::string_view message);

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_NAMES_H_
