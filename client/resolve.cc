#include "client/resolve.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/internal/name_resolver.h"
#include "client/internal/target.h"
#include "skeletons/method_table.h"

namespace korb {
namespace {

// No interface: resolving is not calling (see internal::Bind).
constexpr InterfaceInfo kAnyInterface{"", {}};

}  // namespace

absl::StatusOr<Ref> Resolve(Client& client, const Ref& ref, const CallOptions& options) {
  if (absl::Status valid = ref.Validate(); !valid.ok()) return valid;
  if (!ref.is_indirect()) return ref;
  absl::Time deadline = absl::InfiniteFuture();
  if (options.deadline.has_value()) {
    deadline = *options.deadline;
  } else {
    const absl::Duration timeout = options.timeout.value_or(client.options().default_timeout);
    if (timeout != absl::InfiniteDuration()) deadline = absl::Now() + timeout;
  }
  std::shared_ptr<const internal::Binding> indirect = internal::Bind(client, ref, kAnyInterface);
  if (!indirect->status.ok()) return indirect->status;
  absl::StatusOr<std::shared_ptr<const internal::Binding>> resolved =
      client.names().LookupBlocking(*indirect, deadline);
  if (!resolved.ok()) return resolved.status();
  const Ref& direct = (*resolved)->ref;
  if (!ref.type().empty() && !direct.type().empty() && direct.type() != ref.type()) {
    return absl::InvalidArgumentError(absl::StrCat(ref.ToString(), " resolves to ", direct.ToString(),
                                                   ", an object of interface ", direct.type(),
                                                   ", not ", ref.type()));
  }
  return direct;
}

}  // namespace korb
