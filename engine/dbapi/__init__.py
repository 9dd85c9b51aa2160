"""The PEP 249 front-end: connect, connections, cursors, EXPLAIN and the catalog statements (SHOW, DESCRIBE).

Enters: SQL text and parameters from the user.
Leaves: rows, descriptions and piot errors, through one engine (:mod:`piot.engine`).
"""
