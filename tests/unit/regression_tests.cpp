// Regressions, each named after its cause, with the minimized input inline.
#include <gtest/gtest.h>
#include <npio/npio.hpp>

// Found by fuzzing: a dtype string that is only a unit ("[ortrar||") indexed an
// empty kind (undefined behaviour) and threw std::out_of_range instead of npio::error.
TEST(Regression, DtypeStringWithOnlyAUnitIsBadDescr) {
  try {
    (void)npio::dtype::from_descr("'[ortrar''||'");
    FAIL() << "accepted";
  } catch (const npio::error& e) {
    EXPECT_EQ(e.code(), npio::errc::bad_descr);
    EXPECT_STREQ(e.what(), "data type '[ortrar||' not understood");
  }
  EXPECT_THROW((void)npio::dtype::parse("[ns]"), npio::error);
  EXPECT_THROW((void)npio::dtype::parse("<[ns]"), npio::error);
}
