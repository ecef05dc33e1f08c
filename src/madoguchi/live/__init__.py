"""Live updates: the event log followed by every web process and pushed over WebSocket.

``hub`` follows the ``Event`` table (and ``Pulse``, the presence announcements) and hands
each row to the connections allowed to see its mailbox; ``consumers`` is the WebSocket
end of one browser tab; ``presence`` keeps who is viewing or replying where.
"""
