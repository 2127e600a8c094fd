// peer_omniorb_server: the peer benchmark's omniORB 4.2 server process. One
// echo servant in the root POA, omniORB's default threading (a thread per
// connection); prints the object's IOR and serves until SIGTERM.
//
//   peer_omniorb_server [--endpoint giop:tcp:127.0.0.1: | giop:unix:/path]
//
// A Unix-socket server also listens on loopback TCP, as omniORB's IORs name a
// TCP address; its clients are told to use only the socket.
#include <cstdlib>
#include <iostream>
#include <string>

#include <omniORB4/CORBA.h>

#include "absl/strings/match.h"
#include "bench/peers/peer_server.h"
#include "echo.hh"

namespace {

class EchoerServant : public POA_peerbench::Echoer {
 public:
  peerbench::Bytes* echo(const peerbench::Bytes& payload) override {
    return new peerbench::Bytes(payload);
  }
};

}  // namespace

int main(int argc, char** argv) {
  sigset_t signals = korb::bench::peers::BlockTerminationSignals();
  std::string endpoint = "giop:tcp:127.0.0.1:";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--endpoint" && i + 1 < argc) {
      endpoint = argv[++i];
    } else {
      std::cerr << "usage: peer_omniorb_server [--endpoint giop:tcp:127.0.0.1: | giop:unix:/path]"
                << std::endl;
      return EXIT_FAILURE;
    }
  }
  const bool unix_socket = absl::StartsWith(endpoint, "giop:unix:");
  const char* options[][2] = {{"endPoint", endpoint.c_str()},
                              {unix_socket ? "endPoint" : nullptr, "giop:tcp:127.0.0.1:"},
                              {nullptr, nullptr}};
  try {
    int orb_argc = 1;
    CORBA::ORB_var orb = CORBA::ORB_init(orb_argc, argv, "omniORB4", options);
    CORBA::Object_var object = orb->resolve_initial_references("RootPOA");
    PortableServer::POA_var poa = PortableServer::POA::_narrow(object);
    EchoerServant* servant = new EchoerServant();
    PortableServer::ObjectId_var id = poa->activate_object(servant);
    CORBA::Object_var reference = poa->id_to_reference(id.in());
    servant->_remove_ref();  // the POA holds it now
    poa->the_POAManager()->activate();
    CORBA::String_var ior = orb->object_to_string(reference);
    korb::bench::peers::PrintEndpoint(ior.in());
    korb::bench::peers::WaitForTermination(signals);
    orb->destroy();
  } catch (const CORBA::Exception& e) {
    std::cerr << "peer_omniorb_server: CORBA exception " << e._name() << std::endl;
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
