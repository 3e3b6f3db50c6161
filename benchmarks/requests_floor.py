"""The floor for ``bedrock-cost requests --by user``: one hand-written DuckDB query.

Reads the same ``*.json.gz`` files with the same explicit columns and sums the four token
counts per principal, with no pricing, identity rule or Athena-SQL transpiling: the least
work any implementation must do over these files.

Usage: python benchmarks/requests_floor.py LOG_DIR
"""

from __future__ import annotations

import sys

import duckdb

COLUMNS = (
    "{'identity': 'STRUCT(arn VARCHAR)', 'requestId': 'VARCHAR', "
    "'input': 'STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)', "
    "'output': 'STRUCT(outputTokenCount BIGINT)'}"
)


def main(folder: str) -> None:
    con = duckdb.connect(":memory:")
    rows = con.execute(
        f"""
        SELECT identity.arn, COUNT(*), SUM(input.inputTokenCount), SUM(output.outputTokenCount),
               SUM(input.cacheReadInputTokenCount), SUM(input.cacheWriteInputTokenCount)
        FROM read_json('{folder}/**/*.json.gz', format = 'newline_delimited', ignore_errors = true,
                       compression = 'gzip', columns = {COLUMNS})
        GROUP BY 1
        """
    ).fetchall()
    for row in rows:
        print(",".join("" if v is None else str(v) for v in row))


if __name__ == "__main__":
    main(sys.argv[1])
