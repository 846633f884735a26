// The dashboard's HTTP API against a real server on a free port, asked by
// cpp-httplib's client.
#include "braid/board/board_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "braid/board/test_events.h"
#include "nlohmann/json.hpp"

namespace braid::board {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using namespace braid::board::testing;

class BoardServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logdir_ = TempLogdir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::vector<tensorflow::Event> train = {GraphEvent()};
    for (int step = 0; step < 30; ++step) {
      train.push_back(ScalarEvent(step, "loss", 1.0f / (step + 1)));
      train.push_back(TensorScalarEvent(step, "accuracy", step / 30.0f, step == 0));
    }
    train.push_back(HistoEvent(10, "dense/kernel"));
    train.push_back(ImageEvent(5, "inputs", "\x89PNG\r\n\x1a\n-fake-image"));
    train.push_back(TextEvent(7, "notes", "first <b>note</b>"));
    AppendEvents(logdir_ + "/train/events.out.tfevents.1.host", train);
    AppendEvents(logdir_ + "/eval/events.out.tfevents.1.host",
                 {ScalarEvent(29, "accuracy", 0.875f)});
    BoardOptions options;
    options.logdir = logdir_;
    options.port = 0;
    options.reload_interval = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<BoardServer>> server = BoardServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    WaitFor([&] { return server_->store().stats().first_load_done; });
  }

  void WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) absl::SleepFor(absl::Milliseconds(10));
    ASSERT_TRUE(done());
  }

  // GET returning (status, parsed JSON body).
  std::pair<int, Json> GetJson(const std::string& path) {
    httplib::Result r = client_->Get(path);
    if (!r) return {0, Json()};
    EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("application/json")) << path;
    return {r->status, Json::parse(r->body, nullptr, /*allow_exceptions=*/false)};
  }

  std::string logdir_;
  std::unique_ptr<BoardServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(BoardServerTest, RunsAndScalarTags) {
  auto [status, runs] = GetJson("/data/runs");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(runs, Json({"eval", "train"}));
  auto [tstatus, tags] = GetJson("/data/plugin/scalars/tags");
  EXPECT_EQ(tstatus, 200);
  EXPECT_TRUE(tags["train"].contains("loss"));
  EXPECT_TRUE(tags["train"].contains("accuracy"));
  EXPECT_EQ(tags["eval"].size(), 1u);
  EXPECT_EQ(tags["train"]["loss"]["total"], 30);
}

TEST_F(BoardServerTest, ScalarSeriesAsJsonAndCsv) {
  auto [status, series] = GetJson("/data/plugin/scalars/scalars?run=train&tag=loss");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(series.size(), 30u);
  EXPECT_DOUBLE_EQ(series[0][0].get<double>(), 1700000000.0);
  EXPECT_EQ(series[29][1], 29);
  EXPECT_NEAR(series[29][2].get<double>(), 1.0 / 30, 1e-6);

  httplib::Result csv = client_->Get("/data/plugin/scalars/scalars?run=train&tag=loss&format=csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
  EXPECT_THAT(csv->get_header_value("Content-Type"), HasSubstr("text/csv"));
  EXPECT_THAT(csv->get_header_value("Content-Disposition"), HasSubstr("attachment"));
  EXPECT_EQ(csv->body.rfind("Wall time,Step,Value\n1700000000,0,1\n", 0), 0u) << csv->body;
}

TEST_F(BoardServerTest, MultirunByGetAndPost) {
  auto [status, both] = GetJson("/data/plugin/scalars/scalars_multirun?tag=accuracy");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(both["train"].size(), 30u);
  EXPECT_EQ(both["eval"].size(), 1u);
  httplib::Params form = {{"tag", "accuracy"}, {"runs", "eval"}};
  httplib::Result post = client_->Post("/data/plugin/scalars/scalars_multirun", form);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  Json only = Json::parse(post->body);
  EXPECT_EQ(only.size(), 1u);
  EXPECT_DOUBLE_EQ(only["eval"][0][2].get<double>(), 0.875);
}

TEST_F(BoardServerTest, HistogramsImagesTextGraph) {
  auto [hs, hist] = GetJson("/data/plugin/histograms/histograms?run=train&tag=dense/kernel");
  ASSERT_EQ(hs, 200);
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(hist[0][1], 10);
  EXPECT_EQ(hist[0][2].size(), 3u);

  auto [is, images] = GetJson("/data/plugin/images/images?run=train&tag=inputs");
  ASSERT_EQ(is, 200);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["width"], 2);
  EXPECT_EQ(images[0]["height"], 3);
  EXPECT_EQ(images[0]["step"], 5);
  httplib::Result png = client_->Get(images[0]["url"].get<std::string>());
  ASSERT_TRUE(png);
  EXPECT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(png->body, "\x89PNG\r\n\x1a\n-fake-image");

  auto [ts, text_tags] = GetJson("/data/plugin/text/tags");
  EXPECT_EQ(text_tags["train"], Json({"notes"}));
  auto [xs, text] = GetJson("/data/plugin/text/text?run=train&tag=notes");
  EXPECT_EQ(text[0]["text"], "first <b>note</b>");

  auto [gs, graph] = GetJson("/data/plugin/graphs/graph?run=train");
  ASSERT_EQ(gs, 200);
  ASSERT_EQ(graph["nodes"].size(), 2u);
  EXPECT_EQ(graph["nodes"][1]["name"], "dense/MatMul");
  EXPECT_EQ(graph["nodes"][1]["op"], "MatMul");
  EXPECT_EQ(graph["nodes"][1]["inputs"], Json({"input/x", "dense/kernel:0"}));
  EXPECT_EQ(graph["nodes"][1]["device"], "/job:worker/task:0");
}

