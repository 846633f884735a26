#include "braid/serving/numeric_request.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace braid::serving {
namespace {

class Reader {
 public:
  Reader(std::string_view text, int64_t max_elements)
      : p_(text.data()), end_(text.data() + text.size()), max_elements_(max_elements) {
    // A number takes at least two bytes ("0,"): room for all of them at once.
    // values_.reserve(std::min<size_t>(text.size() / 8, static_cast<size_t>(max_elements)));
  }

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
  static bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  void SkipSpace() {
    while (p_ != end_ && IsSpace(*p_)) ++p_;
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
  // A JSON number (RFC 8259's grammar), read as a double and stored as float,
  // in one pass: the digits are gathered while the grammar is checked, and a
  // number with at most 19 significant digits whose mantissa fits in 53 bits and
  // whose decimal exponent is within ±22 is m × 10^e or m / 10^e, a single
  // correctly rounded operation on two exact doubles (Clinger's fast path), so
  // the result equals std::from_chars's. Other numbers go to std::from_chars.
  bool Number() {
    const char* start = p_;
    const bool negative = Eat('-');
    uint64_t mantissa = 0;
    int digits = 0;    // significant digits gathered into `mantissa`
    int exponent = 0;  // decimal exponent of `mantissa`'s last digit
    // A run of digits into `mantissa` (leading zeros are not significant); in
    // a fraction each digit also lowers the exponent. Past 19 digits
    // `mantissa` is garbage and `digits` says so.
    auto gather = [&](bool fraction) {
      for (; p_ != end_ && IsDigit(*p_); ++p_) {
        if (mantissa != 0 || *p_ != '0') {
          ++digits;
          mantissa = mantissa * 10 + static_cast<uint64_t>(*p_ - '0');
        }
        if (fraction) --exponent;
      }
    };
    if (Eat('0')) {
    } else if (p_ != end_ && *p_ >= '1' && *p_ <= '9') {
      gather(false);
    } else {
      return false;
    }
    if (Eat('.')) {
      if (p_ == end_ || !IsDigit(*p_)) return false;
      gather(true);
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      const bool minus = Eat('-');
      if (!minus) Eat('+');
      if (p_ == end_ || !IsDigit(*p_)) return false;
      int e = 0;
      for (; p_ != end_ && IsDigit(*p_); ++p_) {
        if (e < 10000) e = e * 10 + (*p_ - '0');
      }
      exponent += minus ? -e : e;
    }
    if (static_cast<int64_t>(values_.size()) >= max_elements_) return false;
    static constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double v = 0;
    if (digits <= 19 && mantissa <= (uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
      v = static_cast<double>(mantissa);
      v = exponent < 0 ? v / kPowersOfTen[-exponent] : v * kPowersOfTen[exponent];
      if (negative) v = -v;
    } else {
      auto [ptr, ec] = std::from_chars(start, p_, v);
      if (ec != std::errc() || ptr != p_) return false;  // out of range: general path
    }
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
    do {
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == '[') {
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
