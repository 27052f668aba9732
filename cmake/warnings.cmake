# Per-target warnings; NPIO_WERROR turns them into errors (on in CI, off for users).
function(npio_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports std::string concatenation at -O2/-O3 as overlapping memcpy
    # (a false positive, GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(NPIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