TEST_F(BoardServerTest, UnknownRunsTagsAndPathsAre404BadParams400) {
  for (const char* path : {"/data/plugin/scalars/scalars?run=nope&tag=loss",
                           "/data/plugin/scalars/scalars?run=train&tag=nope",
                           "/data/plugin/graphs/graph?run=eval", "/data/plugin/nothing/here",
                           "/data/plugin/images/individualImage?run=train&tag=inputs&index=7"}) {
    auto [status, body] = GetJson(path);
    EXPECT_EQ(status, 404) << path;
    EXPECT_TRUE(body.contains("error")) << path;
  }
  for (const char* path : {"/data/plugin/scalars/scalars?run=train",
                           "/data/plugin/scalars/scalars?run=train&tag=loss&format=xml",
                           "/data/plugin/images/individualImage?run=train&tag=inputs&index=x"}) {
    auto [status, body] = GetJson(path);
    EXPECT_EQ(status, 400) << path;
    EXPECT_TRUE(body.contains("error")) << path;
  }
  httplib::Result page = client_->Get("/no/such/page");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 404);
}

TEST_F(BoardServerTest, ServesThePage) {
  httplib::Result index = client_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_THAT(index->body, HasSubstr("id=\"scalar-charts\""));
  httplib::Result js = client_->Get("/board.js");
  ASSERT_TRUE(js);
  EXPECT_THAT(js->body, HasSubstr("board.views.scalars"));
  EXPECT_THAT(js->body, HasSubstr("board.views.graph"));
}

TEST_F(BoardServerTest, CorruptFileAndNewRunWhileServing) {
  AppendBytes(logdir_ + "/train/events.out.tfevents.2.host", "garbage garbage garbage garbage");
  AppendEvents(logdir_ + "/late/events.out.tfevents.1.host", {ScalarEvent(1, "loss", 3)});
  WaitFor([&] { return GetJson("/data/runs").second.size() == 3; });
  WaitFor([&] { return GetJson("/data/problems").second.size() == 1; });
  auto [status, problems] = GetJson("/data/problems");
  EXPECT_EQ(problems[0]["run"], "train");
  EXPECT_THAT(problems[0]["message"].get<std::string>(), HasSubstr("tfevents.2.host"));
  auto [ss, series] = GetJson("/data/plugin/scalars/scalars?run=train&tag=loss");
  EXPECT_EQ(series.size(), 30u);  // the old data is still served
  auto [st, stats] = GetJson("/data/status");
  EXPECT_EQ(stats["problems"], 1);
  EXPECT_EQ(stats["loaded"], true);
}

TEST(BoardServerStartTest, MissingLogdirAndTakenPortAreClearErrors) {
  BoardOptions options;
  options.logdir = "/nonexistent/logdir";
  options.port = 0;
  absl::StatusOr<std::unique_ptr<BoardServer>> missing = BoardServer::Start(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/logdir"));

  options.logdir = TempLogdir("taken");
  absl::StatusOr<std::unique_ptr<BoardServer>> first = BoardServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.port = (*first)->port();
  absl::StatusOr<std::unique_ptr<BoardServer>> second = BoardServer::Start(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("already in use"));
  EXPECT_THAT(second.status().message(), HasSubstr(std::to_string(options.port)));
}

}  // namespace
}  // namespace braid::board
