// peer_ice_client: the peer benchmark's ZeroC Ice 3.7 client process (C++11
// mapping), driven by bench/peers/peer_bench through peer_client.h's
// protocol. Every thread calls the same proxy, so all share the
// communicator's one connection to the server (Ice's default), and replies
// are read by Ice's default client thread pool (one thread).
//
//   peer_ice_client --target PROXY
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <Ice/Ice.h>

#include "bench/peers/peer_client.h"
#include "echo.h"

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--target") {
    std::cerr << "usage: peer_ice_client --target PROXY" << std::endl;
    return EXIT_FAILURE;
  }
  try {
    Ice::CommunicatorHolder communicator(Ice::InitializationData{});
    std::shared_ptr<peerbench::EchoerPrx> echoer =
        Ice::checkedCast<peerbench::EchoerPrx>(communicator->stringToProxy(argv[2]));
    if (echoer == nullptr) {
      std::cerr << "peer_ice_client: " << argv[2] << " is no peerbench::Echoer" << std::endl;
      return EXIT_FAILURE;
    }
    return korb::bench::peers::ServeDriver([&](int, size_t payload) {
      auto request = std::make_shared<peerbench::Bytes>(payload, Ice::Byte{'k'});
      return korb::bench::ClientLoop{.call = [echoer, request, payload] {
        try {
          return echoer->echo(*request).size() == payload;
        } catch (const Ice::Exception& e) {
          std::cerr << "peer_ice_client: " << e << std::endl;
          return false;
        }
      }};
    });
  } catch (const Ice::Exception& e) {
    std::cerr << "peer_ice_client: " << e << std::endl;
    return EXIT_FAILURE;
  }
}
