"""spaCy with only what the pipeline uses.

Rasa's SpacyNLP loads every component of the spaCy model but the parser; our pipeline
uses spaCy's tokenizer and its word vectors only (the tagger, lemmatizer and named
entities are never read: CountVectorsFeaturizer runs with use_lemma: false). Each
excluded component is time saved on every message and memory saved in every process.
"""

import functools
from typing import Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel

UNUSED_COMPONENTS = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Rasa's SpacyNLP loading the model without the components the pipeline does not use.

    Named like Rasa's class on purpose: the spaCy tokenizer and featurizer find their
    model provider by this name."""

    @staticmethod
    @functools.lru_cache(maxsize=None)  # Rasa creates this component twice: one model in memory
    def load_model(spacy_model_name: Text) -> SpacyModel:
        import spacy

        language = spacy.load(spacy_model_name, exclude=UNUSED_COMPONENTS)
        return SpacyModel(model=language, model_name=spacy_model_name)
