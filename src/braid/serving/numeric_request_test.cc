#include "braid/serving/numeric_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "braid/serving/json_tensor.h"

namespace braid::serving {
namespace {

// What the general path makes of the same body's values.
Tensor General(const std::string& body, const char* key) {
  auto json = ParseRequestJson(body);
  EXPECT_TRUE(json.ok()) << body;
  auto t = TensorFromJson((*json)[key], DType::kFloat, "x");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

void ExpectSameAsGeneral(const std::string& body, const char* key) {
  std::optional<NumericRequest> r = ReadNumericRequest(body, 1 << 20);
  ASSERT_TRUE(r.has_value()) << body;
  EXPECT_EQ(r->row_format, std::string(key) == "instances");
  Tensor want = General(body, key);
  ASSERT_EQ(r->values.shape(), want.shape()) << body;
  for (int64_t i = 0; i < want.NumElements(); ++i) {
    EXPECT_EQ(r->values.data<float>()[i], want.data<float>()[i]) << body << " at " << i;
  }
}

TEST(NumericRequestTest, ReadsWhatTheGeneralPathReadsTheSame) {
  ExpectSameAsGeneral(R"({"instances": [[1, 2, 3]]})", "instances");
  ExpectSameAsGeneral(R"({"inputs":[[0.5,-1e-3],[2E+2,-0]]})", "inputs");
  ExpectSameAsGeneral(" {\n\t\"instances\" : [ [ [1] , [2] ] , [ [3] , [4] ] ] }\r\n", "instances");
  ExpectSameAsGeneral(R"({"instances": [1, 2.5, 3e38, 1e-50, 123456789012345678]})", "instances");
  auto named = ReadNumericRequest(R"({"signature_name": "two", "instances": [[1]]})", 100);
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->signature_name, "two");
  // Random pixels, printed the ways clients print them.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> pixel(0, 1);
  std::string body = R"({"instances": [)";
  for (int r = 0; r < 4; ++r) {
    body += r ? ",[" : "[";
    for (int c = 0; c < 784; ++c) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), c % 3 == 0 ? "%.17g" : (c % 3 == 1 ? "%.6f" : "%g"),
                    pixel(rng));
      body += (c ? "," : "") + std::string(buf);
    }
    body += "]";
  }
  ExpectSameAsGeneral(body + "]}", "instances");
}

// The reader computes short numbers itself (Clinger's fast path) and leaves
// the rest to std::from_chars; both must give the general path's floats, at
// the edges of the fast path too (19/20 digits, 2^53, exponents ±22/±23).
TEST(NumericRequestTest, ReadsEveryNumberFormTheSameAsTheGeneralPath) {
  std::string body = R"({"inputs": [0, -0, 0.0, 0e5, 1E+22, 1e22, 1e23, 1e-22, 1e-23, )"
                     R"(9007199254740992, 9007199254740993, 1234567890123456789, )"
                     R"(12345678901234567890, 0.0039215688, 0.00000000000000000000001, )"
                     R"(123.456e-20, 123.456e+25, 1.7976931348623157e308, 4.9e-324, )"
                     R"(340282356779733661637539395458142568448, 3.4028235e38, 1.1754944e-38])";
  ExpectSameAsGeneral(body + "}", "inputs");
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> mantissa(1, 10);
  std::uniform_int_distribution<int> exponent(-40, 40), digits(0, 20);
  body = R"({"inputs": [)";
  for (int i = 0; i < 5000; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*e", digits(rng),
                  (i % 2 ? -1 : 1) * mantissa(rng) * std::pow(10.0, exponent(rng)));
    body += (i ? "," : "") + std::string(buf);
  }
  ExpectSameAsGeneral(body + "]}", "inputs");
}

TEST(NumericRequestTest, LeavesEverythingElseToTheGeneralPath) {
  for (const char* body : {
           R"({"instances": [[1, 2], [3]]})",           // ragged
           R"({"instances": [[1, 2], 3]})",             // ragged depth
           R"({"instances": [1, [2]]})",
           R"({"instances": []})",                      // empty
           R"({"instances": [[]]})",
           R"({"instances": [NaN]})",                   // TF Serving's extension
           R"({"instances": ["a"]})",                   // strings
           R"({"instances": [{"x": [1]}]})",            // named inputs
           R"({"instances": [true]})",
           R"({"instances": 1})",                       // a bare scalar
           R"({"instances": [1], "inputs": [1]})",      // both
           R"({"instances": [1], "instances": [2]})",   // repeated
           R"({"instances": [1], "other": 1})",         // unknown key
           R"({"signature_name": "\u0074wo", "instances": [1]})",  // escapes
           R"({"signature_name": "", "instances": [1]})",
           R"({"instances": [01]})",                    // malformed numbers
           R"({"instances": [1.]})",
           R"({"instances": [.5]})",
           R"({"instances": [1e]})",
           R"({"instances": [-]})",
           R"({"instances": [1e999]})",                 // out of double's range
           R"({"instances": [1, 2])",                   // truncated
           R"({"instances": [1, 2]} x)",                // trailing bytes
           R"({})",
           R"([1, 2])",
           "",
       }) {
    EXPECT_FALSE(ReadNumericRequest(body, 1 << 20).has_value()) << body;
  }
  EXPECT_FALSE(ReadNumericRequest(R"({"instances": [1, 2, 3]})", 2).has_value());
  EXPECT_TRUE(ReadNumericRequest(R"({"instances": [1, 2, 3]})", 3).has_value());
}

}  // namespace
}  // namespace braid::serving
