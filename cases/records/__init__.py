"""Keeping records for years: the audit hash chain, the content chain and its
verification, the retention purge and the nightly reordering of tables."""
