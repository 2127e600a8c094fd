#include "servants/naming/names.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ref.h"
#include "common/wire.h"

namespace korb::naming {
namespace {

// Names appear in error messages: a bounded, escaped prefix of hostile
// input, as everywhere in Korb (korb::Echo).
std::string Quote(absl::string_view s) { return absl::StrCat("\"", Echo(s), "\""); }

}  // namespace

absl::Status NameNotBound(absl::string_view name) {
  return WithErrorKind(absl::NotFoundError(absl::StrCat("name ", Quote(name), " is not bound")),
                       ErrorKind::kNameNotBound);
}

absl::Status BadRequest(absl::string_view message) {
  return WithErrorKind(absl::InvalidArgumentError(message), ErrorKind::kBadRequest);
}

absl::Status Unavailable(absl::string_view message) {
  return WithErrorKind(absl::UnavailableError(message), ErrorKind::kTransient);
}

absl::Status ValidateName(absl::string_view name) {
  // One set of rules for names, shared with korbname:// references.
  absl::Status status = korb::ValidateName(name);
  if (status.ok()) return status;
  return BadRequest(status.message());
}

absl::Status ValidatePrefix(absl::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  absl::Status status = ValidateName(prefix);
  if (status.ok()) return status;
  return BadRequest(absl::StrCat("prefix: ", status.message()));
}

absl::Status ValidateMemberId(absl::string_view member_id) {
  if (member_id.empty()) return BadRequest("member_id is empty");
  if (member_id.size() > kMaxMemberIdBytes) {
    return BadRequest(absl::StrCat("member_id is ", member_id.size(), " bytes long; at most ",
                                   kMaxMemberIdBytes, " are allowed"));
  }
  for (char c : member_id) {
    if (c < 0x21 || c > 0x7E) {
      return BadRequest(absl::StrCat("member_id ", Quote(member_id),
                                     " has a byte outside printable ASCII (0x21-0x7E)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRef(const korb::ObjectRef& ref) {
  const size_t bytes = ref.ByteSizeLong();
  if (bytes > kMaxRefBytes) {
    return BadRequest(absl::StrCat("reference is ", bytes, " bytes in wire form; at most ",
                                   kMaxRefBytes, " are allowed"));
  }
  absl::StatusOr<Ref> parsed = Ref::FromProto(ref);
  if (!parsed.ok()) return BadRequest(absl::StrCat("reference: ", parsed.status().message()));
  if (parsed->is_indirect()) {
    // Names resolve in one step: a name bound to a name would send clients
    // on a second lookup (or round a cycle).
    return BadRequest(absl::StrCat("reference ", parsed->ToString().substr(0, 256),
                                   " names an object by name; bind a korb:// reference"));
  }
  if (parsed->endpoints().size() > kMaxRefEndpoints) {
    return BadRequest(absl::StrCat("reference has ", parsed->endpoints().size(),
                                   " endpoints; at most ", kMaxRefEndpoints, " are allowed"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTtl(int32_t ttl_seconds) {
  if (ttl_seconds < 0 || ttl_seconds > kMaxTtlSeconds) {
    return BadRequest(absl::StrCat("ttl_seconds is ", ttl_seconds, "; 0 (the default) or 1 to ",
                                   kMaxTtlSeconds, " are allowed"));
  }
  return absl::OkStatus();
}

bool NameHasPrefix(absl::string_view name, absl::string_view prefix) {
  if (prefix.empty()) return true;
  if (!absl::StartsWith(name, prefix)) return false;
  return name.size() == prefix.size() || name[prefix.size()] == '/';
}

absl::Status CheckJoinFits(const Binding& current, const korb::ObjectRef& ref) {
  for (const Member& member : current.members()) {
    if (member.member_id().empty()) {
      return BadRequest(absl::StrCat("name ", Quote(current.name()),
                                     " is bound permanently (Bind/Rebind); Unbind it first"));
    }
    const korb::ObjectRef& other = member.ref();
    if (other.adapter() != ref.adapter() || other.id() != ref.id() || other.type() != ref.type()) {
      return BadRequest(absl::StrCat(
          "name ", Quote(current.name()), " is a replica group of object ",
          Quote(other.adapter()), "/", Quote(other.id()), " of type \"", other.type(),
          "\"; a member must name the same adapter, id and type"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolveReply> MergeMembers(const Binding& binding) {
  if (binding.members().empty()) return NameNotBound(binding.name());
  ResolveReply reply;
  reply.set_revision(binding.revision());
  *reply.mutable_members() = binding.members();
  const korb::ObjectRef& first = binding.members(0).ref();
  korb::ObjectRef* merged = reply.mutable_ref();
  merged->set_type(first.type());
  merged->set_adapter(first.adapter());
  merged->set_id(first.id());
  absl::flat_hash_set<std::pair<std::string, uint32_t>> seen;
  for (const Member& member : binding.members()) {
    for (const korb::Endpoint& endpoint : member.ref().endpoints()) {
      if (seen.insert({endpoint.host(), endpoint.port()}).second) {
        *merged->add_endpoints() = endpoint;
      }
    }
  }
  return reply;
}

}  // namespace korb::naming
