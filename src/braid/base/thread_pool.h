// A fixed-size pool of worker threads running closures in FIFO order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace braid {

class ThreadPool {
 public:
  // REQUIRES: num_threads >= 1.
  explicit ThreadPool(int num_threads);
  // Runs every closure already scheduled, then joins the threads.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Thread-safe. `fn` runs on one of the pool's threads.
  void Schedule(std::function<void()> fn);
  int num_threads() const { return static_cast<int>(threads_.size()); }

 private:
  void WorkLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // protected by mu_
  bool stopping_ = false;                    // protected by mu_
  std::vector<std::thread> threads_;         // constant after construction
};

// The number of cores this process may use (sched affinity), at least 1.
int NumSchedulableCores();

}  // namespace braid
