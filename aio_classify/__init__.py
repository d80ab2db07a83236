"""Async-first client for LlamaCloud Classify v2 jobs."""
