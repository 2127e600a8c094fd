# The omniORB 4.2 server and client, only when omniidl and the omniORB4
# library are installed (`make bench-deps`).
find_program(KORB_OMNIIDL omniidl)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(KORB_OMNIORB4 QUIET IMPORTED_TARGET omniORB4)
endif()
if(KORB_OMNIIDL AND KORB_OMNIORB4_FOUND)
  set(omni_gen ${CMAKE_CURRENT_BINARY_DIR}/omniorb_gen)
  file(MAKE_DIRECTORY ${omni_gen})
  add_custom_command(
    OUTPUT ${omni_gen}/echoSK.cc ${omni_gen}/echo.hh
    COMMAND ${KORB_OMNIIDL} -bcxx -C${omni_gen} ${CMAKE_CURRENT_SOURCE_DIR}/omniorb/echo.idl
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/omniorb/echo.idl
    COMMENT "peer bench: omniidl echo.idl"
    VERBATIM)
  # Generated code: omniORB's warnings are not ours to fix.
  add_library(peer_omniorb_idl STATIC ${omni_gen}/echoSK.cc)
  target_include_directories(peer_omniorb_idl SYSTEM PUBLIC ${omni_gen})
  target_compile_options(peer_omniorb_idl PRIVATE -w)
  target_link_libraries(peer_omniorb_idl PUBLIC PkgConfig::KORB_OMNIORB4 Threads::Threads)

  korb_peer_programs(omniorb peer_omniorb_idl)
  message(STATUS "peer bench: omniORB found, building peer_omniorb_server and peer_omniorb_client")
else()
  message(STATUS "peer bench: omniORB 4.2 not found (make bench-deps); peer_bench skips it")
endif()
