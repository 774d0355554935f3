"""Clinical notes: typed, PDF and scanned, as DocumentReferences with their vital signs."""
