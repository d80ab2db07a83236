"""The machinery behind ``aio_classify.sync``: a private event loop in a thread (``runner``),
blocking twins made from the async classes (``twins``), plain iterators over async ones
(``iterators``), ``with`` for what closes (``closing``) and the facades themselves
(``client``).
"""
