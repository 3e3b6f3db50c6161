-- Billed Bedrock usage cost and tokens per model and day. Filter on billing_period.
CREATE OR REPLACE VIEW {{database}}.bedrock_cost_by_model_day AS
SELECT
  billing_period,
  usage_date,
  provider,
  model,
  {{usage_sums}}
FROM {{database}}.bedrock_line_items
WHERE is_usage
GROUP BY billing_period, usage_date, provider, model
