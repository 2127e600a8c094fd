#include "servants/naming/etcd_backend.h"

#include <algorithm>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ref.h"
#include "common/status_macros.h"
#include "common/wire.h"
#include "servants/naming/names.h"

namespace korb::naming {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;
using etcdserverpb::TxnRequest;
using etcdserverpb::TxnResponse;

// Joins retried when the name changed between reading and writing it.
constexpr int kJoinAttempts = 8;
// Keys read per Range while listing.
constexpr int64_t kListBatch = 512;

// The first key after every key that starts with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xFF) {
      prefix.back() = static_cast<char>(prefix.back() + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

bool IsUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE;
}

absl::Status FromGrpc(const grpc::Status& status, absl::string_view address) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat("etcd at ", address, ": ", status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Unavailable(message);
    case grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(message);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return WithErrorKind(absl::ResourceExhaustedError(message), ErrorKind::kTransient);
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
  }
}

absl::Status Exhausted(absl::string_view what, size_t bound) {
  return WithErrorKind(absl::ResourceExhaustedError(absl::StrCat(
                           "naming service: at most ", bound, " ", what, " (a configured bound)")),
                       ErrorKind::kTransient);
}

}  // namespace

absl::StatusOr<std::shared_ptr<EtcdBackend>> EtcdBackend::Create(EtcdOptions options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("etcd: no endpoints");
  for (const std::string& endpoint : options.endpoints) {
    if (absl::Status status = korb::HostPort::Parse(endpoint).status(); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint \"", endpoint, "\": ", status.message()));
    }
  }
  if (options.key_prefix.empty() || options.key_prefix.back() != '/') {
    return absl::InvalidArgumentError("etcd key prefix must end with '/'");
  }
  if (options.default_ttl_seconds < 1 || options.default_ttl_seconds > kMaxTtlSeconds) {
    return absl::InvalidArgumentError("etcd default TTL must be within 1..3600 s");
  }
  return std::shared_ptr<EtcdBackend>(new EtcdBackend(std::move(options)));
}

EtcdBackend::EtcdBackend(EtcdOptions options) : options_(std::move(options)) {
  for (const std::string& address : options_.endpoints) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(absl::ToInt64Milliseconds(options_.max_reconnect_backoff)));
    args.SetMaxReceiveMessageSize(16 << 20);
    Endpoint endpoint;
    endpoint.address = address;
    endpoint.channel =
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    endpoint.kv = etcdserverpb::KV::NewStub(endpoint.channel);
    endpoint.lease = etcdserverpb::Lease::NewStub(endpoint.channel);
    endpoint.watch = etcdserverpb::Watch::NewStub(endpoint.channel);
    endpoints_.push_back(std::move(endpoint));
  }
}

std::unique_ptr<grpc::ClientContext> EtcdBackend::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  return context;
}

template <typename Call>
absl::Status EtcdBackend::WithEndpoint(Call&& call) {
  const size_t n = endpoints_.size();
  const size_t start = current_.load();
  std::vector<std::string> failures;
  for (size_t i = 0; i < n; ++i) {
    const size_t index = (start + i) % n;
    Endpoint& endpoint = endpoints_[index];
    const grpc::Status status = call(endpoint);
    // Only a call that never reached etcd moves on: anything else may have
    // been applied.
    if (!IsUnreachable(status)) {
      if (i > 0) current_.store(index);
      return FromGrpc(status, endpoint.address);
    }
    failures.push_back(absl::StrCat(endpoint.address, ": ", status.error_message()));
  }
  return Unavailable(absl::StrCat("etcd unreachable (", absl::StrJoin(failures, "; "), ")"));
}

std::string EtcdBackend::NameBegin(const std::string& name) const {
  return absl::StrCat(options_.key_prefix, name, "#");
}

std::string EtcdBackend::NameEnd(const std::string& name) const {
  return absl::StrCat(options_.key_prefix, name, "$");
}

std::string EtcdBackend::MemberKey(const std::string& name, const std::string& member_id) const {
  return absl::StrCat(options_.key_prefix, name, "#", member_id);
}

bool EtcdBackend::ParseKey(const std::string& key, std::string* name,
                           std::string* member_id) const {
  if (!absl::StartsWith(key, options_.key_prefix)) return false;
  const absl::string_view rest = absl::string_view(key).substr(options_.key_prefix.size());
  const size_t hash = rest.find('#');
  if (hash == absl::string_view::npos) return false;
  *name = std::string(rest.substr(0, hash));
  *member_id = std::string(rest.substr(hash + 1));
  return true;
}

