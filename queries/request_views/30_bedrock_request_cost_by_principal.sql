-- Per-request cost by principal and UTC day (invocation-log clock; unpriced requests counted, not $0).
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost_by_principal AS
SELECT
  day,
  principal,
  SUM(cost_usd) AS cost_usd,
  COUNT(*) AS requests,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cache_read_tokens) AS cache_read_tokens,
  SUM(cache_write_tokens) AS cache_write_tokens,
  SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests
FROM {{database}}.bedrock_request_cost
GROUP BY 1, 2
