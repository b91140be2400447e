"""Pure parsing helpers: French dates, identifiers. No I/O."""
