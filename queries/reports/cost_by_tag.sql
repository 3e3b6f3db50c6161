-- `bedrock-cost report --by tag:<key>`: usage cost and tokens of one billing period per value
-- of one tag key (resource tags first, then IAM principal tags, as in bedrock_line_items_base).
-- The same rows and rules as cost_by over the base view, summed in the other order: line items
-- are first summed per tag value and distinct usage inputs (usage type, inference type, product
-- code, pricing unit, description, billing entity), then each sum is classified once by the
-- shared fragment. Over millions of rows the string tests run on a few thousand sums.
-- product['feature'] only decides the tier, which this report does not show: it is not read
-- (a map lookup and a grouping key per line item, a tenth of the query's time).
-- Tokens are the summed usage amount times the unit, rounded per sum; usage amounts that are
-- whole tokens (every real export) give the same figures as rounding each line item.
WITH src AS (
  SELECT
    {{group_expr}} AS group_key,
    c.line_item_usage_type,
    c.inference_type,
    CAST(NULL AS VARCHAR) AS feature,
    c.line_item_product_code,
    c.pricing_unit,
    c.line_item_line_item_description,
    c.bill_billing_entity,
    SUM(CAST(COALESCE(c.line_item_unblended_cost, 0) AS DECIMAL(38, 10))) AS line_item_unblended_cost,
    SUM(c.line_item_usage_amount) AS line_item_usage_amount
  FROM {{database}}.bedrock_rows c
  WHERE c.billing_period = :period
    AND c.line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
  GROUP BY 1, 2, 3, 5, 6, 7, 8
),
{{usage_classification}}
SELECT
  group_key,
  SUM(line_item_unblended_cost) AS cost_usd,
  SUM(CASE WHEN usage_kind = 'input' THEN tokens ELSE 0 END) AS input_tokens,
  SUM(CASE WHEN usage_kind = 'output' THEN tokens ELSE 0 END) AS output_tokens,
  SUM(CASE WHEN usage_kind = 'cache-read' THEN tokens ELSE 0 END) AS cache_read_tokens,
  SUM(CASE WHEN usage_kind = 'cache-write' THEN tokens ELSE 0 END) AS cache_write_tokens
FROM counted
GROUP BY 1
