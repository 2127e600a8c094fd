#include "tools/korbctl/commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/client.h"
#include "client/resolve.h"
#include "common/ref.h"
#include "common/wire.h"
#include "korb/admin.korb.h"
#include "korb/naming.korb.h"
#include "servants/admin/admin_service.h"
#include "tools/korbctl/dynamic_call.h"
#include "tools/korbctl/reflection_client.h"
#include "tools/korbctl/table.h"

namespace korb::ctl {
namespace {

// Pages korbctl fetches before it stops (ls, names): bounds a tool's memory
// and a server's work whatever the server holds.
constexpr int kMaxPages = 100;

CallOptions WithTimeout(const Options& options) {
  CallOptions call;
  call.timeout = options.timeout;
  return call;
}

int Fail(const Options& options, absl::string_view what, const absl::Status& status, int code) {
  *options.err << "korbctl: " << what << ": " << status.ToString() << "\n";
  return code;
}

bool Reachable(const HostPort& endpoint, absl::Duration timeout) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(endpoint.ToString(), grpc::InsecureChannelCredentials());
  return channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

// The exit code of a call that failed with `status` at `endpoint`: a
// transport failure with no Korb meaning is "unreachable" if the endpoint
// does not accept a connection either.
int CodeFor(const Options& options, const absl::Status& status, const HostPort& endpoint) {
  const bool transport = (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) &&
                         ErrorKindOf(status) == ErrorKind::kNone;
  if (transport && !Reachable(endpoint, std::min(options.timeout, absl::Seconds(2)))) {
    return kUnreachable;
  }
  return kCallFailed;
}

// A server argument: "host:port", or a reference (its first endpoint).
absl::StatusOr<HostPort> ParseServer(const std::string& server) {
  if (absl::StartsWith(server, "korb://") || absl::StartsWith(server, "korbname://")) {
    absl::StatusOr<Ref> ref = Ref::Parse(server);
    if (!ref.ok()) return ref.status();
    return ref->endpoints().front();
  }
  absl::StatusOr<HostPort> endpoint = HostPort::Parse(server);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", server, "' is neither host:port nor a reference: ", endpoint.status().message()));
  }
  return endpoint;
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, print);
  return out;
}

std::string StateName(admin::AdapterState state) {
  std::string name = admin::AdapterState_Name(state);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string PolicyText(const admin::Threading& t) {
  if (t.policy() == "pool") {
    std::string text = absl::StrCat("pool(", t.pool_threads());
    if (t.max_pool_threads() > t.pool_threads()) absl::StrAppend(&text, "..", t.max_pool_threads());
    absl::StrAppend(&text, t.serialize_per_object() ? ", serialized)" : ")");
    return text;
  }
  if (t.policy() == "thread-per-request" && t.max_threads() > 0) {
    return absl::StrCat(t.policy(), "(", t.max_threads(), ")");
  }
  return t.policy();
}

// The admin object of `server`, with what a command needs to report errors.
struct AdminTarget {
  HostPort endpoint;
  Client client;
  std::unique_ptr<admin::AdminStub> stub;
};

absl::StatusOr<std::unique_ptr<AdminTarget>> ConnectAdmin(const std::string& server) {
  absl::StatusOr<HostPort> endpoint = ParseServer(server);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<Ref> ref = admin::AdminRef(endpoint->ToString());
  if (!ref.ok()) return ref.status();
  auto target = std::make_unique<AdminTarget>();
  target->endpoint = *endpoint;
  target->stub = std::make_unique<admin::AdminStub>(target->client, *ref);
  return target;
}

// Reports a failed admin call; an admin object that is not there is named.
int AdminFailed(const Options& options, const AdminTarget& target, const absl::Status& status) {
  if (ErrorKindOf(status) == ErrorKind::kObjectNotExist) {
    return Fail(options, target.endpoint.ToString(),
                absl::NotFoundError("this server does not host the admin object "
                                    "(korb::admin::Serve, docs/operations.md)"),
                kCallFailed);
  }
  return Fail(options, target.endpoint.ToString(), status,
              CodeFor(options, status, target.endpoint));
}

void PrintMetrics(const Options& options, const std::vector<admin::AdapterMetrics>& all) {
  if (options.json) {
    for (const admin::AdapterMetrics& m : all) *options.out << Json(m) << "\n";
    return;
  }
  Table table({"ADAPTER", "CALLS", "ERRORS", "CANCELLED", "P50_US", "P90_US", "P99_US", "RUNNING",
               "QUEUED", "HELD", "THREADS", "TLP", "OBJECTS"});
  for (const admin::AdapterMetrics& m : all) {
    table.AddRow({m.adapter(), absl::StrCat(m.calls()), absl::StrCat(m.errors()),
                  absl::StrCat(m.cancelled()), absl::StrFormat("%.0f", m.latency().p50_us()),
                  absl::StrFormat("%.0f", m.latency().p90_us()),
                  absl::StrFormat("%.0f", m.latency().p99_us()), absl::StrCat(m.running_calls()),
                  absl::StrCat(m.queued()), absl::StrCat(m.held_calls()), absl::StrCat(m.threads()),
                  absl::StrFormat("%.2f", m.tlp()), absl::StrCat(m.active_objects())});
  }
  table.Print(*options.out);
}

}  // namespace

