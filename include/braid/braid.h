// The whole public C++ API of braid.
#pragma once
#include "braid/data.h"
#include "braid/distributed.h"
#include "braid/graph.h"
#include "braid/layers.h"
#include "braid/ops.h"
#include "braid/session.h"
#include "braid/summary.h"
#include "braid/tensor.h"
#include "braid/training.h"
