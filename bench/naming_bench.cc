// naming_bench: the naming service on etcd against raw etcd, in one run.
//
// Starts a real etcd (the Debian binary, free ports of 127.0.0.1) and one
// `korb-naming --etcd` server as separate processes, binds one name, then
// measures closed-loop rows of --seconds each (in 4 rounds alternating korb
// and raw, so both meet the same load), 1 and --clients threads:
//   resolve  korb: NamingContext.Resolve through korb-naming (a Korb call to
//                  korb-naming, which does one etcd Range of the name's keys)
//            raw:  that same Range, sent by this process straight to etcd
//                  with plain gRPC
//   resolve_cached  korb: korb::Resolve of korbname://<korb-naming>/<name>
//                  in a Client that has resolved it before: what a stub on
//                  an indirect reference pays per call to know where its
//                  object is (the Client's cache, kept fresh by a watch)
//            raw:  the same etcd Range as above
//   rebind   korb: NamingContext.Rebind (korb-naming runs one etcd Txn:
//                  delete the name's members, put the new one)
//            raw:  one etcd Put of the same key and value with plain gRPC
// Prints one JSON object per row, then a ratio line per pair (korb / raw:
// p50, p99, calls per second). Skips with a JSON line saying so when etcd is
// not installed.
//
//   naming_bench [--seconds S] [--clients N]
//
// The default --seconds keeps a run at about a minute.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "bench/closed_loop.h"
#include "bench/percentile.h"
#include "client/client.h"
#include "client/resolve.h"
#include "etcd/rpc.grpc.pb.h"
#include "korb/naming.korb.h"
#include "tests/naming/naming_processes.h"

namespace {

using korb::naming::testing::EtcdProcess;
using korb::naming::testing::RefProcess;
using korb::naming::testing::StartWithRef;

struct Row {
  std::string op;
  std::string system;
  int clients = 0;
  long calls = 0;
  double calls_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

void Print(const Row& r) {
  std::cout << absl::StrFormat(
                   "{\"bench\":\"naming\",\"op\":\"%s\",\"system\":\"%s\",\"clients\":%d,"
                   "\"calls\":%d,\"calls_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f}",
                   r.op, r.system, r.clients, r.calls, r.calls_per_s, r.p50_us, r.p99_us)
            << std::endl;
}

void PrintRatio(const Row& korb, const Row& raw) {
  std::cout << absl::StrFormat(
                   "{\"bench\":\"naming\",\"op\":\"%s\",\"system\":\"ratio\",\"versus\":\"korb/raw\","
                   "\"clients\":%d,\"p50_ratio\":%.3f,\"p99_ratio\":%.3f,\"throughput_ratio\":%.3f}",
                   korb.op, korb.clients, korb.p50_us / raw.p50_us, korb.p99_us / raw.p99_us,
                   korb.calls_per_s / raw.calls_per_s)
            << std::endl;
}

using MakeClient = std::function<korb::bench::ClientLoop(int)>;

Row Summarize(const std::string& op, const std::string& system, int clients,
              korb::bench::Sample& sample) {
  std::sort(sample.latencies_us.begin(), sample.latencies_us.end());
  Row row;
  row.op = op;
  row.system = system;
  row.clients = clients;
  row.calls = static_cast<long>(sample.latencies_us.size());
  row.calls_per_s = row.calls / sample.seconds;
  row.p50_us = korb::bench::Percentile(sample.latencies_us, 0.50);
  row.p99_us = korb::bench::Percentile(sample.latencies_us, 0.99);
  Print(row);
  return row;
}

// Measures korb and raw for `seconds` each, in alternating rounds so that
// both meet the same load of this shared machine, and prints both rows and
// their ratio. Exits on a failed call (a benchmark of failing calls
// measures nothing).
void Compare(const std::string& op, int clients, double seconds, const MakeClient& korb,
             const MakeClient& raw) {
  constexpr int kRounds = 4;
  korb::bench::Sample korb_sample;
  korb::bench::Sample raw_sample;
  for (int round = 0; round < kRounds; ++round) {
    if (!korb::bench::RunClosedLoop(clients, seconds / kRounds, 0.25, korb, &korb_sample) ||
        !korb::bench::RunClosedLoop(clients, seconds / kRounds, 0.25, raw, &raw_sample)) {
      std::cerr << "naming_bench: a " << op << " call failed" << std::endl;
      std::exit(EXIT_FAILURE);
    }
  }
  const Row korb_row = Summarize(op, "korb", clients, korb_sample);
  const Row raw_row = Summarize(op, "raw", clients, raw_sample);
  PrintRatio(korb_row, raw_row);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 6;
  int clients = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (!(arg == "--seconds" && absl::SimpleAtod(argv[i + 1], &seconds)) &&
        !(arg == "--clients" && absl::SimpleAtoi(argv[i + 1], &clients))) {
      std::cerr << "usage: naming_bench [--seconds S] [--clients N]" << std::endl;
      return EXIT_FAILURE;
    }
  }
  if (!EtcdProcess::Binary()) {
    std::cout << "{\"bench\":\"naming\",\"skipped\":\"etcd is not installed "
                 "(apt-get install etcd-server)\"}"
              << std::endl;
    return EXIT_SUCCESS;
  }
  absl::StatusOr<EtcdProcess> etcd = EtcdProcess::Start();
  if (!etcd.ok()) {
    std::cerr << "naming_bench: " << etcd.status() << std::endl;
    return EXIT_FAILURE;
  }
  absl::StatusOr<RefProcess> naming = StartWithRef(KORB_NAMING_SERVER, {"--etcd", etcd->endpoint()});
  if (!naming.ok()) {
    std::cerr << "naming_bench: " << naming.status() << std::endl;
    return EXIT_FAILURE;
  }

