"""SQLAlchemy 2.x support: ``create_engine("piot:///catalog.toml")``.

The ``piot`` dialect is registered as a ``sqlalchemy.dialects`` entry point, so
nothing needs to be imported first::

    from sqlalchemy import create_engine, inspect
    engine = create_engine("piot:///catalog.toml?time_unit=monthly")
    inspect(engine).get_table_names(schema="markets")

Options (URL query arguments): ``ray_address``, ``dialect``, ``time_unit``,
``max_concurrency``, ``return_as``, ``split``; anything else :func:`piot.connect`
takes (``remote_options``) goes in ``connect_args``.
"""

from __future__ import annotations

from piot.sqlalchemy.dialect import PiotDialect

__all__ = ["PiotDialect"]
