#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "braid/data/dataset.h"

namespace braid::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name + "." + std::to_string(getpid());
  EXPECT_TRUE(Env::Default()->WriteFileAtomically(path, contents).ok());
  return path;
}

CsvColumn Required(DType dtype) { return CsvColumn{dtype, Tensor()}; }
template <typename T>
CsvColumn WithDefault(T value) {
  return CsvColumn{DTypeOf<T>::value, Tensor::Scalar<T>(std::move(value))};
}

// Each row as its values' DebugStrings joined by '|', errors as "E:<message>".
std::vector<std::string> Rows(const DatasetPtr& ds) {
  std::vector<std::string> out;
  auto it = ds->MakeIterator();
  if (!it.ok()) return {absl::StrCat("E:", it.status().message())};
  for (int i = 0; i < 100; ++i) {
    Element e;
    bool end = false;
    absl::Status s = (*it)->GetNext(&e, &end);
    if (!s.ok()) {
      out.push_back(absl::StrCat("E:", s.message()));
      continue;
    }
    if (end) break;
    std::string row;
    for (const Tensor& t : e) {
      if (!row.empty()) row += "|";
      EXPECT_EQ(t.rank(), 0);
      row += t.DebugString();
    }
    out.push_back(row);
  }
  return out;
}

DatasetPtr Csv(const std::string& path, std::vector<CsvColumn> columns, bool header = false,
               char delim = ',') {
  auto ds = CsvDataset(path, std::move(columns), header, delim);
  EXPECT_TRUE(ds.ok()) << ds.status();
  return ds.ok() ? *ds : nullptr;
}

TEST(CsvDatasetTest, ParsesTypedColumnsAfterTheHeader) {
  std::string path = WriteTemp("typed.csv",
                               "id,big,x,y,name\n"
                               "1,10000000000,0.5,-2.25,alice\n"
                               "-7, 3 ,1e3,+4,bob\n");
  DatasetPtr ds = Csv(path,
                      {Required(DType::kInt32), Required(DType::kInt64), Required(DType::kFloat),
                       Required(DType::kDouble), Required(DType::kString)},
                      /*header=*/true);
  EXPECT_THAT(Rows(ds), ElementsAre("int32[] {1}|int64[] {10000000000}|float32[] {0.5}|"
                                    "float64[] {-2.25}|string[] {\"alice\"}",
                                    "int32[] {-7}|int64[] {3}|float32[] {1000}|float64[] {4}|"
                                    "string[] {\"bob\"}"));
  EXPECT_EQ(ds->DebugString(), absl::StrCat("Csv(", path, ")"));
}

TEST(CsvDatasetTest, QuotedFieldsEscapedQuotesAndLineBreaks) {
  std::string path = WriteTemp("quoted.csv",
                               "\"a, b\",1\r\n"
                               "\"she said \"\"hi\"\"\",2\r\n"
                               "\"two\nlines\",3\n"
                               "\n"
                               "\"\",4\n"
                               "plain \"inner\" quotes,5");  // no final line break
  std::vector<std::string> rows =
      Rows(Csv(path, {Required(DType::kString), Required(DType::kInt64)}));
  EXPECT_THAT(
      rows,
      ElementsAre("string[] {\"a, b\"}|int64[] {1}", "string[] {\"she said \"hi\"\"}|int64[] {2}",
                  "string[] {\"two\nlines\"}|int64[] {3}", "string[] {\"\"}|int64[] {4}",
                  "string[] {\"plain \"inner\" quotes\"}|int64[] {5}"));
}

TEST(CsvDatasetTest, OtherDelimitersAndAByteOrderMark) {
  std::string path = WriteTemp("tabs.tsv", "\xEF\xBB\xBFx\ty\n1.5\t\"a\tb\"\n");
  EXPECT_THAT(Rows(Csv(path, {Required(DType::kDouble), Required(DType::kString)}, true, '\t')),
              ElementsAre("float64[] {1.5}|string[] {\"a\tb\"}"));
}

TEST(CsvDatasetTest, MissingFieldsTakeDefaultsOrNameFileLineAndColumn) {
  std::string path = WriteTemp("missing.csv",
                               "a,b,c\n"
                               "1,,x\n"
                               "2,5\n"
                               ",6,y\n"
                               "4,7,z\n");
  std::vector<std::string> rows = Rows(
      Csv(path, {Required(DType::kInt32), WithDefault<float>(-1.0f), WithDefault<std::string>("?")},
          true));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], "int32[] {1}|float32[] {-1}|string[] {\"x\"}");
  EXPECT_EQ(rows[1], "int32[] {2}|float32[] {5}|string[] {\"?\"}");
  EXPECT_THAT(rows[2], HasSubstr(path + ":4:1 (column 'a'): the field is empty and the column "
                                        "has no default value"));
  EXPECT_EQ(rows[3], "int32[] {4}|float32[] {7}|string[] {\"z\"}");  // goes on after the error

  std::string short_row = WriteTemp("short.csv", "1,2\n3\n");
  rows = Rows(Csv(short_row, {Required(DType::kInt64), Required(DType::kInt64)}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[1], HasSubstr(short_row + ":2:2: the row has only 1 fields"));
}

