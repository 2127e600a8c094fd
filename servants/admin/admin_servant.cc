#include "servants/admin/admin_servant.h"

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/wire.h"

#ifndef KORB_VERSION
#define KORB_VERSION "unknown"
#endif

namespace korb::admin {
namespace {

absl::Status BadRequest(absl::string_view message) {
  return WithErrorKind(absl::InvalidArgumentError(message), ErrorKind::kBadRequest);
}

korb::admin::AdapterState ToProtoState(korb::AdapterState state) {
  switch (state) {
    case korb::AdapterState::kActive:
      return ACTIVE;
    case korb::AdapterState::kHolding:
      return HOLDING;
    case korb::AdapterState::kDiscarding:
      return DISCARDING;
    case korb::AdapterState::kDeactivating:
      return DEACTIVATING;
    case korb::AdapterState::kInactive:
      return INACTIVE;
  }
  return ADAPTER_STATE_UNSPECIFIED;
}

absl::string_view PolicyName(ThreadingOptions::Kind kind) {
  switch (kind) {
    case ThreadingOptions::Kind::kInline:
      return "inline";
    case ThreadingOptions::Kind::kSharedPool:
      return "pool";
    case ThreadingOptions::Kind::kThreadPerObject:
      return "thread-per-object";
    case ThreadingOptions::Kind::kThreadPerRequest:
      return "thread-per-request";
    case ThreadingOptions::Kind::kThreadPerConnection:
      return "thread-per-connection";
  }
  return "unknown";
}

absl::StatusOr<absl::Duration> Grace(int32_t grace_ms) {
  if (grace_ms < 0 || grace_ms > AdminImpl::kMaxGraceMs) {
    return BadRequest(
        absl::StrCat("grace_ms must be 0 to ", AdminImpl::kMaxGraceMs, ", not ", grace_ms));
  }
  return absl::Milliseconds(grace_ms == 0 ? AdminImpl::kDefaultGraceMs : grace_ms);
}

}  // namespace

AdapterInfo ToAdapterInfo(const ObjectAdapter& adapter) {
  AdapterInfo info;
  info.set_name(adapter.name());
  info.set_state(ToProtoState(adapter.state()));
  const AdapterOptions& options = adapter.options();
  Threading* threading = info.mutable_threading();
  threading->set_policy(std::string(PolicyName(options.threading.kind)));
  threading->set_pool_threads(options.threading.pool_threads);
  threading->set_max_pool_threads(options.threading.max_pool_threads);
  threading->set_serialize_per_object(options.threading.serialize_per_object);
  threading->set_max_threads(options.threading.max_threads);
  threading->set_max_queued_calls(static_cast<int64_t>(options.threading.max_queued_calls));
  info.set_active_objects(static_cast<int64_t>(adapter.active_objects()));
  info.set_persistent(options.lifespan == Lifespan::kPersistent);
  info.set_max_held_calls(static_cast<int64_t>(options.max_held_calls));
  return info;
}

AdapterMetrics ToAdapterMetrics(absl::string_view adapter, const korb::AdapterMetrics& m) {
  AdapterMetrics out;
  out.set_adapter(std::string(adapter));
  out.set_calls(static_cast<int64_t>(m.calls));
  out.set_errors(static_cast<int64_t>(m.errors));
  out.set_cancelled(static_cast<int64_t>(m.cancelled));
  Latency* latency = out.mutable_latency();
  latency->set_count(static_cast<int64_t>(m.latency.count()));
  latency->set_mean_us(m.latency.mean_micros());
  latency->set_p50_us(m.latency.Percentile(0.5));
  latency->set_p90_us(m.latency.Percentile(0.9));
  latency->set_p99_us(m.latency.Percentile(0.99));
  out.set_threads(m.policy.threads);
  out.set_queued(static_cast<int64_t>(m.policy.queued));
  for (const auto& [priority, queued] : m.policy.queued_by_priority) {
    QueueLane* lane = out.add_queued_by_priority();
    lane->set_priority(priority);
    lane->set_queued(static_cast<int64_t>(queued));
  }
  out.set_active_objects(static_cast<int64_t>(m.active_objects));
  out.set_held_calls(static_cast<int64_t>(m.held_calls));
  out.set_running_calls(m.running_calls);
  out.set_tlp(m.tlp);
  out.set_busy_ms(absl::ToInt64Milliseconds(m.busy_time));
  out.set_elapsed_ms(absl::ToInt64Milliseconds(m.elapsed));
  Lifecycle* lifecycle = out.mutable_lifecycle();
  lifecycle->set_incarnations(static_cast<int64_t>(m.lifecycle.incarnations));
  lifecycle->set_failed_incarnations(static_cast<int64_t>(m.lifecycle.failed_incarnations));
  lifecycle->set_etherealizations(static_cast<int64_t>(m.lifecycle.etherealizations));
  lifecycle->set_evictions(static_cast<int64_t>(m.lifecycle.evictions));
  lifecycle->set_saves(static_cast<int64_t>(m.lifecycle.saves));
  lifecycle->set_failed_saves(static_cast<int64_t>(m.lifecycle.failed_saves));
  return out;
}

AdminImpl::AdminImpl(ObjectServer& server, ServeOptions options)
    : server_(server), options_(std::move(options)), started_(absl::Now()) {}

absl::StatusOr<ObjectAdapter*> AdminImpl::FindAdapter(absl::string_view name) const {
  if (name.empty() || name.size() > kMaxAdapterNameBytes) {
    return BadRequest(absl::StrCat("adapter name must be 1 to ", kMaxAdapterNameBytes,
                                   " bytes, not ", name.size()));
  }
  ObjectAdapter* adapter = server_.FindAdapter(name);
  if (adapter == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("this server has no adapter '", absl::CHexEscape(name), "'"));
  }
  return adapter;
}

