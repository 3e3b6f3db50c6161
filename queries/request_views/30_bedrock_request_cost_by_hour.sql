-- Per-request cost by UTC hour (yyyy-mm-ddThh) and model: the fastest per-hour view of spend.
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost_by_hour AS
SELECT
  hour,
  model,
  {{request_sums}}
FROM {{database}}.bedrock_request_cost
GROUP BY 1, 2
