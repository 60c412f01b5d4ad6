"""The training engine: param groups and AdamW, the LR schedule, checkpoints, logs and the Accelerate loop.

from mapa_train.config.compose import compose
from mapa_train.train.loop import train
train(compose("tiny_4v", ["machine.root_data_dir=/data"]))
"""
