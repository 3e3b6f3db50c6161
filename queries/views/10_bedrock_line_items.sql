-- One row per Bedrock line item of CUR 2.0: bedrock_line_items_base plus the readable model
-- and provider (see the base view for rows, kinds, tiers, units and tags).
--
-- Model names: product['model'] (2026 data), then the Marketplace product name without
-- '(Amazon Bedrock Edition)', then the billing name in a first-party usage type, each looked
-- up in the alias table. A name the table does not know is kept as it is (model_known =
-- false, listed as unmapped by the reports). The product name of first-party rows ('Amazon
-- Bedrock', 'Amazon Bedrock Service') names the service, never a model.
CREATE OR REPLACE VIEW {{database}}.bedrock_line_items AS
SELECT
  b.*,  -- keeps billing_period, the partition: filters on it prune
  COALESCE(a1.provider, a2.provider, a3.provider, b.product_provider,
    CASE WHEN b.product_code = 'AmazonBedrockAgentCore' THEN 'Amazon' END,
    'unknown'
  ) AS provider,
  COALESCE(
    a1.model,
    a2.model,
    a3.model,
    CASE WHEN lower(b.product_model) NOT LIKE 'amazon bedrock%' THEN b.product_model END,
    CASE WHEN b.product_code = 'AmazonBedrockAgentCore' THEN 'AgentCore (no model)' END,
    b.billing_model,
    CASE WHEN lower(b.product_name) LIKE '%(amazon bedrock edition)'
      THEN NULLIF(TRIM(regexp_replace(b.product_name, '(?i)\s*\(amazon bedrock edition\)\s*$', '')), '') END,
    'unknown'
  ) AS model,
  COALESCE(a1.model, a2.model, a3.model) IS NOT NULL AS model_known
FROM {{database}}.bedrock_line_items_base b
LEFT JOIN {{database}}.bedrock_model_aliases a1 ON a1.alias = lower(b.product_model)
LEFT JOIN {{database}}.bedrock_model_aliases a2
  ON a2.alias = lower(TRIM(regexp_replace(b.product_name, '(?i)\s*\(amazon bedrock edition\)\s*$', '')))
LEFT JOIN {{database}}.bedrock_model_aliases a3 ON a3.alias = lower(b.billing_model)
