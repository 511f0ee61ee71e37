"""The scheduler daemon (`clausewatch schedule`): APScheduler 3.11 running ``clausewatch`` commands.

Modules: :mod:`schedules.jobs` (which jobs, their triggers, what is overdue), :mod:`schedules.runner`
(one job in a subprocess, recorded in ``job_runs``), :mod:`schedules.notify` (operator alerts),
:mod:`schedules.daemon` (the scheduler, signals, the lock). Imports only ``db`` and ``crawlers.registry``.
"""
