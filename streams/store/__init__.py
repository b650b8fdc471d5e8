"""ClickHouse: the store, its versioned schema and the saved hunting queries (SQL shipped as package data)."""