absl::StatusOr<RangeResponse> EtcdBackend::Range(const RangeRequest& request) {
  RangeResponse response;
  RETURN_IF_ERROR(WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.kv->Range(Context().get(), request, &response);
  }));
  return response;
}

absl::StatusOr<TxnResponse> EtcdBackend::Txn(const TxnRequest& request) {
  TxnResponse response;
  RETURN_IF_ERROR(WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.kv->Txn(Context().get(), request, &response);
  }));
  return response;
}

Binding EtcdBackend::ToBinding(const std::string& name, const RangeResponse& range) const {
  Binding binding;
  binding.set_name(name);
  int64_t revision = 0;
  for (const mvccpb::KeyValue& kv : range.kvs()) {
    std::string key_name;
    std::string member_id;
    Member member;
    // Keys that are not ours, or values that do not decode, are skipped:
    // someone else wrote them, and they are no member.
    if (!ParseKey(kv.key(), &key_name, &member_id) || key_name != name ||
        !member.ParseFromString(kv.value())) {
      continue;
    }
    member.set_member_id(member_id);
    member.set_lease(kv.lease());
    *binding.add_members() = std::move(member);
    revision = std::max(revision, kv.mod_revision());
  }
  binding.set_revision(revision);
  return binding;
}

absl::StatusOr<Binding> EtcdBackend::ReadBinding(const std::string& name, int64_t revision) {
  RangeRequest request;
  request.set_key(NameBegin(name));
  request.set_range_end(NameEnd(name));
  request.set_revision(revision);
  ASSIGN_OR_RETURN(RangeResponse range, Range(request));
  Binding binding = ToBinding(name, range);
  if (revision > 0) binding.set_revision(revision);
  return binding;
}

absl::StatusOr<int64_t> EtcdBackend::CurrentRevision() {
  RangeRequest request;
  request.set_key(options_.key_prefix);
  request.set_count_only(true);
  ASSIGN_OR_RETURN(RangeResponse range, Range(request));
  return range.header().revision();
}

absl::Status EtcdBackend::Bind(const std::string& name, const korb::ObjectRef& ref) {
  Member member;
  *member.mutable_ref() = ref;
  TxnRequest txn;
  // Only if no key of the name exists (a range with no keys has version 0).
  Compare* unbound = txn.add_compare();
  unbound->set_result(Compare::EQUAL);
  unbound->set_target(Compare::VERSION);
  unbound->set_key(NameBegin(name));
  unbound->set_range_end(NameEnd(name));
  unbound->set_version(0);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(NameBegin(name));
  put->set_value(member.SerializeAsString());
  ASSIGN_OR_RETURN(TxnResponse response, Txn(txn));
  if (!response.succeeded()) {
    return absl::AlreadyExistsError(absl::StrCat("name \"", name, "\" is already bound"));
  }
  return absl::OkStatus();
}

absl::Status EtcdBackend::Rebind(const std::string& name, const korb::ObjectRef& ref) {
  Member member;
  *member.mutable_ref() = ref;
  TxnRequest txn;
  // Every member but the permanent one's key, which the put replaces: etcd
  // refuses a txn that deletes and puts the same key.
  auto* erase = txn.add_success()->mutable_request_delete_range();
  erase->set_key(NameBegin(name) + std::string(1, '\0'));
  erase->set_range_end(NameEnd(name));
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(NameBegin(name));
  put->set_value(member.SerializeAsString());
  return Txn(txn).status();
}

absl::Status EtcdBackend::Unbind(const std::string& name) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(NameBegin(name));
  request.set_range_end(NameEnd(name));
  etcdserverpb::DeleteRangeResponse response;
  RETURN_IF_ERROR(WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.kv->DeleteRange(Context().get(), request, &response);
  }));
  if (response.deleted() == 0) return NameNotBound(name);
  return absl::OkStatus();
}

absl::StatusOr<Binding> EtcdBackend::Get(const std::string& name) {
  ASSIGN_OR_RETURN(Binding binding, ReadBinding(name, 0));
  if (binding.members().empty()) return NameNotBound(name);
  return binding;
}

