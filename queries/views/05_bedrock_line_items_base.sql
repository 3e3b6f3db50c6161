-- One row per Bedrock line item of CUR 2.0, classified, with tokens and tags resolved but
-- without the model name (bedrock_line_items adds it). Reports that do not group by model
-- read this view: it joins nothing, so a report over millions of rows is one scan.
--
-- Which rows are Bedrock: product family 'Amazon Bedrock' (every Bedrock row since mid-2026),
-- a Bedrock product code (first-party and open models), or an AWS Marketplace product whose
-- name ends in '(Amazon Bedrock Edition)' (Claude, Cohere, ...: opaque product codes). Other
-- Marketplace products with "Bedrock" somewhere in their name are not Bedrock spend.
--
-- Usage kinds: input, output, cache-read, cache-write, other. product['inference_type'] says
-- what a row is when present (2026 data); otherwise the usage type does, in either Marketplace
-- spelling (CamelCase _InputTokenCount_Global-Units, snake_case _input_tokens_global_standard-Units)
-- or the first-party shape. Keywords are matched on the lower-cased usage type with '-' and '_'
-- removed (ut_flat), so both spellings hit the same words; inference_type is matched by words
-- ('Cache read input tokens': cache + read). Capacity (reserved, provisioned,
-- model units), images, customization and AgentCore rows are 'other': reported, never dropped.
-- One-hour cache writes stay in 'cache-write' (the report contract) with cache_ttl = '1h' and
-- their own token column; bedrock_unit_prices prices them apart.
--
-- Tokens per row: usage_amount times the unit. An explicit pricing_unit with a multiplier
-- ('1K tokens', '1M tokens', 'million', 'thousand') decides; a generic one ('Units') or none
-- defers to the unit words of the description (Marketplace: the third '|' field, e.g.
-- 'Million Input Tokens'); failing that the row's shape decides: Marketplace token rows are
-- in millions of tokens, first-party rows in thousands.
--
-- Tags: for each configured key the value comes from, in order, resource_tags['user_<key>'],
-- resource_tags['user:<key>'], tags['resourceTags/user:<key>'], tags['resourceTags/<key>']
-- (resource tags), then tags['iamPrincipal/<key>'] (IAM principal tags): a resource tag
-- takes precedence over a principal tag, as AWS's tagging guidance says. tag_<key>_source
-- says which gave the value ('resource' or 'principal').
CREATE OR REPLACE VIEW {{database}}.bedrock_line_items_base AS
WITH src AS (
  SELECT
    c.billing_period,
    c.bill_billing_entity,
    c.bill_payer_account_id,
    c.line_item_usage_account_id,
    c.line_item_usage_start_date,
    c.line_item_line_item_type,
    c.line_item_product_code,
    c.line_item_usage_type,
    lower(COALESCE(c.line_item_usage_type, '')) AS ut,
    replace(replace(lower(COALESCE(c.line_item_usage_type, '')), '-', ''), '_', '') AS ut_flat,
    lower(COALESCE(element_at(c.product, 'inference_type'), '')) AS it,
    replace(replace(replace(lower(COALESCE(element_at(c.product, 'feature'), '')), ' ', ''), '-', ''), '_', '')
      AS feature_flat,
    c.line_item_operation,
    c.line_item_resource_id,
    c.line_item_line_item_description,
    c.line_item_usage_amount,
    c.line_item_unblended_cost,
    c.line_item_net_unblended_cost,
    c.line_item_iam_principal,
    c.pricing_unit,
    c.product,
    c.product_region_code,
    c.resource_tags,
    c.tags,
    COALESCE(
      NULLIF(TRIM(element_at(c.product, 'product_name')), ''),
      NULLIF(TRIM(c.product_product_name), '')
    ) AS product_name,
    strpos(COALESCE(c.line_item_usage_type, ''), 'MP:') > 0 OR c.bill_billing_entity = 'AWS Marketplace'
      AS is_marketplace
  FROM {{database}}.{{table}} c
  WHERE
    c.product_product_family = 'Amazon Bedrock'
    OR c.line_item_product_code IN (
      'AmazonBedrock', 'AmazonBedrockService', 'AmazonBedrockFoundationModels', 'AmazonBedrockAgentCore'
    )
    OR (
      c.bill_billing_entity = 'AWS Marketplace'
      AND lower(TRIM(COALESCE(element_at(c.product, 'product_name'), c.product_product_name, '')))
        LIKE '%(amazon bedrock edition)'
    )
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
  FROM src s
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
SELECT
  r.billing_period,
  CAST(r.line_item_usage_start_date AS DATE) AS usage_date,
  r.line_item_usage_start_date AS usage_start,
  r.bill_payer_account_id AS payer_account_id,
  r.line_item_usage_account_id AS usage_account_id,
  r.bill_billing_entity AS billing_entity,
  r.is_marketplace,
  r.line_item_line_item_type AS line_item_type,
  COALESCE(r.line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage'), false) AS is_usage,
  r.line_item_product_code AS product_code,
  r.line_item_usage_type AS usage_type,
  r.line_item_operation AS operation,
  COALESCE(
    NULLIF(TRIM(element_at(r.product, 'region')), ''),
    NULLIF(TRIM(r.product_region_code), ''),
    CASE upper(r.region_code)
      WHEN 'USE1' THEN 'us-east-1' WHEN 'USE2' THEN 'us-east-2'
      WHEN 'USW1' THEN 'us-west-1' WHEN 'USW2' THEN 'us-west-2'
      WHEN 'CAN1' THEN 'ca-central-1' WHEN 'SAE1' THEN 'sa-east-1'
      WHEN 'EUC1' THEN 'eu-central-1' WHEN 'EUC2' THEN 'eu-central-2'
      WHEN 'EUW1' THEN 'eu-west-1' WHEN 'EUW2' THEN 'eu-west-2' WHEN 'EUW3' THEN 'eu-west-3'
      WHEN 'EUN1' THEN 'eu-north-1' WHEN 'EUS1' THEN 'eu-south-1' WHEN 'EUS2' THEN 'eu-south-2'
      WHEN 'APN1' THEN 'ap-northeast-1' WHEN 'APN2' THEN 'ap-northeast-2' WHEN 'APN3' THEN 'ap-northeast-3'
      WHEN 'APS1' THEN 'ap-southeast-1' WHEN 'APS2' THEN 'ap-southeast-2' WHEN 'APS3' THEN 'ap-south-1'
      WHEN 'APS4' THEN 'ap-southeast-3' WHEN 'APS5' THEN 'ap-south-2'
      WHEN 'UGW1' THEN 'us-gov-west-1' WHEN 'UGE1' THEN 'us-gov-east-1'
      ELSE lower(r.region_code)
    END,
    'unknown'
  ) AS region,
  r.usage_kind,
  r.tier,
  r.scope,
  r.long_context,
  r.cache_ttl,
  r.billing_model,
  r.product_name,
  NULLIF(TRIM(element_at(r.product, 'model')), '') AS product_model,
  NULLIF(TRIM(element_at(r.product, 'provider')), '') AS product_provider,
  r.unit_factor,
  r.tokens,
  CASE WHEN r.usage_kind = 'input' THEN r.tokens ELSE 0 END AS input_tokens,
  CASE WHEN r.usage_kind = 'output' THEN r.tokens ELSE 0 END AS output_tokens,
  CASE WHEN r.usage_kind = 'cache-read' THEN r.tokens ELSE 0 END AS cache_read_tokens,
  CASE WHEN r.usage_kind = 'cache-write' THEN r.tokens ELSE 0 END AS cache_write_tokens,
  CASE WHEN r.cache_ttl = '1h' THEN r.tokens ELSE 0 END AS cache_write_1h_tokens,
  r.line_item_usage_amount AS usage_amount,
  r.pricing_unit,
  CAST(COALESCE(r.line_item_unblended_cost, 0) AS DECIMAL(38, 10)) AS cost_usd,
  CAST(r.line_item_net_unblended_cost AS DECIMAL(38, 10)) AS net_cost_usd,
  NULLIF(TRIM(r.line_item_resource_id), '') AS resource_id,
  NULLIF(TRIM(r.line_item_iam_principal), '') AS principal,
  {{tag_columns}}
  r.resource_tags,
  r.tags
FROM counted r
