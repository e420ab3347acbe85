"""Mutation testing with hand-written mutants (see __main__.py)."""
