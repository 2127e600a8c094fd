#include "servants/naming/naming_servant.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/wire.h"
#include "servants/naming/names.h"

namespace korb::naming {
namespace {

// The skeleton passes a servant's status code and message to the caller but
// not the korb-error kind attached to it (skeletons/dispatch.h), so the
// servant sends that trailer itself: clients tell name-not-bound from
// object-not-exist by it.
template <typename T>
absl::StatusOr<T> Tagged(korb::CallContext& context, absl::StatusOr<T> result) {
  if (!result.ok()) {
    const ErrorKind kind = ErrorKindOf(result.status());
    if (kind != ErrorKind::kNone) {
      context.AddTrailingMetadata(kErrorHeader, ErrorKindName(kind));
    }
  }
  return result;
}

absl::StatusOr<korb::Empty> Finish(const absl::Status& status) {
  if (!status.ok()) return status;
  return korb::Empty();
}

absl::Status ValidateLeaseId(int64_t lease) {
  if (lease <= 0) return BadRequest(absl::StrCat("lease id ", lease, " is not positive"));
  return absl::OkStatus();
}

}  // namespace

NamingContextImpl::NamingContextImpl(std::shared_ptr<NamingBackend> backend)
    : backend_(std::move(backend)) {}

absl::StatusOr<korb::Empty> NamingContextImpl::Bind(korb::CallContext& context,
                                                    const BindRequest& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    RETURN_IF_ERROR(ValidateRef(request.ref()));
    return Finish(backend_->Bind(request.name(), request.ref()));
  }());
}

absl::StatusOr<korb::Empty> NamingContextImpl::Rebind(korb::CallContext& context,
                                                      const BindRequest& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    RETURN_IF_ERROR(ValidateRef(request.ref()));
    return Finish(backend_->Rebind(request.name(), request.ref()));
  }());
}

absl::StatusOr<korb::Empty> NamingContextImpl::Unbind(korb::CallContext& context,
                                                      const NameRequest& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    return Finish(backend_->Unbind(request.name()));
  }());
}

absl::StatusOr<ResolveReply> NamingContextImpl::Resolve(korb::CallContext& context,
                                                        const NameRequest& request) {
  return Tagged<ResolveReply>(context, [&]() -> absl::StatusOr<ResolveReply> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    ASSIGN_OR_RETURN(Binding binding, backend_->Get(request.name()));
    return MergeMembers(binding);
  }());
}

absl::StatusOr<ListReply> NamingContextImpl::List(korb::CallContext& context,
                                                  const ListRequest& request) {
  return Tagged<ListReply>(context, [&]() -> absl::StatusOr<ListReply> {
    RETURN_IF_ERROR(ValidatePrefix(request.prefix()));
    if (request.page_size() < 0) {
      return BadRequest(absl::StrCat("page_size ", request.page_size(), " is negative"));
    }
    if (!request.page_token().empty()) {
      absl::Status token = ValidateName(request.page_token());
      if (!token.ok()) return BadRequest("page_token is not one this service returned");
    }
    const int page_size = request.page_size() == 0 ? kDefaultPageSize
                                                   : std::min(request.page_size(), kMaxPageSize);
    return backend_->List(request.prefix(), page_size, request.page_token());
  }());
}

absl::StatusOr<WaitReply> NamingContextImpl::WaitForChanges(korb::CallContext& context,
                                                            const WaitRequest& request) {
  return Tagged<WaitReply>(context, [&]() -> absl::StatusOr<WaitReply> {
    RETURN_IF_ERROR(ValidatePrefix(request.prefix()));
    if (request.after_revision() < 0) {
      return BadRequest(absl::StrCat("after_revision ", request.after_revision(), " is negative"));
    }
    if (request.timeout_ms() < 0) {
      return BadRequest(absl::StrCat("timeout_ms ", request.timeout_ms(), " is negative"));
    }
    const int timeout_ms =
        request.timeout_ms() == 0 ? kDefaultWaitMs : std::min(request.timeout_ms(), kMaxWaitMs);
    WaitParams params;
    params.prefix = request.prefix();
    params.after_revision = request.after_revision();
    // Return an empty reply a little before the caller's deadline, so that it
    // gets the revision to continue from rather than DEADLINE_EXCEEDED.
    params.deadline = std::min(absl::Now() + absl::Milliseconds(timeout_ms),
                               context.deadline() - absl::Milliseconds(100));
    params.cancelled = [&context] { return context.IsCancelled(); };
    return backend_->WaitForChanges(params);
  }());
}

absl::StatusOr<Lease> NamingContextImpl::GrantLease(korb::CallContext& context,
                                                    const LeaseRequest& request) {
  return Tagged<Lease>(context, [&]() -> absl::StatusOr<Lease> {
    RETURN_IF_ERROR(ValidateTtl(request.ttl_seconds()));
    return backend_->GrantLease(request.ttl_seconds());
  }());
}

absl::StatusOr<Lease> NamingContextImpl::KeepAlive(korb::CallContext& context,
                                                   const LeaseId& request) {
  return Tagged<Lease>(context, [&]() -> absl::StatusOr<Lease> {
    RETURN_IF_ERROR(ValidateLeaseId(request.id()));
    return backend_->KeepAlive(request.id());
  }());
}

absl::StatusOr<korb::Empty> NamingContextImpl::RevokeLease(korb::CallContext& context,
                                                           const LeaseId& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateLeaseId(request.id()));
    return Finish(backend_->RevokeLease(request.id()));
  }());
}

absl::StatusOr<korb::Empty> NamingContextImpl::Join(korb::CallContext& context,
                                                    const JoinRequest& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    RETURN_IF_ERROR(ValidateRef(request.ref()));
    RETURN_IF_ERROR(ValidateMemberId(request.member_id()));
    if (request.lease() < 0) {
      return BadRequest(absl::StrCat("lease id ", request.lease(), " is negative"));
    }
    return Finish(
        backend_->Join(request.name(), request.ref(), request.member_id(), request.lease()));
  }());
}

absl::StatusOr<korb::Empty> NamingContextImpl::Leave(korb::CallContext& context,
                                                     const LeaveRequest& request) {
  return Tagged<korb::Empty>(context, [&]() -> absl::StatusOr<korb::Empty> {
    RETURN_IF_ERROR(ValidateName(request.name()));
    RETURN_IF_ERROR(ValidateMemberId(request.member_id()));
    return Finish(backend_->Leave(request.name(), request.member_id()));
  }());
}

}  // namespace korb::naming
