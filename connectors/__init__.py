"""Sources piot reads: the catalog, the kinds of database, and connectorx reads."""

from __future__ import annotations

from piot.connectors.catalog import Catalog, Source, TableSettings, load_catalog
from piot.connectors.introspect import Column, SchemaCache, TableInfo
from piot.connectors.read import read_arrow

__all__ = ["Catalog", "Column", "SchemaCache", "Source", "TableInfo", "TableSettings", "load_catalog", "read_arrow"]
