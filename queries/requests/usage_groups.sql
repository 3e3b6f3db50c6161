-- Invocation-log usage grouped by one dimension and by what pricing needs (principal, model as
-- passed, tier, long context); the caller prices each group with the catalog and folds
-- principals into users with the shared identity rule. Malformed lines are counted, never dropped.
SELECT
  {{dimension}} AS dim,
  principal,
  model_id,
  tier,
  CASE WHEN input_tokens + cache_read_tokens + cache_write_tokens > 200000 THEN 1 ELSE 0 END AS long_context,
  SUM(1 - malformed) AS requests,
  SUM(is_error) AS errors,
  SUM(malformed) AS malformed,
  SUM(disagreement) AS disagreements,
  SUM(input_tokens) AS input_tokens,
  SUM(output_tokens) AS output_tokens,
  SUM(cache_read_tokens) AS cache_read_tokens,
  SUM(cache_write_tokens) AS cache_write_tokens,
  SUM(cache_write_1h_tokens) AS cache_write_1h_tokens
FROM {{database}}.bedrock_invocation_usage
WHERE malformed = 1 OR (ts >= :since AND ts < :until)
GROUP BY 1, 2, 3, 4, 5
