-- Bedrock rows of CUR 2.0, one per line item, with the raw inputs the usage classification
-- reads (queries/fragments/usage_classification.sql). bedrock_line_items_base classifies each
-- row; `report --by tag:<key>` sums these rows first and classifies the sums.
--
-- Which rows are Bedrock: product family 'Amazon Bedrock' (every Bedrock row since mid-2026),
-- a Bedrock product code (first-party and open models), or an AWS Marketplace product whose
-- name ends in '(Amazon Bedrock Edition)' (Claude, Cohere, ...: opaque product codes). Other
-- Marketplace products with "Bedrock" somewhere in their name are not Bedrock spend.
CREATE OR REPLACE VIEW {{database}}.bedrock_rows AS
SELECT
  c.billing_period,
  c.bill_billing_entity,
  c.bill_payer_account_id,
  c.line_item_usage_account_id,
  c.line_item_usage_start_date,
  c.line_item_line_item_type,
  c.line_item_product_code,
  c.line_item_usage_type,
  element_at(c.product, 'inference_type') AS inference_type,
  element_at(c.product, 'feature') AS feature,
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
  ) AS product_name
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
