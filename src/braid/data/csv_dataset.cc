// CsvDataset: rows of a CSV file as elements of scalar tensors.
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "braid/base/status_macros.h"
#include "braid/data/dataset.h"

namespace braid::data {
namespace {

struct Field {
  std::string text;
  bool quoted = false;
  int64_t line = 0;  // where the field starts
};

// Splits a CSV text into records, one per call (RFC 4180 with \n or \r\n).
// After a malformed record it resumes at the next line, so one bad row does
// not end the file.
class CsvReader {
 public:
  CsvReader(std::shared_ptr<const std::string> text, std::string path, char delim)
      : text_(std::move(text)), path_(std::move(path)), delim_(delim) {
    // A UTF-8 byte order mark (spreadsheets write one) is not data.
    if (text_->compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
  }

  // Reads the next non-blank record into *fields, or sets *eof.
  absl::Status Next(std::vector<Field>* fields, bool* eof) {
    fields->clear();
    const std::string& s = *text_;
    while (pos_ < s.size() && AtLineEnd()) ConsumeLineEnd();  // blank lines
    if (pos_ >= s.size()) {
      *eof = true;
      return absl::OkStatus();
    }
    *eof = false;
    for (;;) {
      Field f;
      f.line = line_;
      if (s[pos_] == '"') {
        f.quoted = true;
        ++pos_;
        for (;;) {
          if (pos_ >= s.size()) {
            return absl::InvalidArgumentError(
                absl::StrCat(path_, ":", f.line, ":", fields->size() + 1,
                             ": a quoted field is never closed (a quote inside a quoted field is "
                             "written \"\")"));
          }
          const char c = s[pos_];
          if (c == '"') {
            if (pos_ + 1 < s.size() && s[pos_ + 1] == '"') {
              f.text.push_back('"');
              pos_ += 2;
              continue;
            }
            ++pos_;
            break;
          }
          if (c == '\n') ++line_;
          f.text.push_back(c);
          ++pos_;
        }
        if (pos_ < s.size() && s[pos_] != delim_ && !AtLineEnd()) {
          const int64_t line = line_;
          const char junk = s[pos_];
          SkipRestOfLine();
          return absl::InvalidArgumentError(absl::StrCat(
              path_, ":", line, ":", fields->size() + 1, ": unexpected '",
              absl::CEscape(std::string(1, junk)), "' after the closing quote of \"",
              absl::CEscape(f.text), "\"; expected the delimiter or the end of the line"));
        }
      } else {
        while (pos_ < s.size() && s[pos_] != delim_ && !AtLineEnd()) f.text.push_back(s[pos_++]);
      }
      fields->push_back(std::move(f));
      if (pos_ < s.size() && s[pos_] == delim_) {
        ++pos_;  // a delimiter at the end of a line leaves one more, empty field
        if (pos_ >= s.size() || AtLineEnd()) {
          Field empty;
          empty.line = line_;
          fields->push_back(std::move(empty));
          break;
        }
        continue;
      }
      break;
    }
    if (pos_ < text_->size()) ConsumeLineEnd();
    return absl::OkStatus();
  }

  const std::string& path() const { return path_; }

 private:
  bool AtLineEnd() const {
    const std::string& s = *text_;
    return s[pos_] == '\n' || (s[pos_] == '\r' && pos_ + 1 < s.size() && s[pos_ + 1] == '\n');
  }
  // REQUIRES: AtLineEnd().
  void ConsumeLineEnd() {
    pos_ += (*text_)[pos_] == '\r' ? 2 : 1;
    ++line_;
  }
  void SkipRestOfLine() {
    while (pos_ < text_->size() && !AtLineEnd()) ++pos_;
    if (pos_ < text_->size()) ConsumeLineEnd();
  }

  const std::shared_ptr<const std::string> text_;
  const std::string path_;
  const char delim_;
  size_t pos_ = 0;
  int64_t line_ = 1;  // of pos_
};

template <typename T>
bool ParseNumber(absl::string_view text, T* out) {
  text = absl::StripAsciiWhitespace(text);
  if constexpr (std::is_same_v<T, float>) {
    return absl::SimpleAtof(text, out);
  } else if constexpr (std::is_same_v<T, double>) {
    return absl::SimpleAtod(text, out);
  } else {
    return absl::SimpleAtoi(text, out);
  }
}

class CsvIterator : public Iterator {
 public:
  CsvIterator(std::shared_ptr<const std::string> text, std::string path,
              std::vector<CsvColumn> columns, bool header, char delim)
      : reader_(std::move(text), std::move(path), delim),
        columns_(std::move(columns)),
        header_pending_(header) {}

