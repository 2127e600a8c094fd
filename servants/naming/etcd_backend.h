// korb::naming::EtcdBackend: the naming directory in etcd v3, through etcd's
// own gRPC API (idl/etcd/rpc.proto). korb-naming servers on it hold no
// state of their own: several can serve one directory behind one
// multi-endpoint reference, and any of them can die or restart.
//
// Layout: every member of a name is one key,
//   <prefix><name>#<member_id>   ->  korb.naming.Member (wire form)
// with the permanent member of Bind/Rebind at "<prefix><name>#" ('#' cannot
// occur in a name, so a name's keys are exactly those in
// ["<prefix><name>#", "<prefix><name>$")). The default prefix is
// "/korb/names/".
//   - Bind is a Txn that puts only if no key of the name exists (else
//     ALREADY_EXISTS); Rebind a Txn that deletes the name's members and puts;
//     Join reads the name's members, checks the new one fits, and puts under
//     a Txn guarded by their mod revisions (retried if someone else changed
//     the name meanwhile).
//   - Leases are etcd leases (LeaseGrant, LeaseKeepAlive, LeaseRevoke): a
//     member joined with a lease is a key attached to it, which etcd deletes
//     when the lease expires.
//   - Resolve and List are Range reads; revisions are etcd's (the mod
//     revision of a change). Changes to several names in one etcd revision
//     (one lease expiring) share that revision.
//   - WaitForChanges watches the prefix's keys from after_revision + 1 (in
//     slices of at most one second, to notice cancellation) and reports
//     history_lost when etcd has compacted that revision away.
//
// etcd unreachable: calls fail UNAVAILABLE (korb-error transient) after
// trying every endpoint; the channels reconnect by themselves (backoff of at
// most EtcdOptions::max_reconnect_backoff) once etcd is back.
//
// Thread-safety: thread-safe.
//
// Usage:
//   ASSIGN_OR_RETURN(std::shared_ptr<korb::naming::EtcdBackend> backend,
//                    korb::naming::EtcdBackend::Create({.endpoints = {"127.0.0.1:2379"}}));
//   ASSIGN_OR_RETURN(korb::Ref ref, korb::naming::Serve(*server, backend));
#ifndef KORB_SERVANTS_NAMING_ETCD_BACKEND_H_
#define KORB_SERVANTS_NAMING_ETCD_BACKEND_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/rpc.grpc.pb.h"
#include "servants/naming/naming_backend.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace korb::naming {

struct EtcdOptions {
  // etcd client endpoints, "host:port" (plain HTTP/2, no TLS); at least one.
  std::vector<std::string> endpoints{};
  // Prefix of every key; must end with '/'.
  std::string key_prefix = "/korb/names/";
  // TTL of leases granted with ttl_seconds 0.
  int32_t default_ttl_seconds = 10;
  // Timeout of each call to etcd.
  absl::Duration call_timeout = absl::Seconds(3);
  // Longest wait between reconnection attempts to an etcd endpoint that went
  // away (gRPC's default would be 120 s).
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
  // Members of one name; beyond it Join fails RESOURCE_EXHAUSTED.
  size_t max_members_per_name = 100;
  // WaitForChanges calls waiting at once (each holds an etcd watch).
  size_t max_waiters = 256;
  // Changes in one WaitReply (the rest come with the next wait).
  size_t max_changes_per_reply = 1000;
};

class EtcdBackend final : public NamingBackend {
 public:
  // Validates the options and opens channels (connecting lazily: etcd need
  // not be up yet). INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::shared_ptr<EtcdBackend>> Create(EtcdOptions options);

  absl::Status Bind(const std::string& name, const korb::ObjectRef& ref) override;
  absl::Status Rebind(const std::string& name, const korb::ObjectRef& ref) override;
  absl::Status Unbind(const std::string& name) override;
  absl::StatusOr<Binding> Get(const std::string& name) override;
  absl::StatusOr<ListReply> List(const std::string& prefix, int page_size,
                                 const std::string& page_token) override;
  absl::StatusOr<WaitReply> WaitForChanges(const WaitParams& params) override;
  absl::StatusOr<Lease> GrantLease(int32_t ttl_seconds) override;
  absl::StatusOr<Lease> KeepAlive(int64_t lease) override;
  absl::Status RevokeLease(int64_t lease) override;
  absl::Status Join(const std::string& name, const korb::ObjectRef& ref,
                    const std::string& member_id, int64_t lease) override;
  absl::Status Leave(const std::string& name, const std::string& member_id) override;

 private:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  };

  explicit EtcdBackend(EtcdOptions options);

  // Runs `call` on the current endpoint, moving on to the next ones while
  // they answer UNAVAILABLE (or time out). Returns the first other outcome.
  template <typename Call>
  absl::Status WithEndpoint(Call&& call);
  std::unique_ptr<grpc::ClientContext> Context() const;

  std::string NameBegin(const std::string& name) const;   // "<prefix><name>#"
  std::string NameEnd(const std::string& name) const;     // "<prefix><name>$"
  std::string MemberKey(const std::string& name, const std::string& member_id) const;
  // The name and member id of a key under the prefix; false if malformed.
  bool ParseKey(const std::string& key, std::string* name, std::string* member_id) const;

  absl::StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  // The binding of `name` at `revision` (0: now), possibly with no members.
  absl::StatusOr<Binding> ReadBinding(const std::string& name, int64_t revision);
  // Decodes a name's key-values into a binding (members in key order).
  Binding ToBinding(const std::string& name, const etcdserverpb::RangeResponse& range) const;
  // The store's current revision.
  absl::StatusOr<int64_t> CurrentRevision();
  // One watch slice: the changes after `after` until `deadline`.
  absl::StatusOr<WaitReply> WatchOnce(const std::string& prefix, int64_t after,
                                      absl::Time deadline);

  const EtcdOptions options_;
  std::vector<Endpoint> endpoints_;
  // The endpoint calls start at (the last that answered).
  std::atomic<size_t> current_{0};
  std::atomic<size_t> waiters_{0};
};

}  // namespace korb::naming

#endif  // KORB_SERVANTS_NAMING_ETCD_BACKEND_H_
