# Per-target warnings; NPIO_WERROR turns them into errors (on in CI, off for users).
function(npio_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(NPIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
