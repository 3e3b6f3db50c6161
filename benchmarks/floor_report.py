"""The floor: one hand-written DuckDB query producing the ``--by tag:team`` CSV.

``bedrock-cost report --by tag:team --format csv`` must cost at most 1.3x the CPU time of
this script on the same files (``bench_report.py`` runs both in the same session). It is
what someone who knows DuckDB would write by hand for this one report, with the same
rules as the product (Bedrock rows, usage line items, the five tag sources in precedence
order, tokens per unit, usage kinds from ``product['inference_type']`` or the usage type),
reading only the columns it needs and writing the CSV with DuckDB's own ``COPY``.

Usage: python benchmarks/floor_report.py --cur DIR --period YYYY-MM --out FILE.csv
"""

from __future__ import annotations

import sys

import duckdb

from baseline_cli import baseline_args, period_files

QUERY = r"""
COPY (
  WITH r AS (
    SELECT
      replace(replace(lower(coalesce(line_item_usage_type, '')), '-', ''), '_', '') AS f,
      replace(replace(replace(lower(coalesce(product['inference_type'], '')), ' ', ''), '-', ''), '_', '') AS it,
      strpos(coalesce(line_item_usage_type, ''), 'MP:') > 0 OR bill_billing_entity = 'AWS Marketplace' AS mp,
      lower(trim(coalesce(pricing_unit, ''))) AS pu,
      lower(trim(CASE WHEN strpos(coalesce(line_item_usage_type, ''), 'MP:') > 0
                        OR bill_billing_entity = 'AWS Marketplace'
                      THEN split_part(coalesce(line_item_line_item_description, ''), '|', 3)
                      ELSE coalesce(line_item_line_item_description, '') END)) AS du,
      coalesce(nullif(trim(resource_tags['user_team']), ''), nullif(trim(resource_tags['user:team']), ''),
               nullif(trim(tags['resourceTags/user:team']), ''), nullif(trim(tags['resourceTags/team']), ''),
               nullif(trim(tags['iamPrincipal/team']), ''), '(untagged)') AS team,
      line_item_product_code AS code,
      coalesce(line_item_usage_amount, 0) AS amount,
      CAST(coalesce(line_item_unblended_cost, 0) AS DECIMAL(38, 10)) AS cost
    FROM read_parquet(?, hive_partitioning = true, hive_types_autocast = false)
    WHERE billing_period = ?
      AND line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
      AND (product_product_family = 'Amazon Bedrock'
           OR line_item_product_code IN ('AmazonBedrock', 'AmazonBedrockService',
                                         'AmazonBedrockFoundationModels', 'AmazonBedrockAgentCore')
           OR (bill_billing_entity = 'AWS Marketplace'
               AND lower(trim(coalesce(product['product_name'], product_product_name, '')))
                   LIKE '%(amazon bedrock edition)'))
  ), k AS (
    SELECT team, cost,
      CASE
        WHEN f LIKE '%provisionedthroughput%' OR f LIKE '%modelunits%' OR f LIKE '%reserved%'
          OR f LIKE '%customization%' OR f LIKE '%custommodelimport%' OR f LIKE '%image%' OR f LIKE '%tpm%'
          OR it LIKE '%perminute%' OR code = 'AmazonBedrockAgentCore' THEN 'other'
        WHEN it LIKE '%cache%' AND it LIKE '%read%' THEN 'cache-read'
        WHEN it LIKE '%cache%' AND it LIKE '%write%' THEN 'cache-write'
        WHEN it LIKE '%inputtoken%' THEN 'input'
        WHEN it LIKE '%outputtoken%' THEN 'output'
        WHEN f LIKE '%cacheread%' THEN 'cache-read'
        WHEN f LIKE '%cachewrite%' THEN 'cache-write'
        WHEN f LIKE '%inputtoken%' THEN 'input'
        WHEN f LIKE '%outputtoken%' THEN 'output'
        ELSE 'other'
      END AS kind,
      CAST(round(amount * CASE
        WHEN pu LIKE '%1m%' OR pu LIKE '%million%' THEN 1000000
        WHEN pu LIKE '%1k%' OR pu LIKE '%thousand%' THEN 1000
        WHEN pu LIKE '%token%' THEN 1
        WHEN du LIKE '%million%' OR du LIKE '%1m %' OR du = '1m' THEN 1000000
        WHEN du LIKE '%thousand%' OR du LIKE '%1k %' OR du = '1k' THEN 1000
        WHEN mp AND du LIKE '%token%' THEN 1
        WHEN mp THEN 1000000
        ELSE 1000 END) AS BIGINT) AS tokens
    FROM r
  )
  SELECT team, CAST(sum(cost) AS VARCHAR) AS cost_usd,
    sum(CASE WHEN kind = 'input' THEN tokens ELSE 0 END) AS input_tokens,
    sum(CASE WHEN kind = 'output' THEN tokens ELSE 0 END) AS output_tokens,
    sum(CASE WHEN kind = 'cache-read' THEN tokens ELSE 0 END) AS cache_read_tokens,
    sum(CASE WHEN kind = 'cache-write' THEN tokens ELSE 0 END) AS cache_write_tokens
  FROM k GROUP BY team ORDER BY sum(cost) DESC, team
) TO '{out}' (HEADER, DELIMITER ',')
"""


def main(argv: list[str] | None = None) -> int:
    args = baseline_args(argv, __doc__)
    files = [str(path) for path in period_files("floor_report", args.cur, args.period)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(QUERY.replace("{out}", str(args.out).replace("'", "''")), [files, args.period])
    return 0


if __name__ == "__main__":
    sys.exit(main())
