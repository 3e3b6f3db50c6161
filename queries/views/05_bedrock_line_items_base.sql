-- One row per Bedrock line item of CUR 2.0, classified, with tokens and tags resolved but
-- without the model name (bedrock_line_items adds it). Reports that do not group by model
-- read this view: it joins nothing, so a report over millions of rows is one scan.
--
-- Which rows are Bedrock: see bedrock_rows. The classification rules below are applied by the
-- shared fragment queries/fragments/usage_classification.sql.
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
  SELECT * FROM {{database}}.bedrock_rows
),
{{usage_classification}}
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