int Call(const Options& options, const std::string& reference, const std::string& operation,
         const std::string& request_json, const CallFlags& flags) {
  absl::StatusOr<Ref> ref = Ref::Parse(reference);
  if (!ref.ok()) return Fail(options, "bad reference", ref.status(), kUsage);
  if (ref->type().empty()) {
    if (flags.type.empty()) {
      return Fail(
          options, "bad reference",
          absl::InvalidArgumentError("it names no interface (?type=package.Service); pass --type"),
          kUsage);
    }
    ref->set_type(flags.type);
  }
  CallOptions call = WithTimeout(options);
  call.priority = flags.priority;
  call.metadata = flags.metadata;
  // The descriptors live in `reflection`, which must outlive `client`.
  std::unique_ptr<ReflectionClient> reflection;
  std::unique_ptr<DynamicInterface> interface;
  Client client;
  // An indirect reference's descriptors come from the server its name
  // resolves to; the call itself goes by the name, as a stub's would.
  Ref direct = *ref;
  if (ref->is_indirect()) {
    absl::StatusOr<Ref> resolved = korb::Resolve(client, *ref, call);
    if (!resolved.ok()) {
      return Fail(options, absl::StrCat("resolving ", reference), resolved.status(),
                  CodeFor(options, resolved.status(), ref->endpoints().front()));
    }
    direct = *resolved;
  }
  const HostPort& endpoint = direct.endpoints().front();
  reflection = std::make_unique<ReflectionClient>(
      grpc::CreateChannel(endpoint.ToString(), grpc::InsecureChannelCredentials()),
      options.timeout);
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> service =
      reflection->FindService(ref->type());
  if (!service.ok()) {
    if (absl::IsNotFound(service.status())) {
      return Fail(options, endpoint.ToString(),
                  absl::NotFoundError(absl::StrCat("unknown interface '", ref->type(), "'")),
                  kUsage);
    }
    return Fail(options, absl::StrCat(endpoint.ToString(), ": server reflection"), service.status(),
                CodeFor(options, service.status(), endpoint));
  }
  interface = DynamicInterface::Make(**service);
  if ((*service)->FindMethodByName(operation) == nullptr) {
    absl::StatusOr<std::string> unknown =
        CallJson(client, *interface, *ref, operation, request_json, call);
    return Fail(options, "unknown operation", unknown.status(), kUsage);
  }
  absl::StatusOr<std::string> reply =
      CallJson(client, *interface, *ref, operation, request_json, call);
  if (!reply.ok()) {
    if (absl::IsInvalidArgument(reply.status()) &&
        absl::StartsWith(reply.status().message(), "request is not")) {
      return Fail(options, "bad request", reply.status(), kUsage);
    }
    return Fail(options, absl::StrCat(ref->type(), "/", operation), reply.status(),
                CodeFor(options, reply.status(), endpoint));
  }
  // A reference reads best in its string form, which other commands take.
  if (!options.json &&
      (*service)->FindMethodByName(operation)->output_type()->full_name() == "korb.ObjectRef") {
    korb::ObjectRef proto;
    if (google::protobuf::util::JsonStringToMessage(*reply, &proto).ok()) {
      if (absl::StatusOr<Ref> returned = Ref::FromProto(proto); returned.ok()) {
        *options.out << returned->ToString() << "\n";
        return kOk;
      }
    }
  }
  *options.out << *reply << "\n";
  return kOk;
}

