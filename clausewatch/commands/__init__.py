"""Every ``clausewatch`` command, one module per command or group of commands.

:data:`COMMANDS` is what :mod:`clausewatch.cli` registers, in the order ``--help`` lists them.
Command modules import only click and light helpers at module level; the stages they run are
imported inside the command, so ``clausewatch diff`` does not pay for Scrapy or Datasette.
"""
from clausewatch.commands.cluster import enqueue, queue, store, worker
from clausewatch.commands.coverage import coverage
from clausewatch.commands.crawl import crawl
from clausewatch.commands.diff import diff
from clausewatch.commands.digest import digest
from clausewatch.commands.held import held
from clausewatch.commands.models import models
from clausewatch.commands.openness import openness
from clausewatch.commands.process import process
from clausewatch.commands.reextract import reextract
from clausewatch.commands.schedule import schedule
from clausewatch.commands.serve import serve
from clausewatch.commands.sources import sources
from clausewatch.commands.status import status
from clausewatch.commands.subscriptions import confirm, feed, subscribe, subscriptions, unsubscribe
from clausewatch.commands.tag import tag

COMMANDS = [sources, status, crawl, process, reextract, held, coverage, tag, diff, openness, models, serve,
            subscribe, subscriptions, confirm, unsubscribe, digest, feed, schedule,
            enqueue, worker, store, queue]