  absl::Status GetNext(Element* out, bool* end_of_sequence) override {
    if (header_pending_) {
      header_pending_ = false;
      RETURN_IF_ERROR(ReadHeader());
    }
    std::vector<Field> fields;
    bool eof = false;
    RETURN_IF_ERROR(reader_.Next(&fields, &eof));
    if (eof) {
      *end_of_sequence = true;
      return absl::OkStatus();
    }
    const int64_t line = fields.front().line;
    if (fields.size() > columns_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(reader_.path(), ":", line, ": the row has ", fields.size(), " fields but ",
                       columns_.size(), " columns were declared (is the delimiter right?)"));
    }
    Element row;
    row.reserve(columns_.size());
    for (size_t c = 0; c < columns_.size(); ++c) {
      const CsvColumn& column = columns_[c];
      const bool present = c < fields.size();
      const bool missing = !present || (fields[c].text.empty() &&
                                        !(fields[c].quoted && column.dtype == DType::kString));
      if (missing) {
        if (!column.default_value.initialized()) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(present ? fields[c].line : line, c), ": ",
                           present ? "the field is empty"
                                   : absl::StrCat("the row has only ", fields.size(), " fields"),
                           " and the column has no default value"));
        }
        row.push_back(column.default_value);
        continue;
      }
      const Field& f = fields[c];
      Tensor value(column.dtype, TensorShape{});
      bool ok = true;
      switch (column.dtype) {
        case DType::kString:
          value.data<std::string>()[0] = f.text;
          break;
        case DType::kInt32:
          ok = ParseNumber(f.text, value.data<int32_t>());
          break;
        case DType::kInt64:
          ok = ParseNumber(f.text, value.data<int64_t>());
          break;
        case DType::kFloat:
          ok = ParseNumber(f.text, value.data<float>());
          break;
        case DType::kDouble:
          ok = ParseNumber(f.text, value.data<double>());
          break;
        default:
          ok = false;  // CsvDataset admits no other dtype
      }
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(Where(f.line, c), ": \"",
                                                       absl::CEscape(f.text), "\" is not a valid ",
                                                       DTypeName(column.dtype)));
      }
      row.push_back(std::move(value));
    }
    *out = std::move(row);
    *end_of_sequence = false;
    return absl::OkStatus();
  }

 private:
  absl::Status ReadHeader() {
    std::vector<Field> fields;
    bool eof = false;
    RETURN_IF_ERROR(reader_.Next(&fields, &eof));
    if (eof) return absl::OkStatus();  // an empty file: no header, no rows
    if (fields.size() != columns_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          reader_.path(), ":", fields.front().line, ": the header names ", fields.size(),
          " columns (",
          absl::StrJoin(fields, ", ", [](std::string* o, const Field& f) { o->append(f.text); }),
          ") but ", columns_.size(), " were declared"));
    }
    for (Field& f : fields) names_.push_back(std::move(f.text));
    return absl::OkStatus();
  }

  // "data.csv:12:3 (column 'age')": where a field is, columns counted from 1.
  std::string Where(int64_t line, size_t column) const {
    std::string where = absl::StrCat(reader_.path(), ":", line, ":", column + 1);
    if (column < names_.size()) absl::StrAppend(&where, " (column '", names_[column], "')");
    return where;
  }

  CsvReader reader_;
  const std::vector<CsvColumn> columns_;
  bool header_pending_;
  std::vector<std::string> names_;  // from the header, if any
};

class CsvDatasetImpl : public Dataset {
 public:
  CsvDatasetImpl(std::string path, std::vector<CsvColumn> columns, bool header, char delim,
                 Env* env)
      : path_(std::move(path)),
        columns_(std::move(columns)),
        header_(header),
        delim_(delim),
        env_(env) {}

  absl::StatusOr<std::unique_ptr<Iterator>> MakeIterator() const override {
    ASSIGN_OR_RETURN(std::string text, ReadMaybeGzippedFile(env_, path_));
    return std::unique_ptr<Iterator>(std::make_unique<CsvIterator>(
        std::make_shared<const std::string>(std::move(text)), path_, columns_, header_, delim_));
  }
  std::string DebugString() const override { return absl::StrCat("Csv(", path_, ")"); }

 private:
  const std::string path_;
  const std::vector<CsvColumn> columns_;
  const bool header_;
  const char delim_;
  Env* const env_;
};

}  // namespace

absl::StatusOr<DatasetPtr> CsvDataset(std::string path, std::vector<CsvColumn> columns, bool header,
                                      char field_delim, Env* env) {
  if (columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CsvDataset '", path, "': declare at least one column"));
  }
  if (field_delim == '"' || field_delim == '\n' || field_delim == '\r') {
    return absl::InvalidArgumentError(
        absl::StrCat("CsvDataset '", path, "': the field delimiter cannot be '",
                     absl::CEscape(std::string(1, field_delim)), "'"));
  }
  if (env == nullptr) return absl::InvalidArgumentError("CsvDataset: env is null");
  for (size_t c = 0; c < columns.size(); ++c) {
    const CsvColumn& column = columns[c];
    const DType t = column.dtype;
    if (t != DType::kInt32 && t != DType::kInt64 && t != DType::kFloat && t != DType::kDouble &&
        t != DType::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("CsvDataset '", path, "': column ", c + 1, " has dtype ", DTypeName(t),
                       "; CSV columns are int32, int64, float32, float64 or string"));
    }
    const Tensor& d = column.default_value;
    if (d.initialized() && (d.dtype() != t || d.rank() != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CsvDataset '", path, "': the default of column ", c + 1, " is ", DTypeName(d.dtype()),
          d.shape().DebugString(), "; it must be a scalar of the column's dtype ", DTypeName(t)));
    }
  }
  return DatasetPtr(std::make_shared<CsvDatasetImpl>(std::move(path), std::move(columns), header,
                                                     field_delim, env));
}

}  // namespace braid::data