absl::StatusOr<ObjectAdapter*> AdminImpl::FindControllableAdapter(absl::string_view name) const {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindAdapter(name));
  if (name == kAdapterName) {
    return absl::FailedPreconditionError(
        absl::StrCat("adapter '", kAdapterName,
                     "' hosts the admin object itself: it cannot be held, "
                     "discarded or shut down remotely"));
  }
  return adapter;
}

absl::StatusOr<ServerInfo> AdminImpl::GetServerInfo(CallContext&, const korb::Empty&) {
  ServerInfo info;
  info.set_korb_version(KORB_VERSION);
  for (const HostPort& endpoint : server_.endpoints()) info.add_endpoints(endpoint.ToString());
  info.set_pid(static_cast<int64_t>(getpid()));
  info.set_uptime_ms(absl::ToInt64Milliseconds(absl::Now() - started_));
  for (std::string& name : server_.AdapterNames()) info.add_adapters(std::move(name));
  return info;
}

absl::StatusOr<ListAdaptersReply> AdminImpl::ListAdapters(CallContext&, const korb::Empty&) {
  ListAdaptersReply reply;
  for (const std::string& name : server_.AdapterNames()) {
    // An adapter never leaves its server, so each name found is there.
    if (const ObjectAdapter* adapter = server_.FindAdapter(name); adapter != nullptr) {
      *reply.add_adapters() = ToAdapterInfo(*adapter);
    }
  }
  return reply;
}

absl::StatusOr<AdapterInfo> AdminImpl::GetAdapter(CallContext&, const AdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindAdapter(request.adapter()));
  return ToAdapterInfo(*adapter);
}

absl::StatusOr<AdapterMetrics> AdminImpl::GetMetrics(CallContext&, const AdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindAdapter(request.adapter()));
  return ToAdapterMetrics(adapter->name(), adapter->Metrics());
}

