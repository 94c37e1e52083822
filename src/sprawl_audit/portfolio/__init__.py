"""Portfolios: many organisations audited side by side, into one store.

:mod:`.spec` reads the portfolio file, :mod:`.isolation` gives each organisation its own
environment, folder and state, :mod:`.runner` runs their audits concurrently (each a
separate ``sprawl-audit audit`` process, so credentials, rate-limit budgets and memory
never mix; :mod:`.launch` forks them from a server :mod:`.warm` prepared), and
:mod:`.report` compares them from the store.
"""