absl::StatusOr<ListReply> EtcdBackend::List(const std::string& prefix, int page_size,
                                            const std::string& page_token) {
  ListReply reply;
  const std::string range_end = PrefixEnd(options_.key_prefix + prefix);
  // Past every key of the token's name: '$' follows the '#' of its keys.
  std::string key = page_token.empty() ? options_.key_prefix + prefix : NameEnd(page_token);
  int64_t revision = 0;  // every batch reads the first one's revision
  while (true) {
    RangeRequest request;
    request.set_key(key);
    request.set_range_end(range_end);
    request.set_limit(kListBatch);
    request.set_revision(revision);
    ASSIGN_OR_RETURN(RangeResponse range, Range(request));
    if (revision == 0) {
      revision = range.header().revision();
      reply.set_revision(revision);
    }
    for (const mvccpb::KeyValue& kv : range.kvs()) {
      std::string name;
      std::string member_id;
      Member member;
      if (!ParseKey(kv.key(), &name, &member_id) || !NameHasPrefix(name, prefix) ||
          !member.ParseFromString(kv.value())) {
        continue;
      }
      const int count = reply.bindings_size();
      if (count == 0 || reply.bindings(count - 1).name() != name) {
        if (count == page_size) {
          reply.set_next_page_token(reply.bindings(count - 1).name());
          return reply;
        }
        reply.add_bindings()->set_name(name);
      }
      Binding* binding = reply.mutable_bindings(reply.bindings_size() - 1);
      member.set_member_id(member_id);
      member.set_lease(kv.lease());
      *binding->add_members() = std::move(member);
      binding->set_revision(std::max(binding->revision(), kv.mod_revision()));
    }
    if (!range.more() || range.kvs().empty()) return reply;
    key = range.kvs(range.kvs_size() - 1).key() + std::string(1, '\0');
  }
}

absl::StatusOr<WaitReply> EtcdBackend::WatchOnce(const std::string& prefix, int64_t after,
                                                 absl::Time deadline) {
  const size_t index = current_.load() % endpoints_.size();
  Endpoint& endpoint = endpoints_[index];
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  auto stream = endpoint.watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(options_.key_prefix + prefix);
  create->set_range_end(PrefixEnd(options_.key_prefix + prefix));
  create->set_start_revision(after + 1);
  WaitReply reply;
  reply.set_revision(after);
  // (name, revision) pairs changed, in revision order.
  std::vector<std::pair<std::string, int64_t>> changed;
  if (stream->Write(request)) {
    etcdserverpb::WatchResponse response;
    while (changed.empty() && stream->Read(&response)) {
      if (response.compact_revision() > 0) {
        reply.set_history_lost(true);
        break;
      }
      if (response.canceled()) {
        context.TryCancel();
        stream->Finish().IgnoreError();
        return absl::InternalError(
            absl::StrCat("etcd cancelled the watch: ", response.cancel_reason()));
      }
      absl::flat_hash_set<std::pair<std::string, int64_t>> seen;
      for (const mvccpb::Event& event : response.events()) {
        std::string name;
        std::string member_id;
        if (!ParseKey(event.kv().key(), &name, &member_id) || !NameHasPrefix(name, prefix)) {
          continue;
        }
        const int64_t revision = event.kv().mod_revision();
        if (seen.insert({name, revision}).second) changed.emplace_back(name, revision);
      }
    }
  }
  context.TryCancel();
  const grpc::Status status = stream->Finish();
  if (reply.history_lost()) {
    // Its response carries no header revision: resume from the current one.
    ASSIGN_OR_RETURN(const int64_t current, CurrentRevision());
    reply.set_revision(current);
    return reply;
  }
  if (changed.empty()) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      current_.store(index + 1);  // the next wait tries the next endpoint
      return FromGrpc(status, endpoint.address);
    }
    return reply;  // the slice ended
  }
  for (size_t i = 0; i < changed.size(); ++i) {
    const auto& [name, revision] = changed[i];
    if (static_cast<size_t>(reply.changes_size()) >= options_.max_changes_per_reply &&
        revision != changed[i - 1].second) {
      break;  // the rest come with the next wait
    }
    absl::StatusOr<Binding> binding = ReadBinding(name, revision);
    if (!binding.ok() && binding.status().code() == absl::StatusCode::kOutOfRange) {
      binding = ReadBinding(name, 0);  // that revision was compacted meanwhile
    }
    if (!binding.ok()) return binding.status();
    Change* change = reply.add_changes();
    change->set_name(name);
    change->set_revision(revision);
    *change->mutable_binding() = *std::move(binding);
    change->mutable_binding()->set_revision(revision);
    reply.set_revision(revision);
  }
  return reply;
}

