"""Channels: adapters between a chat platform and the conversation service.

A channel turns platform updates into engine events and engine messages into platform
calls. Nothing outside a channel knows the platform.
"""
