"""Pure domain logic: per aggregate, `evolve(state, event) -> state` and `decide(...) -> events`.

Nothing here touches a database or NATS; refusals are raised as `DomainError`.
"""