int ShutdownServer(const Options& options, const std::string& server, int grace_ms) {
  absl::StatusOr<std::unique_ptr<AdminTarget>> admin = ConnectAdmin(server);
  if (!admin.ok()) return Fail(options, "bad server", admin.status(), kUsage);
  admin::ShutdownServerRequest request;
  request.set_grace_ms(grace_ms);
  absl::StatusOr<korb::Empty> done = (*admin)->stub->ShutdownServer(request, WithTimeout(options));
  if (!done.ok()) return AdminFailed(options, **admin, done.status());
  if (!options.json) *options.out << (*admin)->endpoint.ToString() << ": shutting down\n";
  return kOk;
}

int Ping(const Options& options, const std::string& target) {
  std::vector<HostPort> endpoints;
  if (absl::StrContains(target, "://")) {
    absl::StatusOr<Ref> ref = Ref::Parse(target);
    if (!ref.ok()) return Fail(options, "bad reference", ref.status(), kUsage);
    endpoints = ref->endpoints();
  } else {
    absl::StatusOr<HostPort> endpoint = ParseServer(target);
    if (!endpoint.ok()) return Fail(options, "bad server", endpoint.status(), kUsage);
    endpoints = {*endpoint};
  }
  int code = kOk;
  Table table({"ENDPOINT", "STATUS", "KORB", "PID", "UPTIME_S", "ADAPTERS"});
  for (const HostPort& endpoint : endpoints) {
    absl::StatusOr<std::unique_ptr<AdminTarget>> admin = ConnectAdmin(endpoint.ToString());
    if (!admin.ok()) return Fail(options, "bad server", admin.status(), kUsage);
    const absl::Time start = absl::Now();
    absl::StatusOr<admin::ServerInfo> info =
        (*admin)->stub->GetServerInfo(korb::Empty(), WithTimeout(options));
    const double rtt_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    std::string status;
    if (info.ok()) {
      status = absl::StrFormat("ok %.1fms", rtt_ms);
    } else if (ErrorKindOf(info.status()) == ErrorKind::kObjectNotExist) {
      status = "ok (no admin object)";
    } else if (ErrorKindOf(info.status()) != ErrorKind::kNone) {
      // A Korb server answered, e.g. transient within its start-up window.
      status = absl::StrCat("ok (no admin object now: ", info.status().message(), ")");
    } else if (CodeFor(options, info.status(), endpoint) == kUnreachable) {
      status = "unreachable";
      code = kUnreachable;
    } else {
      status = absl::StrCat("error: ", info.status().ToString());
      if (code == kOk) code = kCallFailed;
    }
    if (options.json) {
      *options.out << absl::StrCat("{\"endpoint\":\"", endpoint.ToString(), "\",\"status\":\"",
                                   status, "\"", info.ok() ? ",\"server\":" + Json(*info) : "",
                                   "}\n");
      continue;
    }
    table.AddRow({endpoint.ToString(), status, info.ok() ? info->korb_version() : "",
                  info.ok() ? absl::StrCat(info->pid()) : "",
                  info.ok() ? absl::StrFormat("%.0f", info->uptime_ms() / 1000.0) : "",
                  info.ok() ? absl::StrJoin(info->adapters(), ",") : ""});
  }
  if (!options.json) table.Print(*options.out);
  return code;
}

int Services(const Options& options, const std::string& server) {
  absl::StatusOr<HostPort> endpoint = ParseServer(server);
  if (!endpoint.ok()) return Fail(options, "bad server", endpoint.status(), kUsage);
  ReflectionClient reflection(
      grpc::CreateChannel(endpoint->ToString(), grpc::InsecureChannelCredentials()),
      options.timeout);
  absl::StatusOr<std::vector<std::string>> services = reflection.ListServices();
  if (!services.ok()) {
    return Fail(options, absl::StrCat(endpoint->ToString(), ": server reflection"),
                services.status(), CodeFor(options, services.status(), *endpoint));
  }
  for (const std::string& service : *services) {
    *options.out << (options.json ? absl::StrCat("\"", service, "\"") : service) << "\n";
  }
  return kOk;
}

