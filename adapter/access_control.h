// Access control of an object adapter: who may call its operations, who may
// call only its `readonly` ones, and who may raise korb-priority above an
// operation's default (docs/security.md).
//
//   AccessPolicy   the rules, per adapter (AdapterOptions::access,
//                  ObjectAdapter::SetAccessPolicy), per operation if needed
//   Authenticator  an application's check of credentials in request metadata
//                  (e.g. a bearer token), turning them into principals
//
// A caller's principals are the names its verified mTLS certificate states
// (PeerIdentity::Principals(): "cn:alice", "dns:alice.example",
// "uri:spiffe://korb/alice", "email:...", "ip:...") and those its
// Authenticator returns (the application's own names; prefix them, e.g.
// "user:alice", so they cannot be confused with certificate names). A rule
// lists principals; "*" matches every caller, including one without any
// principal.
//
// The pipeline checks each call once, in the Admit stage, before the reply
// cache or the servant: a denied call is answered PERMISSION_DENIED (or the
// Authenticator's error) with korb-error "permission-denied"; its servant
// never runs and nothing is cached. An adapter without rules (the default)
// lets every call in.
//
// Thread-safety: AccessPolicy is a thread-compatible value; an Authenticator
// must be thread-safe; AccessControl is immutable and thread-safe.
//
// Usage:
//   korb::AccessPolicy policy;
//   policy.callers = {"cn:teller"};                 // every operation
//   policy.readonly_callers = {"cn:auditor"};       // GetBalance only
//   policy.operations["Close"] = {"cn:manager"};    // Close: only the manager
//   policy.priority_callers = {"cn:teller"};
//   RETURN_IF_ERROR(adapter->SetAccessPolicy(policy));
#ifndef KORB_ADAPTER_ACCESS_CONTROL_H_
#define KORB_ADAPTER_ACCESS_CONTROL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "skeletons/method_table.h"
#include "skeletons/peer_identity.h"

namespace korb {

// Request metadata of the call being checked: the value of `key` (lower
// case), if present.
using MetadataLookup = absl::FunctionRef<std::optional<absl::string_view>(absl::string_view key)>;

// An application's authentication of callers by what they send in request
// metadata (tokens, API keys). Runs on the transport's thread for every call
// to an adapter whose policy names it, concurrently for concurrent calls, so
// it must be thread-safe and should not block (verify a signature, look up a
// cache; do not call out over the network on every call).
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The principals the call's credentials prove (e.g. {"user:alice"}); none
  // if it carries no credentials. An error rejects the call with that status
  // (use UNAUTHENTICATED for bad credentials). `peer` is its transport
  // identity, whose principals count anyway.
  virtual absl::StatusOr<std::vector<std::string>> Authenticate(const PeerIdentity& peer,
                                                                MetadataLookup metadata) const = 0;
};

// With none of callers, readonly_callers, operations set, anyone may call;
// with any of them set, only the callers they name. Raising korb-priority
// needs priority_callers as soon as the policy has any rule.
struct AccessPolicy {
  // Principals that may call every operation of the adapter.
  std::vector<std::string> callers{};
  // Principals that may call only operations declared
  // `(korb.method).readonly = true`.
  std::vector<std::string> readonly_callers{};
  // Per operation, by method name ("Deposit") or full path
  // ("/bank.Account/Deposit", which wins): who may call it, in place of
  // `callers` and `readonly_callers` (an empty list: nobody).
  absl::flat_hash_map<std::string, std::vector<std::string>> operations{};
  // Principals that may send korb-priority above the operation's default
  // (its IDL priority); others asking for more are denied. Lower or equal
  // priorities are anyone's. Empty: nobody may raise it ({"*"}: anyone).
  std::vector<std::string> priority_callers{};
  // Optional: principals from request metadata.
  std::shared_ptr<const Authenticator> authenticator{};
  // Interfaces whose operations' semantics (readonly, default priority) the
  // rules may need before any of their objects is active here (objects an
  // activator or locator has not served yet). Those of active objects and
  // default servants are known without this.
  std::vector<const InterfaceInfo*> interfaces{};

  // Whether the policy has any rule; one without lets every call in.
  bool empty() const {
    return callers.empty() && readonly_callers.empty() && operations.empty() &&
           priority_callers.empty() && authenticator == nullptr;
  }
};

// Bounds of a policy (INVALID_ARGUMENT beyond them): principals are 1 to
// kMaxPrincipalBytes bytes, at most kMaxPolicyPrincipals in all the lists.
inline constexpr size_t kMaxPrincipalBytes = 1024;
inline constexpr size_t kMaxPolicyPrincipals = 100000;

namespace internal {

// A policy compiled for checking calls. Immutable; thread-safe.
class AccessControl {
 public:
  // INVALID_ARGUMENT for an empty or oversized principal or operation key.
  static absl::StatusOr<std::unique_ptr<const AccessControl>> Create(AccessPolicy policy);

  // OK if the call may proceed. `adapter` names the adapter in messages;
  // `find_method` gives the operation's semantics, or null if unknown, and
  // is called only when the decision depends on them.
  absl::Status Check(absl::string_view adapter, const PeerIdentity& peer, MetadataLookup metadata,
                     absl::string_view method_path, std::optional<int32_t> asked_priority,
                     absl::FunctionRef<const MethodInfo*()> find_method) const;

  // The semantics of `method_path` from the policy's `interfaces`, or null.
  const MethodInfo* FindMethod(absl::string_view method_path) const;

 private:
  using Principals = absl::flat_hash_set<std::string>;
  explicit AccessControl(AccessPolicy policy);

  // Whether any of `principals` (or "*") is in `allowed`.
  static bool Matches(const Principals& allowed, const std::vector<std::string>& principals);

  const AccessPolicy policy_;
  Principals callers_;
  Principals readonly_callers_;
  Principals priority_callers_;
  // Some of callers, readonly_callers, operations is set: callers not named
  // there are denied. Else anyone may call (and only priority is checked).
  const bool restricts_callers_;
  absl::flat_hash_map<std::string, Principals> operations_;
  absl::flat_hash_map<std::string, const MethodInfo*> methods_;  // by path
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_ACCESS_CONTROL_H_
