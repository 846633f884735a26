"""PyTorch's side of bench/vs_pytorch.sh: trains the same model as braid's
`mlp` or `cnn` preset (same layers, initial-weight scheme aside) on the same
Fashion-MNIST files, with Adam (learning rate 0.002, cosine decay), batch 128,
float32, a given number of threads, for one epoch; prints one JSON line with
the training examples/s (data already in memory, as braid's loop has it).

  python bench/torch_train.py --model cnn --threads 2 [--epochs 1]
"""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def load(split):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def model(name):
    if name == "mlp":  # braid's mlp preset: 784 -> 256 -> 128 -> 10, relu
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                             nn.ReLU(), nn.Linear(128, 10))
    # braid's cnn preset: conv 5x5x32 same, pool 2, conv 5x5x64 same, pool 2, dense 1024, 10
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["mlp", "cnn"], required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch_size", type=int, default=128)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    x, y = load("train")
    tx, ty = load("t10k")
    net = model(a.model)
    opt = torch.optim.Adam(net.parameters(), lr=0.002)
    steps = a.epochs * math.ceil(len(x) / a.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
    loss_fn = nn.CrossEntropyLoss()
    examples = 0
    start = time.perf_counter()
    for _ in range(a.epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), a.batch_size):
            idx = order[i:i + a.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            examples += len(idx)
    wall = time.perf_counter() - start
    with torch.no_grad():  # in batches, as braid evaluates: peak RSS is the training's
        correct = sum(int((net(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum())
                      for i in range(0, len(tx), 1000))
        accuracy = correct / len(tx)
    print(json.dumps({"examples_per_second": examples / wall, "wall_time_seconds": wall,
                      "test_accuracy": accuracy, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
