"""The wiring of the stages over the store: one module per pipeline step.

``crawl`` (fetch and store), ``reextract`` (technical re-extraction), ``process`` (segment, tag,
entities), ``detect`` (clause-level changes), ``coverage`` (which replay files are stored). Each step
reads and writes through ``clausewatch.db`` and calls the pure stages (``clausewatch.nlp``,
``clausewatch.changes``); the commands in ``clausewatch.commands`` call the steps.
"""
