"""Query handlers: answered from read models, always scoped to the asking user."""
