-- Per-request cost by user and UTC day (invocation-log clock; unpriced requests counted, not $0).
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost_by_user AS
SELECT
  day,
  "user",
  {{request_sums}}
FROM {{database}}.bedrock_request_cost
GROUP BY 1, 2
