# Strict warnings for the project's own targets only; generated proto code and
# third-party headers are compiled without them. Warnings are errors only in
# the project's own builds (ETCDGRPC_WERROR, set by ./dev and CI): a consumer's
# newer or older compiler may warn where ours does not.
function(etcdgrpc_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wnon-virtual-dtor)
  if(ETCDGRPC_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations.
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()
