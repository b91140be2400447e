"""Generated documents (PDF) and their signed download links."""
