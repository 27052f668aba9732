// A check for the guide's examples: prints what failed and exits 1.
#pragma once

#include <cstdio>
#include <cstdlib>

#define GUIDE_CHECK(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)
