# ctest: cmake -DSOURCE_DIR=<npio source> -DBINARY_DIR=<npio build> -DWORK_DIR=<scratch>
#              [-DLAUNCHER=ccache] [-DCXX=<compiler>] -P run.cmake
#
# Builds tests/consumer against installed npio packages, from clean prefixes,
# two ways each: CMake's find_package(npio) and pkg-config (npio.pc).
#   static: the npio build under test (BINARY_DIR), installed into WORK_DIR/static.
#   shared: a plain configure of SOURCE_DIR with -DBUILD_SHARED_LIBS=ON (no
#           developer options: it must need neither GTest nor nlohmann_json),
#           built and installed into WORK_DIR/shared; then configured again
#           with -DNPIO_JSON=ON and installed beside it (libnpio_json.so).
# Both shared libraries must export npio's symbols only.
# Each consumer runs, and NumPy (Debian's, the test oracle) reads what it wrote.
foreach(var SOURCE_DIR BINARY_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(generator_args)
find_program(ninja_exe ninja)
if(ninja_exe)
  set(generator_args -G Ninja)
endif()
set(tool_args)
if(LAUNCHER)
  list(APPEND tool_args -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
if(CXX)
  list(APPEND tool_args -DCMAKE_CXX_COMPILER=${CXX})
else()
  find_program(CXX NAMES c++ g++ REQUIRED)
endif()
find_program(pkg_config pkg-config REQUIRED)
set(python /usr/bin/python3)
execute_process(COMMAND ${python} -c "import numpy" RESULT_VARIABLE no_numpy OUTPUT_QUIET ERROR_QUIET)

function(check_output kind file)
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "consumer test (${kind}): the consumer did not write ${file}")
  endif()
  if(no_numpy EQUAL 0)
    run("${kind}: numpy reads ${file}" ${python} -c
        "import numpy as np, sys; a = np.load(sys.argv[1]); assert a.shape == (3, 3) and a.dtype == '<f8' and a[1, 2] == 6.0 and a[2, 0] == 7.0, a"
        ${file})
  endif()
endfunction()

# Builds and runs the consumer against the package installed in `prefix`.
function(check_prefix kind prefix)
  if(NOT EXISTS ${prefix}/include/npio/npio.hpp)
    message(FATAL_ERROR "consumer test (${kind}): the install has no include/npio/npio.hpp")
  endif()
  file(GLOB_RECURSE pc_files ${prefix}/*/npio.pc)
  file(GLOB_RECURSE config_files ${prefix}/*/npio-config.cmake)
  if(NOT pc_files OR NOT config_files)
    message(FATAL_ERROR "consumer test (${kind}): the install lacks npio.pc or npio-config.cmake")
  endif()

  # 1. find_package(npio)
  set(build ${WORK_DIR}/${kind}-cmake)
  run("${kind}: configure (find_package)" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer
      -B ${build} ${generator_args} ${tool_args} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_BUILD_TYPE=Release)
  run("${kind}: build (find_package)" ${CMAKE_COMMAND} --build ${build})
  find_program(exe_${kind} consumer PATHS ${build} NO_DEFAULT_PATH NO_CACHE REQUIRED)
  run("${kind}: run (find_package)" ${exe_${kind}} ${build}/out)
  message(STATUS "${last_output}")
  check_output("${kind} find_package" ${build}/out.npy)
  set(exe_cmake ${exe_${kind}})

  # 2. pkg-config: the compiler alone, with the flags npio.pc gives
  get_filename_component(pc_dir ${pc_files} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  set(static_flag)
  if(kind STREQUAL "static")
    set(static_flag --static)
  endif()
  run("${kind}: pkg-config" ${pkg_config} --cflags --libs ${static_flag} npio)
  string(STRIP "${last_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run("${kind}: pkg-config libdir" ${pkg_config} --variable=libdir npio)
  string(STRIP "${last_output}" libdir)
  set(pc_build ${WORK_DIR}/${kind}-pkgconfig)
  file(MAKE_DIRECTORY ${pc_build})
  run("${kind}: build (pkg-config)" ${CXX} -std=c++20 -O1 ${SOURCE_DIR}/tests/consumer/main.cpp
      -o ${pc_build}/consumer ${flags} -Wl,-rpath,${libdir})
  run("${kind}: run (pkg-config)" ${pc_build}/consumer ${pc_build}/out)
  check_output("${kind} pkg-config" ${pc_build}/out.npy)

  # The shared consumers load libnpio.so from the prefix; the static ones do not.
  foreach(exe ${exe_cmake} ${pc_build}/consumer)
    execute_process(COMMAND ldd ${exe} OUTPUT_VARIABLE deps)
    string(FIND "${deps}" "${prefix}/" at)
    if(kind STREQUAL "shared" AND at EQUAL -1)
      message(FATAL_ERROR "consumer test: ${exe} does not load libnpio.so from ${prefix}:\n${deps}")
    elseif(kind STREQUAL "static" AND NOT at EQUAL -1)
      message(FATAL_ERROR "consumer test: ${exe} loads a library from ${prefix}:\n${deps}")
    endif()
  endforeach()
endfunction()

# Static: the build under test.
run("static: install" ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/static)
check_prefix(static ${WORK_DIR}/static)

# Shared: a plain configure (library only) with BUILD_SHARED_LIBS=ON.
run("shared: configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/shared-build
    ${generator_args} ${tool_args} -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON)
run("shared: build" ${CMAKE_COMMAND} --build ${WORK_DIR}/shared-build)
run("shared: install" ${CMAKE_COMMAND} --install ${WORK_DIR}/shared-build --prefix ${WORK_DIR}/shared)
file(GLOB_RECURSE sonames ${WORK_DIR}/shared/*/libnpio.so.*)
if(NOT sonames)
  message(FATAL_ERROR "consumer test: the shared install has no versioned libnpio.so.*")
endif()
# The same build with the JSON component too (it needs nlohmann_json, which
# the plain configure above must not), installed beside it.
run("shared: configure with JSON" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/shared-build
    -DNPIO_JSON=ON)
run("shared: build with JSON" ${CMAKE_COMMAND} --build ${WORK_DIR}/shared-build)
# Into a clean prefix: install skips a file whose time matches to the second,
# and the export files of both configures can come within one second.
file(REMOVE_RECURSE ${WORK_DIR}/shared)
run("shared: install with JSON" ${CMAKE_COMMAND} --install ${WORK_DIR}/shared-build
    --prefix ${WORK_DIR}/shared)
# Only npio's symbols are exported (cmake/npio.map), by either library: not
# the standard library's instances, nor nlohmann/json's.
foreach(lib libnpio.so libnpio_json.so)
  execute_process(COMMAND nm -D --defined-only -C ${WORK_DIR}/shared-build/${lib}
                  OUTPUT_VARIABLE exported RESULT_VARIABLE nm_failed)
  if(nm_failed)
    message(FATAL_ERROR "consumer test: nm could not read ${lib}")
  endif()
  string(REGEX MATCHALL "\n[0-9a-f]+ [TtWwVvDdBbRru] [^\n]*" lines "${exported}")
  if(NOT lines)
    message(FATAL_ERROR "consumer test: ${lib} exports nothing")
  endif()
  foreach(line ${lines})
    if(NOT line MATCHES "npio::|NPIO_0")
      message(FATAL_ERROR "consumer test: ${lib} exports a foreign symbol:${line}")
    endif()
  endforeach()
endforeach()
check_prefix(shared ${WORK_DIR}/shared)
