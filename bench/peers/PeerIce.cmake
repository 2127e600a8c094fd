# The ZeroC Ice 3.7 server and client (C++11 mapping), only when slice2cpp
# and libIce++11 are installed (`make bench-deps`). Ice ships no pkg-config
# file (Debian's ice.pc is X11's ICE library).
find_program(KORB_SLICE2CPP slice2cpp)
find_library(KORB_ICE_LIBRARY Ice++11)
find_path(KORB_ICE_INCLUDE_DIR Ice/Ice.h)
if(KORB_SLICE2CPP AND KORB_ICE_LIBRARY AND KORB_ICE_INCLUDE_DIR)
  set(ice_gen ${CMAKE_CURRENT_BINARY_DIR}/ice_gen)
  file(MAKE_DIRECTORY ${ice_gen})
  add_custom_command(
    OUTPUT ${ice_gen}/echo.cpp ${ice_gen}/echo.h
    COMMAND ${KORB_SLICE2CPP} --output-dir ${ice_gen} ${CMAKE_CURRENT_SOURCE_DIR}/ice/echo.ice
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ice/echo.ice
    COMMENT "peer bench: slice2cpp echo.ice"
    VERBATIM)
  # Generated code: Ice's warnings are not ours to fix.
  add_library(peer_ice_idl STATIC ${ice_gen}/echo.cpp)
  target_include_directories(peer_ice_idl SYSTEM PUBLIC ${ice_gen} ${KORB_ICE_INCLUDE_DIR})
  target_compile_definitions(peer_ice_idl PUBLIC ICE_CPP11_MAPPING)
  target_compile_options(peer_ice_idl PRIVATE -w)
  target_link_libraries(peer_ice_idl PUBLIC ${KORB_ICE_LIBRARY} Threads::Threads)

  korb_peer_programs(ice peer_ice_idl)
  message(STATUS "peer bench: ZeroC Ice found, building peer_ice_server and peer_ice_client")
else()
  message(STATUS "peer bench: ZeroC Ice 3.7 not found (make bench-deps); peer_bench skips it")
endif()