int List(const Options& options, const std::string& server, const std::string& adapter, int limit) {
  absl::StatusOr<std::unique_ptr<AdminTarget>> admin = ConnectAdmin(server);
  if (!admin.ok()) return Fail(options, "bad server", admin.status(), kUsage);
  if (adapter.empty()) {
    absl::StatusOr<admin::ListAdaptersReply> reply =
        (*admin)->stub->ListAdapters(korb::Empty(), WithTimeout(options));
    if (!reply.ok()) return AdminFailed(options, **admin, reply.status());
    if (options.json) {
      for (const admin::AdapterInfo& info : reply->adapters()) *options.out << Json(info) << "\n";
      return kOk;
    }
    Table table({"ADAPTER", "STATE", "THREADING", "OBJECTS", "LIFESPAN"});
    for (const admin::AdapterInfo& info : reply->adapters()) {
      table.AddRow({info.name(), StateName(info.state()), PolicyText(info.threading()),
                    absl::StrCat(info.active_objects()),
                    info.persistent() ? "persistent" : "transient"});
    }
    table.Print(*options.out);
    return kOk;
  }
  Table table({"ID", "TYPE", "REFERENCE"});
  admin::ListObjectsRequest request;
  request.set_adapter(adapter);
  int listed = 0;
  for (int page = 0; page < kMaxPages && listed < limit; ++page) {
    request.set_page_size(std::min(limit - listed, 1000));
    absl::StatusOr<admin::ListObjectsReply> reply =
        (*admin)->stub->ListObjects(request, WithTimeout(options));
    if (!reply.ok()) return AdminFailed(options, **admin, reply.status());
    for (const admin::ObjectInfo& object : reply->objects()) {
      ++listed;
      if (options.json) {
        *options.out << Json(object) << "\n";
        continue;
      }
      absl::StatusOr<Ref> ref = Ref::FromProto(object.ref());
      table.AddRow({object.id(), object.type(), ref.ok() ? ref->ToString() : ""});
    }
    if (reply->next_page_token().empty()) break;
    request.set_page_token(reply->next_page_token());
  }
  if (!options.json) table.Print(*options.out);
  return kOk;
}

int Stats(const Options& options, const std::string& server, const std::string& adapter,
          absl::Duration interval, int count) {
  absl::StatusOr<std::unique_ptr<AdminTarget>> admin = ConnectAdmin(server);
  if (!admin.ok()) return Fail(options, "bad server", admin.status(), kUsage);
  for (int round = 0; count == 0 || round < count; ++round) {
    if (round > 0) {
      absl::SleepFor(interval);
      if (!options.json) *options.out << "\n";
    }
    std::vector<std::string> adapters = {adapter};
    if (adapter.empty()) {
      absl::StatusOr<admin::ServerInfo> info =
          (*admin)->stub->GetServerInfo(korb::Empty(), WithTimeout(options));
      if (!info.ok()) return AdminFailed(options, **admin, info.status());
      adapters.assign(info->adapters().begin(), info->adapters().end());
    }
    std::vector<admin::AdapterMetrics> all;
    for (const std::string& name : adapters) {
      admin::AdapterRequest request;
      request.set_adapter(name);
      absl::StatusOr<admin::AdapterMetrics> metrics =
          (*admin)->stub->GetMetrics(request, WithTimeout(options));
      // An adapter listed a moment ago cannot go away (adapters live as
      // long as their server), so any error is the call's.
      if (!metrics.ok()) return AdminFailed(options, **admin, metrics.status());
      all.push_back(*std::move(metrics));
    }
    PrintMetrics(options, all);
    options.out->flush();
  }
  return kOk;
}

