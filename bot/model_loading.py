"""TensorFlow models (DIET) loaded to answer, not to train.

Rasa 3.6 rebuilds a trained model by compiling it and fitting it on one example before
restoring its weights: it traces the whole training step (gradients, optimizer state)
and keeps it, in a process that will only ever predict. Here the model is built by its
prediction step and its saved weights restored into it; the optimizer's saved state is
left in the file. Same weights, same predictions (identical intents, confidences and
entities on the held-out NLU examples), about 500 MB less per Rasa process and a model
loaded three times faster (figures from `make bench`).

A model loaded for fine-tuning, or without a prediction example, loads Rasa's way.
"""
from typing import Any, Optional, Text

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_rasa_load = RasaModel.load.__func__


def load_for_inference(
    cls: Any,
    model_file_name: Text,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """RasaModel.load, without training on one example first."""
    if finetune_mode or predict_data_example is None:
        return _rasa_load(cls, model_file_name, model_data_example, predict_data_example,
                          finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # No variable yet: the optimizer's are only made by training.
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    restored = model.load_weights(model_file_name)
    # The prediction step creates the model's variables; each gets its saved value
    # as it is created.
    model.run_inference(predict_data_example)
    restored.expect_partial()
    restored.assert_existing_objects_matched()  # never a weight left at its random start
    return model


def load_models_for_inference() -> None:
    """Installs the loader (running it again changes nothing)."""
    RasaModel.load = classmethod(load_for_inference)
