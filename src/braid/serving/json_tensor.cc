#include "braid/serving/json_tensor.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "braid/base/status_macros.h"

namespace braid::serving {
namespace {

using json = nlohmann::json;

// Non-finite literals become strings starting with a control character that
// a JSON text cannot carry raw, so no ordinary string is mistaken for one.
constexpr char kMarker = '\x01';

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Rewrites bare NaN / Infinity / Inf (optionally signed) outside strings.
std::string RewriteNonFinite(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < body.size()) {
        out += body[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    if (c == 'N' || c == 'I' || c == '-' || c == '+') {
      size_t j = i;
      std::string sign;
      if (c == '-' || c == '+') {
        sign = c == '-' ? "-" : "";
        ++j;
      }
      std::string_view rest = body.substr(j);
      std::string_view word;
      std::string name;
      for (auto [token, value] :
           {std::pair{"NaN", "NaN"}, std::pair{"Infinity", "Inf"}, std::pair{"Inf", "Inf"}}) {
        if (rest.substr(0, std::char_traits<char>::length(token)) == token) {
          word = rest.substr(0, std::char_traits<char>::length(token));
          name = value;
          break;
        }
      }
      size_t end = j + word.size();
      if (!word.empty() && (end >= body.size() || !IsWordChar(body[end]))) {
        absl::StrAppend(&out, "\"\\u0001", sign, name, "\"");
        i = end - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

absl::StatusOr<double> NonFinite(const std::string& s) {
  if (s == std::string(1, kMarker) + "NaN" || s == std::string(1, kMarker) + "-NaN")
    return std::numeric_limits<double>::quiet_NaN();
  if (s == std::string(1, kMarker) + "Inf") return std::numeric_limits<double>::infinity();
  if (s == std::string(1, kMarker) + "-Inf") return -std::numeric_limits<double>::infinity();
  return absl::InvalidArgumentError("not a number");
}

std::string Shown(const json& v) {
  if (v.is_string()) {
    absl::StatusOr<double> d = NonFinite(v.get<std::string>());
    if (d.ok()) return std::isnan(*d) ? "NaN" : (*d > 0 ? "Infinity" : "-Infinity");
  }
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

template <typename T>
absl::Status ElementFromJson(const json& v, const std::string& what, T* out) {
  auto wrong = [&](const char* want) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected ", want, " values, got ", Shown(v)));
  };
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (v.is_number()) {
      *out = static_cast<T>(v.get<double>());
      return absl::OkStatus();
    }
    if (v.is_string()) {
      absl::StatusOr<double> d = NonFinite(v.get<std::string>());
      if (d.ok()) {
        *out = static_cast<T>(*d);
        return absl::OkStatus();
      }
    }
    return wrong("number");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return wrong("boolean");
    *out = v.get<bool>();
    return absl::OkStatus();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.is_string() && (v.get_ref<const std::string&>().empty() ||
                          v.get_ref<const std::string&>()[0] != kMarker)) {
      *out = v.get<std::string>();
      return absl::OkStatus();
    }
    if (v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string()) {
      if (!absl::Base64Unescape(v["b64"].get<std::string>(), out)) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": invalid base64 in ", Shown(v)));
      }
      return absl::OkStatus();
    }
    return wrong("string");
  } else {
    if (!v.is_number_integer()) return wrong("integer");
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": ", u, " is out of range for ", DTypeName(DTypeOf<T>::value)));
      }
      *out = static_cast<T>(u);
      return absl::OkStatus();
    }
    int64_t i = v.get<int64_t>();
    if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        i > static_cast<int64_t>(std::numeric_limits<T>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", i, " is out of range for ", DTypeName(DTypeOf<T>::value)));
    }
    *out = static_cast<T>(i);
    return absl::OkStatus();
  }
}

bool IsList(const json& v) { return v.is_array(); }

