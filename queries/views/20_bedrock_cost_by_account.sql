-- Billed Bedrock usage cost per payer and linked (usage) account.
CREATE OR REPLACE VIEW {{database}}.bedrock_cost_by_account AS
SELECT
  billing_period,
  payer_account_id,
  usage_account_id,
  {{usage_sums}}
FROM {{database}}.bedrock_line_items_base
WHERE is_usage
GROUP BY billing_period, payer_account_id, usage_account_id
