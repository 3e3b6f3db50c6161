-- Per-request cost by model and UTC day (invocation-log clock; unpriced requests counted, not $0).
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost_by_model AS
SELECT
  day,
  model,
  {{request_sums}}
FROM {{database}}.bedrock_request_cost
GROUP BY 1, 2
