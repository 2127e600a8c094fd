// greeter_client <reference> <name>: calls Greet on the object and prints the reply.
#include <cstdlib>
#include <iostream>

#include <korb/client/client.h>

#include "greeter.korb.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: greeter_client <reference> <name>" << std::endl;
    return EXIT_FAILURE;
  }
  korb::Client client;
  absl::StatusOr<greeter::GreeterStub> greeter =
      korb::MakeStub<greeter::GreeterStub>(client, argv[1]);
  if (!greeter.ok()) {
    std::cerr << "greeter_client: " << greeter.status() << std::endl;
    return EXIT_FAILURE;
  }
  greeter::GreetRequest request;
  request.set_name(argv[2]);
  absl::StatusOr<greeter::GreetReply> reply = greeter->Greet(request, {.timeout = absl::Seconds(30)});
  if (!reply.ok()) {
    std::cerr << "greeter_client: " << reply.status() << std::endl;
    return EXIT_FAILURE;
  }
  std::cout << reply->text() << std::endl;
  return EXIT_SUCCESS;
}
