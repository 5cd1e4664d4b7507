"""Command handlers: one module per command. Each loads state, asks the domain to decide,
appends the events (projections run inline), and returns the reply."""
