"""``sqis generate``: a synthetic consortium (filled in by the synthetic-data work)."""
