"""The bottom layer: what every other layer reads and none of it imports anything above.

``sanitize`` (server text made safe to show), ``errors`` (the exception tree) and ``models``
(the frozen attrs records users hold).
"""
