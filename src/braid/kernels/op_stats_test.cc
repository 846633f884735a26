#include "braid/kernels/op_stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace braid {
namespace {

using std::chrono::microseconds;
using ::testing::HasSubstr;

TEST(OpStatsTest, SumsByOpAndFirstInputShapeLongestFirst) {
  OpStats stats;
  stats.Record("MatMul", "[128,784]", microseconds(3000));
  stats.Record("Const", "", microseconds(500));
  stats.Record("MatMul", "[1000,784]", microseconds(2000));
  stats.Record("Const", "", microseconds(500));
  std::vector<OpStats::Row> rows = stats.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].op, "MatMul");
  EXPECT_EQ(rows[0].first_input_shape, "[128,784]");
  EXPECT_EQ(rows[1].first_input_shape, "[1000,784]");
  EXPECT_EQ(rows[2].op, "Const");
  EXPECT_EQ(rows[2].calls, 2);
  EXPECT_EQ(rows[2].total, microseconds(1000));
}

TEST(OpStatsTest, TableGivesSharesAndSumsTheRowsLeftOut) {
  OpStats stats;
  stats.Record("A", "[1]", microseconds(3000));
  stats.Record("B", "", microseconds(500));
  stats.Record("B", "", microseconds(500));
  stats.Record("C", "[2]", microseconds(2000));
  const std::string table = stats.Table(2);
  EXPECT_THAT(table, HasSubstr("50.0%"));     // A: 3 of 6 ms
  EXPECT_THAT(table, HasSubstr("33.3%"));     // C
  EXPECT_THAT(table, HasSubstr("(1 more)"));  // B, 2 calls, 16.7%
  EXPECT_THAT(table, HasSubstr("16.7%"));
  EXPECT_THAT(table, HasSubstr("6.0\n"));  // all kernels: 6 ms
  EXPECT_LT(table.find("A "), table.find("C "));
  stats.Clear();
  EXPECT_TRUE(stats.Rows().empty());
}

}  // namespace
}  // namespace braid
