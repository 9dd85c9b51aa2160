"""Text to statement: parse, check that it only reads, bind parameters, fold the clock, normalise.

Enters: SQL text, parameters, the connection's dialect and time zone.
Leaves: a checked :class:`~piot.sql.statement.Statement` (a sqlglot tree), or a piot error.
"""