int AdapterControl(const Options& options, const std::string& action, const std::string& server,
                   const std::string& adapter, int grace_ms) {
  absl::StatusOr<std::unique_ptr<AdminTarget>> admin = ConnectAdmin(server);
  if (!admin.ok()) return Fail(options, "bad server", admin.status(), kUsage);
  admin::AdapterRequest request;
  request.set_adapter(adapter);
  const CallOptions call = WithTimeout(options);
  absl::StatusOr<admin::AdapterInfo> info;
  if (action == "hold") {
    info = (*admin)->stub->Hold(request, call);
  } else if (action == "discard") {
    info = (*admin)->stub->Discard(request, call);
  } else if (action == "resume") {
    info = (*admin)->stub->Resume(request, call);
  } else if (action == "shutdown") {
    admin::ShutdownAdapterRequest shutdown;
    shutdown.set_adapter(adapter);
    shutdown.set_grace_ms(grace_ms);
    CallOptions longer = call;
    longer.timeout = options.timeout + absl::Milliseconds(grace_ms);
    absl::StatusOr<admin::ShutdownAdapterReply> reply =
        (*admin)->stub->ShutdownAdapter(shutdown, longer);
    if (!reply.ok()) return AdminFailed(options, **admin, reply.status());
    info = (*admin)->stub->GetAdapter(request, call);
  } else {
    return Fail(options, "usage",
                absl::InvalidArgumentError(absl::StrCat("unknown adapter action '", action,
                                                        "' (hold, discard, resume, shutdown)")),
                kUsage);
  }
  if (!info.ok()) return AdminFailed(options, **admin, info.status());
  if (options.json) {
    *options.out << Json(*info) << "\n";
  } else {
    *options.out << info->name() << ": " << StateName(info->state()) << "\n";
  }
  return kOk;
}

int Resolve(const Options& options, const std::string& naming, const std::string& name) {
  absl::StatusOr<Ref> ref = Ref::Parse(naming);
  if (!ref.ok()) return Fail(options, "bad naming reference", ref.status(), kUsage);
  Client client;
  naming::NamingContextStub stub(client, *ref);
  if (!stub.korb_status().ok()) {
    return Fail(options, "bad naming reference", stub.korb_status(), kUsage);
  }
  naming::NameRequest request;
  request.set_name(name);
  absl::StatusOr<naming::ResolveReply> reply = stub.Resolve(request, WithTimeout(options));
  if (!reply.ok()) {
    return Fail(options, absl::StrCat("resolving '", name, "'"), reply.status(),
                CodeFor(options, reply.status(), ref->endpoints().front()));
  }
  if (options.json) {
    *options.out << Json(*reply) << "\n";
    return kOk;
  }
  absl::StatusOr<Ref> resolved = Ref::FromProto(reply->ref());
  *options.out << (resolved.ok() ? resolved->ToString() : "(invalid reference)") << "\n";
  return kOk;
}

int Names(const Options& options, const std::string& naming, const std::string& prefix) {
  absl::StatusOr<Ref> ref = Ref::Parse(naming);
  if (!ref.ok()) return Fail(options, "bad naming reference", ref.status(), kUsage);
  Client client;
  naming::NamingContextStub stub(client, *ref);
  if (!stub.korb_status().ok()) {
    return Fail(options, "bad naming reference", stub.korb_status(), kUsage);
  }
  naming::ListRequest request;
  request.set_prefix(prefix);
  Table table({"NAME", "MEMBERS", "REFERENCE"});
  for (int page = 0; page < kMaxPages; ++page) {
    absl::StatusOr<naming::ListReply> reply = stub.List(request, WithTimeout(options));
    if (!reply.ok()) {
      return Fail(options, "listing names", reply.status(),
                  CodeFor(options, reply.status(), ref->endpoints().front()));
    }
    for (const naming::Binding& binding : reply->bindings()) {
      if (options.json) {
        *options.out << Json(binding) << "\n";
        continue;
      }
      std::string first;
      if (binding.members_size() > 0) {
        absl::StatusOr<Ref> member = Ref::FromProto(binding.members(0).ref());
        if (member.ok()) first = member->ToString();
      }
      table.AddRow({binding.name(), absl::StrCat(binding.members_size()), first});
    }
    if (reply->next_page_token().empty()) break;
    request.set_page_token(reply->next_page_token());
  }
  if (!options.json) table.Print(*options.out);
  return kOk;
}

}  // namespace korb::ctl
