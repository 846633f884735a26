// Public API: optimizers, learning-rate schedules, gradient clipping, checkpoints,
// variable placement on ps tasks and partitioned variables.
#pragma once
#include "braid/train/learning_rate.h"
#include "braid/train/optimizer.h"
#include "braid/train/partitioned_variable.h"
#include "braid/train/replica_device_setter.h"
#include "braid/train/saver.h"
