"""Bedrock Cost Tracker runtime package.

One package is bundled into every Lambda and installed locally for the ``bedrock-cost``
CLI. Dependencies point one way: ``handlers`` and ``cli`` wire, ``domain`` decides,
``adapters`` talk to AWS, Athena and DuckDB. ``domain`` imports neither boto3 nor duckdb.
"""

__version__ = "0.1.0"
