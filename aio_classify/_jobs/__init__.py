"""The job workflows built on single requests: paging through a listing, batched lookups,
polling until jobs end, and scanning a time range in parallel windows.
"""
