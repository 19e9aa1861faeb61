"""The conversation service: between the channels and the engine and storage.

A channel hands it one `Incoming` at a time; it finds the person and their conversation,
handles the commands every step understands (/stop, /help, /language, ...), runs the
engine, stores answers and effects in one transaction, and returns what to send.
"""
