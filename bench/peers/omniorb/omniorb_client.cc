// peer_omniorb_client: the peer benchmark's omniORB 4.2 client process,
// driven by bench/peers/peer_bench through peer_client.h's protocol. Every
// thread calls one object reference with omniORB's client defaults: one call
// per connection at a time, up to 5 connections to a server
// (maxGIOPConnectionPerServer), further calls wait for a free one.
//
//   peer_omniorb_client [--unix-only] --target IOR
//
// --unix-only keeps the client off TCP (clientTransportRule "* unix"), so
// that a Unix-socket row cannot silently measure loopback TCP.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <omniORB4/CORBA.h>

#include "bench/peers/peer_client.h"
#include "echo.hh"

int main(int argc, char** argv) {
  std::string target;
  bool unix_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--target" && i + 1 < argc) {
      target = argv[++i];
    } else if (arg == "--unix-only") {
      unix_only = true;
    } else {
      target.clear();
      break;
    }
  }
  if (target.empty()) {
    std::cerr << "usage: peer_omniorb_client [--unix-only] --target IOR" << std::endl;
    return EXIT_FAILURE;
  }
  const char* options[][2] = {{unix_only ? "clientTransportRule" : nullptr, "* unix"},
                              {nullptr, nullptr}};
  try {
    int orb_argc = 1;
    CORBA::ORB_var orb = CORBA::ORB_init(orb_argc, argv, "omniORB4", options);
    CORBA::Object_var object = orb->string_to_object(target.c_str());
    peerbench::Echoer_var echoer = peerbench::Echoer::_narrow(object);
    if (CORBA::is_nil(echoer)) {
      std::cerr << "peer_omniorb_client: the IOR is no peerbench::Echoer" << std::endl;
      return EXIT_FAILURE;
    }
    peerbench::Echoer_ptr shared = echoer.in();
    int code = korb::bench::peers::ServeDriver([shared](int, size_t payload) {
      auto request = std::make_shared<peerbench::Bytes>();
      request->length(static_cast<CORBA::ULong>(payload));
      for (CORBA::ULong i = 0; i < payload; ++i) (*request)[i] = 'k';
      return korb::bench::ClientLoop{.call = [shared, request, payload] {
        try {
          peerbench::Bytes_var reply = shared->echo(*request);
          return reply->length() == payload;
        } catch (const CORBA::Exception& e) {
          std::cerr << "peer_omniorb_client: CORBA exception " << e._name() << std::endl;
          return false;
        }
      }};
    });
    orb->destroy();
    return code;
  } catch (const CORBA::Exception& e) {
    std::cerr << "peer_omniorb_client: CORBA exception " << e._name() << std::endl;
    return EXIT_FAILURE;
  }
}
