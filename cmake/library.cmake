# etcdgrpc_library(target EXPORT_NAME name): the settings every installed
# library shares. Static or shared as BUILD_SHARED_LIBS says; a shared one
# exports only what the public headers mark ETCDGRPC_EXPORT (etcdgrpc/export.h,
# generated once for the three libraries: on ELF, exporting and importing a
# symbol are the same attribute) and is versioned (SOVERSION: the minor version while the major one is 0,
# since 0.x releases may break the ABI).
include(GenerateExportHeader)

set(ETCDGRPC_GENERATED_INCLUDE ${PROJECT_BINARY_DIR}/include)
set(ETCDGRPC_SOVERSION ${PROJECT_VERSION_MAJOR})
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(ETCDGRPC_SOVERSION 0.${PROJECT_VERSION_MINOR})
endif()

function(etcdgrpc_library target)
  cmake_parse_arguments(L "" "EXPORT_NAME" "" ${ARGN})
  add_library(etcdgrpc::${L_EXPORT_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${L_EXPORT_NAME}
    OUTPUT_NAME etcdgrpc_${L_EXPORT_NAME}
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    VERSION ${PROJECT_VERSION}
    SOVERSION ${ETCDGRPC_SOVERSION}
    # Installed shared libraries find their siblings (the grpc.health.v1 stubs
    # the registry and the resolver load) wherever the prefix is.
    INSTALL_RPATH "$ORIGIN")
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${ETCDGRPC_GENERATED_INCLUDE}>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    # Internal headers are spelled from the project root ("lib/internal/…").
    PRIVATE ${PROJECT_SOURCE_DIR})
  etcdgrpc_strict_warnings(${target})
endfunction()
