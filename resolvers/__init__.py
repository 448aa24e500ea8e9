"""Reads and writes: scoped queries, DataLoaders and the business rules.

Every function takes the request's database handle and Principal and composes
the row scope itself, so no GraphQL type can forget it.
"""
