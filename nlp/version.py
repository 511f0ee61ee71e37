"""Bump NLP_VERSION whenever segmentation, rules, entity normalisation or the model change:
stored versions processed by another pipeline version are processed again."""
NLP_VERSION = "5"