// Writes the leaves of `v` in row-major order, checking every list at depth
// d has shape[d] elements.
template <typename T>
absl::Status Fill(const json& v, const std::vector<int64_t>& shape, size_t depth,
                  const std::string& what, T** out) {
  if (depth == shape.size()) {
    if (IsList(v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": lists nest deeper than the first element's (", shape.size(), " levels)"));
    }
    RETURN_IF_ERROR(ElementFromJson<T>(v, what, *out));
    ++*out;
    return absl::OkStatus();
  }
  if (!IsList(v) || static_cast<int64_t>(v.size()) != shape[depth]) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": ragged lists: found ", IsList(v) ? absl::StrCat(v.size(), " elements") : Shown(v),
        " at depth ", depth, " where the first element has ", shape[depth]));
  }
  for (const json& e : v) RETURN_IF_ERROR(Fill(e, shape, depth + 1, what, out));
  return absl::OkStatus();
}

void AppendFloat(double v, bool is_float, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    *out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[64];
  auto r = is_float ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v))
                    : std::to_chars(buf, buf + sizeof(buf), v);
  std::string_view s(buf, r.ptr - buf);
  out->append(s);
  if (s.find_first_of(".e") == std::string_view::npos) *out += ".0";
}

template <typename T>
void AppendElement(const T& v, std::string* out) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    AppendFloat(v, std::is_same_v<T, float>, out);
  } else if constexpr (std::is_same_v<T, bool>) {
    *out += v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::string>) {
    *out += JsonQuote(v);
  } else {
    absl::StrAppend(out, static_cast<int64_t>(v));
  }
}

template <typename T>
void AppendRange(const T* data, const std::vector<int64_t>& dims, size_t depth, int64_t* index,
                 std::string* out) {
  if (depth == dims.size()) {
    AppendElement(data[(*index)++], out);
    return;
  }
  *out += '[';
  for (int64_t i = 0; i < dims[depth]; ++i) {
    if (i > 0) *out += ',';
    AppendRange(data, dims, depth + 1, index, out);
  }
  *out += ']';
}

template <typename Fn>
void DispatchServable(DType dtype, Fn&& fn) {
  DispatchDType<float, double, int32_t, int64_t, uint8_t, bool, std::string>(dtype,
                                                                             std::forward<Fn>(fn));
}

}  // namespace

absl::StatusOr<json> ParseRequestJson(std::string_view body) {
  try {
    return json::parse(RewriteNonFinite(body));
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", e.what()));
  }
}

absl::StatusOr<Tensor> TensorFromJson(const json& value, DType dtype, const std::string& what) {
  std::vector<int64_t> dims;
  for (const json* v = &value; IsList(*v); v = &(*v)[0]) {
    dims.push_back(static_cast<int64_t>(v->size()));
    if (v->empty()) break;
  }
  Tensor t(dtype, TensorShape(dims));
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(what, ": dtype ", DTypeName(dtype), " cannot be given in JSON"));
  DispatchServable(dtype, [&]<typename T>() {
    T* out = t.data<T>();
    status = Fill<T>(value, dims, 0, what, &out);
  });
  RETURN_IF_ERROR(status);
  return t;
}

void AppendTensorJson(const Tensor& t, std::string* out) {
  DispatchServable(t.dtype(), [&]<typename T>() {
    int64_t index = 0;
    AppendRange(t.data<T>(), t.shape().dims(), 0, &index, out);
  });
}

void AppendTensorRowJson(const Tensor& t, int64_t row, std::string* out) {
  std::vector<int64_t> dims(t.shape().dims().begin() + 1, t.shape().dims().end());
  int64_t per_row = 1;
  for (int64_t d : dims) per_row *= d;
  DispatchServable(t.dtype(), [&]<typename T>() {
    int64_t index = 0;
    AppendRange(t.data<T>() + row * per_row, dims, 0, &index, out);
  });
}

std::string JsonQuote(std::string_view s) {
  // Invalid UTF-8 (binary strings) is replaced rather than thrown on.
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace braid::serving
