-- Per-request cost by request-metadata key and value and UTC day (e.g. customer=acme,
-- feature=search). A request counts once under each of its keys; requests without
-- metadata are not in this view (they are in the other views).
CREATE OR REPLACE VIEW {{database}}.bedrock_request_cost_by_meta AS
SELECT
  c.day,
  k.meta_key,
  element_at(c.request_metadata, k.meta_key) AS meta_value,
  SUM(c.cost_usd) AS cost_usd,
  COUNT(*) AS requests,
  SUM(c.input_tokens) AS input_tokens,
  SUM(c.output_tokens) AS output_tokens,
  SUM(c.cache_read_tokens) AS cache_read_tokens,
  SUM(c.cache_write_tokens) AS cache_write_tokens,
  SUM(CASE WHEN c.cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests
FROM {{database}}.bedrock_request_cost c
CROSS JOIN UNNEST(map_keys(c.request_metadata)) AS k (meta_key)
GROUP BY 1, 2, 3
