"""The flow engine: conversation definitions as data and a pure engine that runs them.

Nothing in this package imports a chat library or touches the database: a channel turns
platform updates into `events.Event`s and renders the `events.Outgoing` messages it gets
back; the conversation service stores the answers and applies the effects.
"""
