"""Which figure shows a model, and in which drawing style (issue 6)."""