absl::StatusOr<WaitReply> EtcdBackend::WaitForChanges(const WaitParams& params) {
  if (waiters_.fetch_add(1) >= options_.max_waiters) {
    --waiters_;
    return Exhausted("waiting calls", options_.max_waiters);
  }
  struct Leave {
    std::atomic<size_t>* waiters;
    ~Leave() { --*waiters; }
  } leave{&waiters_};

  ASSIGN_OR_RETURN(const int64_t current, CurrentRevision());
  const int64_t after = params.after_revision == 0 ? current : params.after_revision;
  if (after > current) {
    // A revision this store never had (its data was lost).
    WaitReply reply;
    reply.set_revision(current);
    reply.set_history_lost(true);
    return reply;
  }
  while (true) {
    const absl::Time slice = std::min(params.deadline, absl::Now() + absl::Seconds(1));
    ASSIGN_OR_RETURN(WaitReply reply, WatchOnce(params.prefix, after, slice));
    if (reply.changes_size() > 0 || reply.history_lost()) return reply;
    if (absl::Now() >= params.deadline) return reply;
    if (params.cancelled && params.cancelled()) return absl::CancelledError("wait cancelled");
  }
}

absl::StatusOr<Lease> EtcdBackend::GrantLease(int32_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds > 0 ? ttl_seconds : options_.default_ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  RETURN_IF_ERROR(WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.lease->LeaseGrant(Context().get(), request, &response);
  }));
  if (!response.error().empty()) {
    return absl::InternalError(absl::StrCat("etcd: lease not granted: ", response.error()));
  }
  Lease lease;
  lease.set_id(response.id());
  lease.set_ttl_seconds(static_cast<int32_t>(response.ttl()));
  return lease;
}

absl::StatusOr<Lease> EtcdBackend::KeepAlive(int64_t lease) {
  etcdserverpb::LeaseKeepAliveResponse response;
  RETURN_IF_ERROR(WithEndpoint([&](Endpoint& endpoint) {
    std::unique_ptr<grpc::ClientContext> context = Context();
    auto stream = endpoint.lease->LeaseKeepAlive(context.get());
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(lease);
    const bool answered = stream->Write(request) && stream->WritesDone() && stream->Read(&response);
    if (answered) context->TryCancel();
    grpc::Status status = stream->Finish();
    return answered ? grpc::Status::OK : status;
  }));
  // etcd answers a lease it does not know (expired, revoked) with TTL <= 0.
  if (response.ttl() <= 0) {
    return absl::NotFoundError(absl::StrCat("lease ", lease, " does not exist (expired or revoked)"));
  }
  Lease reply;
  reply.set_id(lease);
  reply.set_ttl_seconds(static_cast<int32_t>(response.ttl()));
  return reply;
}

absl::Status EtcdBackend::RevokeLease(int64_t lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  absl::Status status = WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.lease->LeaseRevoke(Context().get(), request, &response);
  });
  if (status.code() == absl::StatusCode::kNotFound) return absl::OkStatus();  // already gone
  return status;
}

absl::Status EtcdBackend::Join(const std::string& name, const korb::ObjectRef& ref,
                               const std::string& member_id, int64_t lease) {
  Member member;
  *member.mutable_ref() = ref;
  member.set_member_id(member_id);
  member.set_lease(lease);
  const std::string key = MemberKey(name, member_id);
  for (int attempt = 0; attempt < kJoinAttempts; ++attempt) {
    RangeRequest read;
    read.set_key(NameBegin(name));
    read.set_range_end(NameEnd(name));
    ASSIGN_OR_RETURN(RangeResponse range, Range(read));
    const Binding current = ToBinding(name, range);
    RETURN_IF_ERROR(CheckJoinFits(current, ref));
    bool present = false;
    for (const Member& m : current.members()) present |= m.member_id() == member_id;
    if (!present && static_cast<size_t>(current.members_size()) >= options_.max_members_per_name) {
      return Exhausted("members per name", options_.max_members_per_name);
    }
    TxnRequest txn;
    // Only if no key of the name changed since the read.
    Compare* unchanged = txn.add_compare();
    unchanged->set_result(Compare::LESS);
    unchanged->set_target(Compare::MOD);
    unchanged->set_key(NameBegin(name));
    unchanged->set_range_end(NameEnd(name));
    unchanged->set_mod_revision(range.header().revision() + 1);
    auto* put = txn.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(member.SerializeAsString());
    put->set_lease(lease);
    absl::StatusOr<TxnResponse> response = Txn(txn);
    if (!response.ok()) {
      if (response.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(
            absl::StrCat("lease ", lease, " does not exist (expired or revoked)"));
      }
      return response.status();
    }
    if (response->succeeded()) return absl::OkStatus();
  }
  return Unavailable(absl::StrCat("name \"", name, "\" kept changing; join again"));
}

absl::Status EtcdBackend::Leave(const std::string& name, const std::string& member_id) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(MemberKey(name, member_id));
  etcdserverpb::DeleteRangeResponse response;
  return WithEndpoint([&](Endpoint& endpoint) {
    return endpoint.kv->DeleteRange(Context().get(), request, &response);
  });
}

}  // namespace korb::naming
