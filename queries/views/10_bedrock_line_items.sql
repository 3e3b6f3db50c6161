-- One row per Bedrock line item of CUR 2.0, normalised.
--
-- Bedrock spend is split across billing entities: first-party and open models bill as
-- AWS under several product codes, third-party models (Claude, Cohere, ...) bill as AWS
-- Marketplace products with opaque product codes. A filter on
-- line_item_product_code = 'AmazonBedrock' alone misses every Claude dollar, so rows
-- qualify by product family, by a Bedrock product code, or by a Marketplace product
-- whose name says Bedrock.
--
-- Usage kinds: input, output, cache-read, cache-write, other. Rows that are not token
-- usage (provisioned throughput, images, AgentCore, customization, unknown shapes) are
-- 'other': reported, never dropped. Token counts are normalised to single tokens per
-- row from the pricing unit (1K tokens first-party, Units or 1M tokens Marketplace,
-- NULL resolved from the description or the row's shape).
CREATE OR REPLACE VIEW {{database}}.bedrock_line_items AS
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
    strpos(COALESCE(c.line_item_usage_type, ''), 'MP:') > 0 AS is_marketplace_shape
  FROM {{database}}.{{table}} c
  WHERE
    c.product_product_family = 'Amazon Bedrock'
    OR c.line_item_product_code IN (
      'AmazonBedrock', 'AmazonBedrockService', 'AmazonBedrockFoundationModels', 'AmazonBedrockAgentCore'
    )
    OR (
      c.bill_billing_entity = 'AWS Marketplace'
      AND strpos(
        lower(COALESCE(element_at(c.product, 'product_name'), c.product_product_name, '')), 'bedrock'
      ) > 0
    )
),
classified AS (
  SELECT
    s.*,
    -- Fixed-substring tests (strpos) rather than regular expressions: this runs per row.
    CASE
      WHEN (strpos(s.ut, 'provisionedthroughput') > 0 OR strpos(s.ut, 'modelunits') > 0 OR strpos(s.ut, 'reserved') > 0 OR strpos(s.ut, 'customization') > 0 OR strpos(s.ut, 'custommodelimport') > 0 OR strpos(s.ut, 'image') > 0)
        THEN 'other'
      WHEN s.line_item_product_code = 'AmazonBedrockAgentCore' THEN 'other'
      WHEN (strpos(s.ut, 'cache-read') > 0 OR strpos(s.ut, 'cacheread') > 0) THEN 'cache-read'
      WHEN (strpos(s.ut, 'cache-write') > 0 OR strpos(s.ut, 'cachewrite') > 0) THEN 'cache-write'
      WHEN (strpos(s.ut, 'input-token') > 0 OR strpos(s.ut, 'inputtoken') > 0) THEN 'input'
      WHEN (strpos(s.ut, 'output-token') > 0 OR strpos(s.ut, 'outputtoken') > 0) THEN 'output'
      ELSE 'other'
    END AS usage_kind,
    CASE
      WHEN (strpos(s.ut, 'provisionedthroughput') > 0 OR strpos(s.ut, 'modelunits') > 0 OR strpos(s.ut, 'reserved') > 0) THEN 'provisioned'
      WHEN strpos(s.ut, 'batch') > 0 THEN 'batch'
      WHEN regexp_like(s.ut, '[-_]flex([-_]|$)') THEN 'flex'
      WHEN strpos(s.ut, 'priority') > 0 THEN 'priority'
      WHEN (strpos(s.ut, 'latency-optimized') > 0 OR strpos(s.ut, 'latencyoptimized') > 0) THEN 'latency-optimized'
      ELSE 'on-demand'
    END AS tier,
    CASE WHEN strpos(s.ut, 'global') > 0 THEN 'global' ELSE 'regional' END AS scope,
    NULLIF(regexp_extract(s.line_item_usage_type, '^([A-Za-z]+[0-9]*)-', 1), '') AS region_code,
    NULLIF(
      regexp_extract(
        COALESCE(s.line_item_usage_type, ''),
        '(?i)^[a-z]+[0-9]*-(.+?)-(input|output|cache|reserved|mantle|provisioned|model-?units|customization|custom-?model|batch|image)',
        1
      ),
      ''
    ) AS billing_model_raw,
    lower(TRIM(regexp_replace(s.product_name, '(?i)\s*\(amazon bedrock edition\)\s*$', ''))) AS product_model,
    lower(NULLIF(TRIM(element_at(s.product, 'model')), '')) AS product_map_model,
    lower(TRIM(COALESCE(
      NULLIF(TRIM(s.pricing_unit), ''),
      CASE WHEN s.is_marketplace_shape THEN NULLIF(TRIM(split_part(s.line_item_line_item_description, '|', 3)), '') END
    ))) AS unit_text
  FROM src s
),
resolved AS (
  SELECT
    k.*,
    COALESCE(a1.model, a2.model, a3.model) AS alias_model,
    COALESCE(a1.provider, a2.provider, a3.provider) AS alias_provider,
    CASE
      WHEN k.unit_text IS NULL THEN CASE WHEN k.is_marketplace_shape THEN 1 ELSE 1000 END
      WHEN strpos(k.unit_text, '1m') > 0 OR strpos(k.unit_text, 'million') > 0 THEN 1000000
      WHEN strpos(k.unit_text, '1k') > 0 OR strpos(k.unit_text, 'thousand') > 0 THEN 1000
      ELSE 1
    END AS unit_factor
  FROM classified k
  LEFT JOIN {{database}}.bedrock_model_aliases a1 ON a1.alias = k.product_map_model
  LEFT JOIN {{database}}.bedrock_model_aliases a2 ON a2.alias = k.product_model
  LEFT JOIN {{database}}.bedrock_model_aliases a3 ON a3.alias = lower(k.billing_model_raw)
)
SELECT
  r.billing_period,
  CAST(r.line_item_usage_start_date AS DATE) AS usage_date,
  r.line_item_usage_start_date AS usage_start,
  r.bill_payer_account_id AS payer_account_id,
  r.line_item_usage_account_id AS usage_account_id,
  r.bill_billing_entity AS billing_entity,
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
  COALESCE(
    r.alias_provider,
    NULLIF(TRIM(element_at(r.product, 'provider')), ''),
    CASE WHEN r.line_item_product_code = 'AmazonBedrockAgentCore' THEN 'Amazon' END,
    'unknown'
  ) AS provider,
  COALESCE(
    r.alias_model,
    NULLIF(TRIM(element_at(r.product, 'model')), ''),
    CASE WHEN r.line_item_product_code = 'AmazonBedrockAgentCore' THEN 'AgentCore (no model)' END,
    NULLIF(TRIM(regexp_replace(r.product_name, '(?i)\s*\(amazon bedrock edition\)\s*$', '')), ''),
    r.billing_model_raw,
    'unknown'
  ) AS model,
  r.alias_model IS NOT NULL AS model_known,
  r.usage_kind,
  r.tier,
  r.scope,
  CASE
    WHEN r.usage_kind IN ('input', 'output', 'cache-read', 'cache-write')
      THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT)
  END AS tokens,
  CASE WHEN r.usage_kind = 'input'
    THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT) ELSE 0 END AS input_tokens,
  CASE WHEN r.usage_kind = 'output'
    THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT) ELSE 0 END AS output_tokens,
  CASE WHEN r.usage_kind = 'cache-read'
    THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT) ELSE 0 END AS cache_read_tokens,
  CASE WHEN r.usage_kind = 'cache-write'
    THEN CAST(ROUND(COALESCE(r.line_item_usage_amount, 0) * r.unit_factor) AS BIGINT) ELSE 0 END AS cache_write_tokens,
  r.line_item_usage_amount AS usage_amount,
  r.pricing_unit,
  CAST(COALESCE(r.line_item_unblended_cost, 0) AS DECIMAL(38, 10)) AS cost_usd,
  CAST(r.line_item_net_unblended_cost AS DECIMAL(38, 10)) AS net_cost_usd,
  NULLIF(TRIM(r.line_item_resource_id), '') AS resource_id,
  NULLIF(TRIM(r.line_item_iam_principal), '') AS principal,
  {{tag_columns}}
  r.resource_tags,
  r.tags
FROM resolved r
