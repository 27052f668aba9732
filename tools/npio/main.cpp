// Placeholder until the CLI lands (replaced by the CLI work).
#include <cstdio>
int main() {
  std::fputs("npio: the command-line tool is not built yet\n", stderr);
  return 1;
}
