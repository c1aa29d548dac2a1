"""Operator tooling for Gongdan: local S3 server, process supervisor, health checks, CLI.

Nothing in here is imported by the services themselves.
"""
