#include "braid/serving/numeric_request.h"

#include <charconv>
#include <cstring>
#include <vector>

namespace braid::serving {
namespace {

class Reader {
 public:
  Reader(std::string_view text, int64_t max_elements)
      : p_(text.data()), end_(text.data() + text.size()), max_elements_(max_elements) {}

  std::optional<NumericRequest> Request() {
    NumericRequest out;
    bool have_values = false;
    SkipSpace();
    if (!Eat('{')) return std::nullopt;
    SkipSpace();
    if (Eat('}')) return std::nullopt;  // no inputs: the general path says so
    do {
      SkipSpace();
      std::string_view key;
      if (!String(&key)) return std::nullopt;
      SkipSpace();
      if (!Eat(':')) return std::nullopt;
      SkipSpace();
      if (key == "signature_name" && out.signature_name.empty()) {
        std::string_view name;
        if (!String(&name) || name.empty()) return std::nullopt;
        out.signature_name = std::string(name);
      } else if ((key == "instances" || key == "inputs") && !have_values) {
        out.row_format = key == "instances";
        if (!Lists()) return std::nullopt;
        have_values = true;
      } else {
        return std::nullopt;
      }
      SkipSpace();
    } while (Eat(','));
    if (!Eat('}')) return std::nullopt;
    SkipSpace();
    if (p_ != end_ || !have_values) return std::nullopt;
    TensorShape shape;
    for (int64_t d : dims_) shape.AddDim(d);
    out.values = Tensor(DType::kFloat, shape);
    std::memcpy(out.values.raw_data(), values_.data(), values_.size() * sizeof(float));
    return out;
  }

 private:
  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // A string without escapes (anything else is left to the general path).
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const char* start = p_;
    while (p_ != end_ && *p_ != '"') {
      if (*p_ == '\\' || static_cast<unsigned char>(*p_) < 0x20) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, p_ - start);
    ++p_;
    return true;
  }
  // A JSON number (RFC 8259's grammar), read as a double and stored as float.
  bool Number() {
    const char* start = p_;
    Eat('-');
    if (Eat('0')) {
    } else if (p_ != end_ && *p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    if (Eat('.')) {
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(start, p_, v);
    if (ec != std::errc() || ptr != p_) return false;  // out of range: general path
    if (static_cast<int64_t>(values_.size()) >= max_elements_) return false;
    values_.push_back(static_cast<float>(v));
    return true;
  }
  // Rectangular nested lists of numbers; dims_ gets their shape.
  bool Lists() { return List(0); }
  bool List(size_t depth) {
    if (!Eat('[')) return false;
    if (dims_.size() <= depth) {
      if (leaf_depth_ >= 0) return false;  // deeper than the numbers already seen
      dims_.push_back(-1);
    }
    int64_t count = 0;
    SkipSpace();
    do {
      SkipSpace();
      if (p_ != end_ && *p_ == '[') {
        if (leaf_depth_ >= 0 && depth >= static_cast<size_t>(leaf_depth_)) return false;
        if (!List(depth + 1)) return false;
      } else {
        if (leaf_depth_ < 0) leaf_depth_ = static_cast<int>(depth);
        if (leaf_depth_ != static_cast<int>(depth) || !Number()) return false;
      }
      ++count;
      SkipSpace();
    } while (Eat(','));
    if (!Eat(']')) return false;
    if (dims_[depth] < 0) dims_[depth] = count;
    return dims_[depth] == count && leaf_depth_ + 1 == static_cast<int>(dims_.size());
  }

  const char* p_;
  const char* end_;
  const int64_t max_elements_;
  std::vector<int64_t> dims_;
  int leaf_depth_ = -1;
  std::vector<float> values_;
};

}  // namespace

std::optional<NumericRequest> ReadNumericRequest(std::string_view body, int64_t max_elements) {
  return Reader(body, max_elements).Request();
}

}  // namespace braid::serving