absl::StatusOr<ListObjectsReply> AdminImpl::ListObjects(CallContext&,
                                                        const ListObjectsRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindAdapter(request.adapter()));
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return BadRequest(absl::StrCat("page_size must be 0 (default ", kDefaultPageSize, ") to ",
                                   kMaxPageSize, ", not ", request.page_size()));
  }
  const size_t page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  // The token is the last id of the previous page: a position, not a
  // cursor the server keeps, so pages cost the server nothing between calls.
  std::string after;
  if (request.page_token().size() > kMaxPageTokenBytes ||
      !absl::WebSafeBase64Unescape(request.page_token(), &after)) {
    return BadRequest("page_token is not one a ListObjects reply returned");
  }
  ListObjectsReply reply;
  // One more than the page tells whether another page follows.
  std::vector<ActiveObjectInfo> objects = adapter->ListActiveObjects(after, page_size + 1);
  const bool more = objects.size() > page_size;
  if (more) objects.pop_back();
  for (ActiveObjectInfo& object : objects) {
    ObjectInfo* info = reply.add_objects();
    *info->mutable_ref() = adapter->CreateReference(object.id, object.type).ToProto();
    info->set_id(std::move(object.id));
    info->set_type(std::move(object.type));
  }
  if (more) {
    reply.set_next_page_token(absl::WebSafeBase64Escape(reply.objects().rbegin()->id()));
  }
  return reply;
}

absl::StatusOr<AdapterInfo> AdminImpl::Hold(CallContext&, const AdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindControllableAdapter(request.adapter()));
  RETURN_IF_ERROR(adapter->Hold());
  return ToAdapterInfo(*adapter);
}

absl::StatusOr<AdapterInfo> AdminImpl::Discard(CallContext&, const AdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindControllableAdapter(request.adapter()));
  RETURN_IF_ERROR(adapter->Discard());
  return ToAdapterInfo(*adapter);
}

absl::StatusOr<AdapterInfo> AdminImpl::Resume(CallContext&, const AdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindControllableAdapter(request.adapter()));
  RETURN_IF_ERROR(adapter->Resume());
  return ToAdapterInfo(*adapter);
}

absl::StatusOr<ShutdownAdapterReply> AdminImpl::ShutdownAdapter(
    CallContext&, const ShutdownAdapterRequest& request) {
  ASSIGN_OR_RETURN(ObjectAdapter * adapter, FindControllableAdapter(request.adapter()));
  ASSIGN_OR_RETURN(absl::Duration grace, Grace(request.grace_ms()));
  absl::Status drained = adapter->Shutdown(grace);
  if (!drained.ok() && !absl::IsDeadlineExceeded(drained)) return drained;
  ShutdownAdapterReply reply;
  reply.set_drained(drained.ok());
  return reply;
}

absl::StatusOr<korb::Empty> AdminImpl::ShutdownServer(CallContext&,
                                                      const ShutdownServerRequest& request) {
  ASSIGN_OR_RETURN(absl::Duration grace, Grace(request.grace_ms()));
  if (!options_.on_shutdown) {
    return absl::FailedPreconditionError("this server does not allow remote shutdown");
  }
  options_.on_shutdown(grace);
  return korb::Empty();
}

absl::StatusOr<LogLevel> AdminImpl::GetLogLevel(CallContext&, const korb::Empty&) {
  LogLevel reply;
  for (const ComponentLevel& current : LogLevels()) {
    ComponentLogLevel* entry = reply.add_components();
    entry->set_component(current.component);
    entry->set_level(LogLevelName(current.level));
  }
  return reply;
}

absl::StatusOr<LogLevel> AdminImpl::SetLogLevel(CallContext& context, const LogLevel& request) {
  absl::StatusOr<korb::LogLevel> level = ParseLogLevel(request.level());
  if (!level.ok()) return WithErrorKind(level.status(), ErrorKind::kBadRequest);
  const std::string component = request.component().empty() ? "*" : request.component();
  if (absl::Status set = korb::SetLogLevel(component, *level); !set.ok()) {
    return WithErrorKind(set, ErrorKind::kBadRequest);
  }
  return GetLogLevel(context, korb::Empty());
}

}  // namespace korb::admin
