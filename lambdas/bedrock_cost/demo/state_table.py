"""The product's DynamoDB state table, created in an emulator for the demo, tests and benchmarks.

Same schema as the deployed ``StateTable`` construct: string ``pk``/``sk`` keys, on-demand
billing, and a TTL on ``expires_at`` (alert claims and watermarks expire through it).
"""

from __future__ import annotations

from typing import Any


def create_state_table(dynamodb: Any, name: str) -> str:
    """Create the state table on ``dynamodb`` (a boto3 client) and return its name."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return name
