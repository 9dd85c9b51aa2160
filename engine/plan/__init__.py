"""Statement to Plan: resolve tables, lift bounds, decide what each source computes exactly, split into periods, write fragments and merge SQL.

The steps are the rules listed in order in :mod:`piot.plan.pipeline`, one module each.

Enters: a checked statement, table metadata (through a lookup), the planning options.
Leaves: a frozen :class:`~piot.plan.planner.Plan`; pure (no Ray, no connectorx, no reads).
"""
