-- The usage classification every line-item view and report shares (a fragment: the CTEs
-- after "WITH src AS (...),"). src holds Bedrock rows with the raw inputs: the usage type,
-- product['inference_type'] and product['feature'] (as inference_type and feature), the
-- product code, billing entity, pricing unit, description and usage amount. The base view
-- feeds it one row per line item; `report --by tag:<key>` feeds it rows already summed per
-- tag value and distinct inputs, so these string tests run once per distinct usage shape,
-- not once per line item. The rules are described in views/05_bedrock_line_items_base.sql.
usage_inputs AS (
  SELECT
    s.*,
    lower(COALESCE(s.line_item_usage_type, '')) AS ut,
    replace(replace(lower(COALESCE(s.line_item_usage_type, '')), '-', ''), '_', '') AS ut_flat,
    lower(COALESCE(s.inference_type, '')) AS it,
    replace(replace(replace(lower(COALESCE(s.feature, '')), ' ', ''), '-', ''), '_', '') AS feature_flat,
    strpos(COALESCE(s.line_item_usage_type, ''), 'MP:') > 0 OR s.bill_billing_entity = 'AWS Marketplace'
      AS is_marketplace
  FROM src s
),
classified AS (
  SELECT
    s.*,
    -- Fixed-substring tests (strpos) rather than regular expressions: this runs per row.
    CASE
      WHEN (strpos(s.ut_flat, 'provisionedthroughput') > 0 OR strpos(s.ut_flat, 'modelunits') > 0
        OR strpos(s.ut_flat, 'reserved') > 0 OR strpos(s.ut_flat, 'customization') > 0
        OR strpos(s.ut_flat, 'custommodelimport') > 0 OR strpos(s.ut_flat, 'image') > 0
        OR strpos(s.ut_flat, 'tpm') > 0 OR strpos(s.it, 'minute') > 0)
        THEN 'other'
      WHEN s.line_item_product_code = 'AmazonBedrockAgentCore' THEN 'other'
      WHEN strpos(s.it, 'cache') > 0 AND strpos(s.it, 'read') > 0 THEN 'cache-read'
      WHEN strpos(s.it, 'cache') > 0 AND strpos(s.it, 'write') > 0 THEN 'cache-write'
      WHEN strpos(s.it, 'input') > 0 AND strpos(s.it, 'token') > 0 THEN 'input'
      WHEN strpos(s.it, 'output') > 0 AND strpos(s.it, 'token') > 0 THEN 'output'
      WHEN strpos(s.ut_flat, 'cacheread') > 0 THEN 'cache-read'
      WHEN strpos(s.ut_flat, 'cachewrite') > 0 THEN 'cache-write'
      WHEN strpos(s.ut_flat, 'inputtoken') > 0 THEN 'input'
      WHEN strpos(s.ut_flat, 'outputtoken') > 0 THEN 'output'
      ELSE 'other'
    END AS usage_kind,
    CASE
      WHEN (strpos(s.ut_flat, 'provisionedthroughput') > 0 OR strpos(s.ut_flat, 'modelunits') > 0
        OR strpos(s.ut_flat, 'reserved') > 0) THEN 'provisioned'
      WHEN strpos(s.ut_flat, 'batch') > 0 THEN 'batch'
      WHEN regexp_like(s.ut, '[-_]flex([-_]|$)') THEN 'flex'
      WHEN strpos(s.ut_flat, 'priority') > 0 THEN 'priority'
      WHEN strpos(s.ut_flat, 'latencyoptimized') > 0 THEN 'latency-optimized'
      WHEN (strpos(s.feature_flat, 'provisioned') > 0 OR strpos(s.feature_flat, 'reserved') > 0) THEN 'provisioned'
      WHEN strpos(s.feature_flat, 'batch') > 0 THEN 'batch'
      WHEN strpos(s.feature_flat, 'flex') > 0 THEN 'flex'
      WHEN strpos(s.feature_flat, 'priority') > 0 THEN 'priority'
      WHEN strpos(s.feature_flat, 'latencyoptimized') > 0 THEN 'latency-optimized'
      ELSE 'on-demand'
    END AS tier,
    CASE WHEN strpos(s.ut_flat, 'global') > 0 THEN 'global' ELSE 'regional' END AS scope,
    strpos(s.ut_flat, 'longcontext') > 0 OR strpos(s.feature_flat, 'longcontext') > 0
      OR (strpos(s.it, 'long') > 0 AND strpos(s.it, 'context') > 0) AS long_context,
    NULLIF(regexp_extract(s.line_item_usage_type, '^([A-Za-z]+[0-9]*)-', 1), '') AS region_code,
    CASE WHEN NOT s.is_marketplace THEN NULLIF(
      regexp_extract(
        COALESCE(s.line_item_usage_type, ''),
        '(?i)^[a-z]+[0-9]*-(.+?)-(input|output|cache|reserved|mantle|provisioned|model-?units|customization|custom-?model|batch|image)',
        1
      ),
      ''
    ) END AS billing_model,
    lower(TRIM(COALESCE(s.pricing_unit, ''))) AS pu
  FROM usage_inputs s
),
described AS (
  SELECT
    c.*,
    -- The description's unit words, read only where pricing_unit has no multiplier.
    CASE
      WHEN strpos(c.pu, '1m') > 0 OR strpos(c.pu, 'million') > 0 OR strpos(c.pu, '1k') > 0
        OR strpos(c.pu, 'thousand') > 0 OR strpos(c.pu, 'token') > 0 THEN ''
      WHEN c.is_marketplace THEN lower(TRIM(split_part(COALESCE(c.line_item_line_item_description, ''), '|', 3)))
      ELSE lower(TRIM(COALESCE(c.line_item_line_item_description, '')))
    END AS du
  FROM classified c
),
resolved AS (
  SELECT
    k.*,
    CASE
      WHEN k.usage_kind = 'cache-write' AND (strpos(k.ut_flat, '1h') > 0 OR strpos(k.it, '1h') > 0
        OR strpos(k.it, 'hour') > 0) THEN '1h'
      WHEN k.usage_kind = 'cache-write' THEN '5m'
    END AS cache_ttl,
    CASE
      WHEN strpos(k.pu, '1m') > 0 OR strpos(k.pu, 'million') > 0 THEN 1000000
      WHEN strpos(k.pu, '1k') > 0 OR strpos(k.pu, 'thousand') > 0 THEN 1000
      WHEN strpos(k.pu, 'token') > 0 THEN 1
      WHEN strpos(k.du, 'million') > 0 OR strpos(k.du, '1m ') > 0 OR k.du = '1m' THEN 1000000
      WHEN strpos(k.du, 'thousand') > 0 OR strpos(k.du, '1k ') > 0 OR k.du = '1k' THEN 1000
      WHEN k.is_marketplace AND strpos(k.du, 'token') > 0 THEN 1
      WHEN k.is_marketplace THEN 1000000
      ELSE 1000
    END AS unit_factor
  FROM described k
),
counted AS (
  SELECT
    r.*,
    CASE WHEN r.usage_kind IN ('input', 'output', 'cache-read', 'cache-write')
      THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT) END AS tokens
  FROM resolved r
)
