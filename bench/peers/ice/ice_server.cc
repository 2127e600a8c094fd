// peer_ice_server: the peer benchmark's ZeroC Ice 3.7 server process (C++11
// mapping). One object adapter on loopback TCP, one echo servant; prints the
// servant's proxy and serves until SIGTERM.
//
//   peer_ice_server [--threads N]
//
// Without --threads, Ice's default server thread pool (Ice.ThreadPool.Server:
// one thread, which reads a request and dispatches it); with it, a pool of N
// threads (Size = SizeMax = N): Ice's leader/follower pool lets one thread
// read the connection while others dispatch.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <Ice/Ice.h>

#include "bench/peers/peer_server.h"
#include "echo.h"

namespace {

class EchoerServant : public peerbench::Echoer {
 public:
  peerbench::Bytes echo(peerbench::Bytes payload, const Ice::Current&) override {
    return payload;
  }
};

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals = korb::bench::peers::BlockTerminationSignals();
  int threads = 0;  // Ice's default
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
      if (threads < 1 || threads > 256) threads = -1;
    } else {
      threads = -1;
    }
    if (threads < 0) {
      std::cerr << "usage: peer_ice_server [--threads 1..256]" << std::endl;
      return EXIT_FAILURE;
    }
  }
  try {
    Ice::InitializationData init;
    init.properties = Ice::createProperties();
    if (threads > 0) {
      init.properties->setProperty("Ice.ThreadPool.Server.Size", std::to_string(threads));
      init.properties->setProperty("Ice.ThreadPool.Server.SizeMax", std::to_string(threads));
    }
    Ice::CommunicatorHolder communicator(init);
    std::shared_ptr<Ice::ObjectAdapter> adapter =
        communicator->createObjectAdapterWithEndpoints("Echo", "tcp -h 127.0.0.1 -p 0");
    std::shared_ptr<Ice::ObjectPrx> proxy =
        adapter->add(std::make_shared<EchoerServant>(), Ice::stringToIdentity("echo"));
    adapter->activate();
    korb::bench::peers::PrintEndpoint(communicator->proxyToString(proxy));
    korb::bench::peers::WaitForTermination(signals);
  } catch (const Ice::Exception& e) {
    std::cerr << "peer_ice_server: " << e << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;  // the holder destroys the communicator
}
