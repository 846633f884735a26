// Public API: optimizers, learning-rate schedules, gradient clipping, checkpoints.
#pragma once
#include "braid/train/learning_rate.h"
#include "braid/train/optimizer.h"
#include "braid/train/saver.h"
