# Strict warnings for the project's own targets only; generated proto code and
# third-party headers are compiled without them.
function(etcdgrpc_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wnon-virtual-dtor)
endfunction()
