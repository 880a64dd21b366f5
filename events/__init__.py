"""The Nexus domain: aggregates, their events, money rules and the event-sourced application.

Plain Python on top of the eventsourcing library; nothing here imports Django.
"""
