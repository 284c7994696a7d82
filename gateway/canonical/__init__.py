"""The canonical settlement model: frozen, typed, shaped after the national interface, dialect-free."""