  korb::Client client;
  korb::naming::NamingContextStub stub(client, naming->ref);
  korb::naming::BindRequest bind;
  bind.set_name("bench/bank");
  *bind.mutable_ref() =
      korb::Ref::Parse("korb://127.0.0.1:7000/bank/main?type=bank.Bank")->ToProto();
  if (absl::Status status = stub.Rebind(bind).status(); !status.ok()) {
    std::cerr << "naming_bench: " << status << std::endl;
    return EXIT_FAILURE;
  }
  korb::naming::NameRequest name;
  name.set_name(bind.name());

  // The raw side: what korb-naming itself asks etcd for (etcd_backend.h's
  // key layout), over one plain gRPC channel.
  auto channel = grpc::CreateChannel(etcd->endpoint(), grpc::InsecureChannelCredentials());
  std::unique_ptr<etcdserverpb::KV::Stub> kv = etcdserverpb::KV::NewStub(channel);
  etcdserverpb::RangeRequest range;
  range.set_key("/korb/names/bench/bank#");
  range.set_range_end("/korb/names/bench/bank$");
  korb::naming::Member member;
  *member.mutable_ref() = bind.ref();
  etcdserverpb::PutRequest put;
  put.set_key("/korb/names/bench/raw#");
  put.set_value(member.SerializeAsString());

  const auto korb_resolve = [&](int) {
    return korb::bench::ClientLoop{.call = [&] { return stub.Resolve(name).ok(); }};
  };
  const auto raw_range = [&](int) {
    return korb::bench::ClientLoop{.call = [&] {
      grpc::ClientContext context;
      etcdserverpb::RangeResponse response;
      return kv->Range(&context, range, &response).ok() && response.kvs_size() == 1;
    }};
  };
  const auto korb_rebind = [&](int) {
    return korb::bench::ClientLoop{.call = [&] { return stub.Rebind(bind).ok(); }};
  };
  const auto raw_put = [&](int) {
    return korb::bench::ClientLoop{.call = [&] {
      grpc::ClientContext context;
      etcdserverpb::PutResponse response;
      return kv->Put(&context, put, &response).ok();
    }};
  };

  for (int n : {1, clients}) Compare("resolve", n, seconds, korb_resolve, raw_range);

  const korb::Ref indirect =
      korb::Ref::Indirect("bank.Bank", naming->ref.endpoints(), bind.name());
  if (absl::StatusOr<korb::Ref> first = korb::Resolve(client, indirect); !first.ok()) {
    std::cerr << "naming_bench: " << first.status() << std::endl;
    return EXIT_FAILURE;
  }
  const auto korb_cached = [&](int) {
    return korb::bench::ClientLoop{.call = [&] { return korb::Resolve(client, indirect).ok(); }};
  };
  for (int n : {1, clients}) Compare("resolve_cached", n, seconds, korb_cached, raw_range);
  for (int n : {1, clients}) Compare("rebind", n, seconds, korb_rebind, raw_put);
  naming->process.Kill(SIGTERM);
  return EXIT_SUCCESS;
}
