#include "adapter/access_control.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/wire.h"

namespace korb::internal {
namespace {

constexpr absl::string_view kAnyone = "*";

// The operation name of "/pkg.Service/Method" ("Method"), or "".
absl::string_view MethodName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view() : path.substr(slash + 1);
}

// Who the caller is, for a denial's message: its principals (a bounded,
// escaped few) or its address. Principals are names, never credentials.
std::string Describe(const PeerIdentity& peer, const std::vector<std::string>& principals) {
  if (principals.empty()) {
    return absl::StrCat("caller without identity (", absl::CHexEscape(peer.address.substr(0, 128)),
                        peer.tls ? ", TLS without a client certificate" : ", no TLS", ")");
  }
  constexpr size_t kShown = 4;
  std::vector<std::string> shown;
  for (size_t i = 0; i < principals.size() && i < kShown; ++i) {
    shown.push_back(absl::CHexEscape(principals[i].substr(0, 128)));
  }
  return absl::StrCat("caller ", absl::StrJoin(shown, ", "),
                      principals.size() > kShown ? ", ..." : "");
}

absl::Status Denied(std::string message) {
  return WithErrorKind(absl::PermissionDeniedError(std::move(message)),
                       ErrorKind::kPermissionDenied);
}

absl::Status CheckPrincipals(absl::string_view list, const std::vector<std::string>& principals) {
  for (const std::string& principal : principals) {
    if (principal.empty() || principal.size() > kMaxPrincipalBytes) {
      return absl::InvalidArgumentError(absl::StrCat("AccessPolicy.", list, ": a principal is ",
                                                     principal.empty() ? "empty" : "too long",
                                                     " (1 to ", kMaxPrincipalBytes, " bytes)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<const AccessControl>> AccessControl::Create(AccessPolicy policy) {
  size_t total = policy.callers.size() + policy.readonly_callers.size() +
                 policy.priority_callers.size();
  for (const auto& [operation, principals] : policy.operations) {
    if (operation.empty() || operation.size() > kMaxPrincipalBytes) {
      return absl::InvalidArgumentError(
          "AccessPolicy.operations: an operation key is empty or too long");
    }
    if (absl::Status ok = CheckPrincipals("operations", principals); !ok.ok()) return ok;
    total += principals.size();
  }
  if (total > kMaxPolicyPrincipals) {
    return absl::InvalidArgumentError(absl::StrCat("AccessPolicy names ", total,
                                                   " principals; at most ",
                                                   kMaxPolicyPrincipals, " are allowed"));
  }
  for (const auto& [list, principals] :
       {std::pair{"callers", &policy.callers},
        std::pair{"readonly_callers", &policy.readonly_callers},
        std::pair{"priority_callers", &policy.priority_callers}}) {
    if (absl::Status ok = CheckPrincipals(list, *principals); !ok.ok()) return ok;
  }
  return std::unique_ptr<const AccessControl>(new AccessControl(std::move(policy)));
}

AccessControl::AccessControl(AccessPolicy policy)
    : policy_(std::move(policy)),
      callers_(policy_.callers.begin(), policy_.callers.end()),
      readonly_callers_(policy_.readonly_callers.begin(), policy_.readonly_callers.end()),
      priority_callers_(policy_.priority_callers.begin(), policy_.priority_callers.end()),
      restricts_callers_(!policy_.callers.empty() || !policy_.readonly_callers.empty() ||
                         !policy_.operations.empty()) {
  for (const auto& [operation, principals] : policy_.operations) {
    operations_.emplace(operation, Principals(principals.begin(), principals.end()));
  }
  for (const InterfaceInfo* interface : policy_.interfaces) {
    if (interface == nullptr) continue;
    for (const MethodInfo& method : interface->methods) methods_.emplace(method.path, &method);
  }
}

bool AccessControl::Matches(const Principals& allowed, const std::vector<std::string>& principals) {
  if (allowed.contains(kAnyone)) return true;
  for (const std::string& principal : principals) {
    if (allowed.contains(principal)) return true;
  }
  return false;
}

const MethodInfo* AccessControl::FindMethod(absl::string_view method_path) const {
  auto it = methods_.find(method_path);
  return it == methods_.end() ? nullptr : it->second;
}

absl::Status AccessControl::Check(absl::string_view adapter, const PeerIdentity& peer,
                                  MetadataLookup metadata, absl::string_view method_path,
                                  std::optional<int32_t> asked_priority,
                                  absl::FunctionRef<const MethodInfo*()> find_method) const {
  std::vector<std::string> principals = peer.Principals();
  if (policy_.authenticator != nullptr) {
    absl::StatusOr<std::vector<std::string>> proven =
        policy_.authenticator->Authenticate(peer, metadata);
    if (!proven.ok()) {
      // The application's message, refined so clients can tell a refusal.
      return WithErrorKind(proven.status(), ErrorKind::kPermissionDenied);
    }
    for (std::string& principal : *proven) principals.push_back(std::move(principal));
  }
  // The operation's semantics, looked up once and only when needed.
  const MethodInfo* method = nullptr;
  bool looked_up = false;
  auto semantics = [&]() -> const MethodInfo* {
    if (!looked_up) {
      method = find_method();
      looked_up = true;
    }
    return method;
  };
  const std::string where = absl::StrCat(method_path, " of adapter '", adapter, "'");

  auto rule = operations_.find(method_path);
  if (rule == operations_.end()) rule = operations_.find(MethodName(method_path));
  if (rule != operations_.end()) {
    if (!Matches(rule->second, principals)) {
      return Denied(absl::StrCat(Describe(peer, principals), " may not call ", where,
                                 " (its access rule does not name the caller)"));
    }
  } else if (restricts_callers_ && !Matches(callers_, principals)) {
    if (!Matches(readonly_callers_, principals)) {
      return Denied(absl::StrCat(Describe(peer, principals), " may not call ", where));
    }
    if (semantics() == nullptr || !semantics()->semantics.readonly) {
      return Denied(absl::StrCat(Describe(peer, principals), " may call only readonly operations; ",
                                 where, " is not ",
                                 semantics() == nullptr ? "known to be " : "", "readonly"));
    }
  }

  if (asked_priority.has_value() && !Matches(priority_callers_, principals)) {
    const int32_t default_priority = semantics() == nullptr ? 0 : semantics()->semantics.priority;
    if (*asked_priority > default_priority) {
      return Denied(absl::StrCat(Describe(peer, principals), " may not raise korb-priority to ",
                                 *asked_priority, " for ", where, " (its default is ",
                                 default_priority, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace korb::internal
