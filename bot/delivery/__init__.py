"""Delivery and scheduling: everything sent that is not a direct reply.

Messages go through a database outbox; a dispatcher sends due rows through each
channel's `Sender`; APScheduler drives the dispatcher and the periodic jobs.
"""
