# NPIO_SANITIZE builds with ASan and UBSan; UB aborts so a test cannot pass over it.
function(npio_set_sanitizers target)
  if(NPIO_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined
                                            -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
    target_compile_definitions(${target} PUBLIC _GLIBCXX_ASSERTIONS)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's flow analysis under -fsanitize reports std::optional<std::vector>
      # members as maybe-uninitialized (false positives; see GCC's manual).
      target_compile_options(${target} PUBLIC -Wno-maybe-uninitialized)
    endif()
  endif()
endfunction()
