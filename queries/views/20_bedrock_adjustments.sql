-- Credits, refunds, tax and every other non-usage Bedrock line item, kept apart from
-- usage cost so a credit never hides spend.
CREATE OR REPLACE VIEW {{database}}.bedrock_adjustments AS
SELECT
  billing_period,
  COALESCE(line_item_type, '(unknown)') AS line_item_type,
  billing_entity,
  SUM(cost_usd) AS cost_usd
FROM {{database}}.bedrock_line_items_base
WHERE NOT is_usage
GROUP BY billing_period, COALESCE(line_item_type, '(unknown)'), billing_entity
