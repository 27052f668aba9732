# ctest: cmake -DSOURCE_DIR=<npio source> -DBINARY_DIR=<npio build> -DWORK_DIR=<scratch> -P run.cmake
#
# Installs the npio build into WORK_DIR/prefix, configures and builds the
# consumer project (tests/consumer) against it with find_package(npio), and
# runs it. Any failure fails the test.
foreach(var SOURCE_DIR BINARY_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
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

run("install" ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})

if(NOT EXISTS ${prefix}/include/npio/npio.hpp)
  message(FATAL_ERROR "consumer test: the install has no include/npio/npio.hpp")
endif()
file(GLOB_RECURSE config_files ${prefix}/*/npio-config.cmake)
if(NOT config_files)
  message(FATAL_ERROR "consumer test: the install has no npio-config.cmake")
endif()

set(generator_args)
find_program(ninja_exe ninja)
if(ninja_exe)
  set(generator_args -G Ninja)
endif()
run("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${build} ${generator_args}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run("build" ${CMAKE_COMMAND} --build ${build})

find_program(consumer_exe consumer PATHS ${build} ${build}/Release NO_DEFAULT_PATH REQUIRED)
run("run" ${consumer_exe} ${WORK_DIR}/out)
message(STATUS "${last_output}")

if(NOT EXISTS ${WORK_DIR}/out.npy)
  message(FATAL_ERROR "consumer test: the consumer did not write out.npy")
endif()
# The file the consumer wrote is a NumPy file: NumPy (Debian's, the test
# oracle) must read it. Without python3-numpy this last check cannot run.
set(python /usr/bin/python3)
execute_process(COMMAND ${python} -c "import numpy" RESULT_VARIABLE no_numpy OUTPUT_QUIET ERROR_QUIET)
if(no_numpy EQUAL 0)
  run("numpy check" ${python} -c
      "import numpy as np, sys; a = np.load(sys.argv[1]); assert a.shape == (2, 3) and a.dtype == '<f8' and a[1, 2] == 6.0, a"
      ${WORK_DIR}/out.npy)
endif()
