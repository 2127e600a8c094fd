// korb::Resolve: what an indirect reference (korbname://) names now, as a
// call through it would find out: from the Client's cache of resolutions
// while that is fresh, else by asking the naming service (docs/naming.md,
// "Indirect references (client side)"). For tools, logs, and code that
// hands direct references on; stubs do this by themselves on every call.
//
// Thread-safety: thread-safe (as Client).
//
// Usage:
//   ASSIGN_OR_RETURN(korb::Ref bank, korb::Resolve(client, *korb::Ref::Parse(
//                        "korbname://127.0.0.1:2809/bank?type=bank.Bank")));
//   std::cout << bank << "\n";   // korb://10.0.0.7:7000/bank/main?type=bank.Bank
#ifndef KORB_CLIENT_RESOLVE_H_
#define KORB_CLIENT_RESOLVE_H_

#include "absl/status/statusor.h"
#include "client/call_options.h"
#include "client/client.h"
#include "common/ref.h"

namespace korb {

// The direct reference `ref` resolves to; `ref` itself if it is direct.
// INVALID_ARGUMENT for an invalid reference, or a resolution of another
// type than `ref` states; NOT_FOUND (korb-error name-not-bound) for a name
// that is not bound; the naming service's failure if it cannot answer and
// nothing is cached. Bounded by options.deadline / options.timeout (else
// ClientOptions::default_timeout) and ClientOptions::naming_timeout; the
// other CallOptions are not used.
absl::StatusOr<Ref> Resolve(Client& client, const Ref& ref, const CallOptions& options = {});

}  // namespace korb

#endif  // KORB_CLIENT_RESOLVE_H_