TEST(CsvDatasetTest, MalformedNumbersNameFileLineColumnAndText) {
  std::string path = WriteTemp("bad.csv",
                               "1,2.5\n"
                               "x1,2\n"
                               "3,2.5.1\n"
                               "99999999999,1\n");
  std::vector<std::string> rows =
      Rows(Csv(path, {Required(DType::kInt32), Required(DType::kFloat)}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], "int32[] {1}|float32[] {2.5}");
  EXPECT_EQ(rows[1], absl::StrCat("E:", path, ":2:1: \"x1\" is not a valid int32"));
  EXPECT_EQ(rows[2], absl::StrCat("E:", path, ":3:2: \"2.5.1\" is not a valid float32"));
  EXPECT_EQ(rows[3], absl::StrCat("E:", path, ":4:1: \"99999999999\" is not a valid int32"));
}

TEST(CsvDatasetTest, StructuralErrors) {
  std::string extra = WriteTemp("extra.csv", "1,2,3\n4,5\n");
  std::vector<std::string> rows =
      Rows(Csv(extra, {Required(DType::kInt32), Required(DType::kInt32)}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], HasSubstr(extra + ":1: the row has 3 fields but 2 columns were declared"));
  EXPECT_EQ(rows[1], "int32[] {4}|int32[] {5}");

  std::string junk = WriteTemp("junk.csv", "\"ab\"c,1\n\"ok\",2\n");
  rows = Rows(Csv(junk, {Required(DType::kString), Required(DType::kInt32)}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], HasSubstr(junk + ":1:1: unexpected 'c' after the closing quote"));
  EXPECT_EQ(rows[1], "string[] {\"ok\"}|int32[] {2}");

  std::string open = WriteTemp("open.csv", "1,\"never\nclosed\n");
  rows = Rows(Csv(open, {Required(DType::kInt32), Required(DType::kString)}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0], HasSubstr(open + ":1:2: a quoted field is never closed"));

  std::string header = WriteTemp("header.csv", "a,b,c\n1,2\n");
  rows = Rows(Csv(header, {Required(DType::kInt32), Required(DType::kInt32)}, true));
  ASSERT_FALSE(rows.empty());
  EXPECT_THAT(rows[0], HasSubstr("the header names 3 columns (a, b, c) but 2 were declared"));
}

TEST(CsvDatasetTest, RejectsBadDeclarationsAndMissingFiles) {
  EXPECT_FALSE(CsvDataset("x.csv", {}).ok());
  EXPECT_THAT(std::string(CsvDataset("x.csv", {Required(DType::kBool)}).status().message()),
              HasSubstr("column 1 has dtype bool"));
  EXPECT_THAT(std::string(CsvDataset("x.csv", {CsvColumn{DType::kInt32, Tensor::Scalar<float>(0)}})
                              .status()
                              .message()),
              HasSubstr("the default of column 1 is float32[]"));
  EXPECT_FALSE(CsvDataset("x.csv", {Required(DType::kInt32)}, false, '"').ok());
  auto ds = CsvDataset(::testing::TempDir() + "/no-such-file.csv", {Required(DType::kInt32)});
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ((*ds)->MakeIterator().status().code(), absl::StatusCode::kNotFound);
}

TEST(CsvDatasetTest, EmptyFilesAndBatchingStrings) {
  EXPECT_TRUE(Rows(Csv(WriteTemp("empty.csv", ""), {Required(DType::kInt32)}, true)).empty());
  std::string path = WriteTemp("batch.csv", "a,1\nb,2\nc,3\n");
  auto it =
      Batch(Csv(path, {Required(DType::kString), Required(DType::kInt32)}), 2)->MakeIterator();
  ASSERT_TRUE(it.ok());
  Element e;
  bool end = false;
  ASSERT_TRUE((*it)->GetNext(&e, &end).ok());
  EXPECT_TRUE(TensorsEqual(e[0], Tensor::FromVector<std::string>({"a", "b"})));
  EXPECT_TRUE(TensorsEqual(e[1], Tensor::FromVector<int32_t>({1, 2})));
}

TEST(CsvDatasetTest, InterleavesOverAListOfFiles) {
  std::string f1 = WriteTemp("part1.csv", "1\n2\n3\n");
  std::string f2 = WriteTemp("part2.csv", "10\n20\n");
  auto files = FromTensors({Tensor::FromVector<std::string>({f1, f2})});
  ASSERT_TRUE(files.ok());
  DatasetPtr rows = Interleave(
      *files,
      [](const Element& e) {
        return CsvDataset(e[0].data<std::string>()[0], {Required(DType::kInt64)});
      },
      2);
  EXPECT_THAT(Rows(rows), ElementsAre("int64[] {1}", "int64[] {10}", "int64[] {2}", "int64[] {20}",
                                      "int64[] {3}"));
}

}  // namespace
}  // namespace braid::data
